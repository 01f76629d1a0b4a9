from datetime import datetime

import orjson

from streams.title_starts import count_starts, minute_of


def test_minute_of_converts_every_zone_to_the_utc_minute():
    assert minute_of("2026-01-05T12:00:59.999999Z") == datetime(2026, 1, 5, 12, 0)
    assert minute_of("2026-01-05T20:01:00.000+08:00") == datetime(2026, 1, 5, 12, 1)
    assert minute_of("2026-01-05T06:59:30-05:00") == datetime(2026, 1, 5, 11, 59)


def start(title: str, time: str = "2026-01-05T12:00:10Z", event_type: str = "episode_start") -> bytes:
    return orjson.dumps({"event_type": event_type, "event_time": time, "title_id": title})


def test_count_starts_groups_by_partition_window_and_title_and_keeps_the_offset_range():
    rows = count_starts([("v", 0, 10, start("a")), ("v", 0, 11, start("a")), ("v", 0, 12, start("b")),
                         ("v", 1, 5, start("a")), ("v", 0, 13, start("a", event_type="episode_exit")),
                         ("v", 0, 14, b"not json")])
    got = {(r["src_partition"], r["title_id"]): (r["episode_starts"], r["src_first_offset"], r["src_last_offset"])
           for r in rows}
    assert got == {(0, "a"): (2, 10, 14), (0, "b"): (1, 10, 14), (1, "a"): (1, 5, 5)}
