from datetime import datetime

import orjson

from schemas.events import EpisodeComplete, EpisodeStart
from streams.batch import (Message, contract_topic, dlq_headers, raw_rows, rejected_rows, sort_out,
                           title_start_rows)


def start(title: str, time: str = "2026-01-05T12:00:10Z", n: int = 0) -> bytes:
    return orjson.dumps(EpisodeStart(event_id=f"e{n}-{title}", event_time=time, app_id="a", user_id="u",
                                     title_id=title, episode=1, session_id="s", startup_ms=1).to_dict())


def test_contract_topic_strips_only_its_own_namespace():
    assert contract_topic("t1.drama.viewing", "t1") == "drama.viewing"
    assert contract_topic("drama.viewing", "") == "drama.viewing"
    assert contract_topic("other.drama.viewing", "t1") == "other.drama.viewing"


def test_sort_out_keeps_valid_events_and_gives_each_invalid_one_its_reason():
    messages = [Message("ns.drama.viewing", 0, 1, b"u", start("a")),
                Message("ns.drama.viewing", 0, 2, None, b"\xff not json"),
                Message("ns.drama.ads", 1, 7, b"u", start("a", n=1))]
    valid, invalid = sort_out(messages, "ns")
    assert [v.message.offset for v in valid] == [1]
    assert [(i.message.offset, i.reason) for i in invalid] == [(2, "not_json"), (7, "wrong_topic")]
    assert rejected_rows(invalid)[0]["raw"] == "\ufffd not json"
    assert dict(dlq_headers(invalid[1]))["source_offset"] == b"7"
    row = raw_rows(valid)[0]
    assert (row["event_time"], row["event_time_us"], row["payload"]) == (datetime(2026, 1, 5, 12, 0, 10), 0,
                                                                          start("a").decode())


def test_title_start_rows_count_per_partition_window_and_title_with_the_offset_range():
    complete = orjson.dumps(EpisodeComplete(event_id="c", event_time="2026-01-05T12:00:00Z", app_id="a", user_id="u",
                                            title_id="a", episode=1, session_id="s", watch_s=1, rebuffer_ms=0).to_dict())
    valid, _ = sort_out([Message("drama.viewing", 0, 10, None, start("a", n=1)), Message("drama.viewing", 0, 11, None, start("a", n=2)),
                         Message("drama.viewing", 0, 12, None, start("b", "2026-01-05T20:01:00+08:00")),
                         Message("drama.viewing", 1, 5, None, start("a")), Message("drama.viewing", 0, 13, None, complete)])
    got = {(r["src_partition"], r["window_start"].minute, r["title_id"]):
           (r["episode_starts"], r["src_first_offset"], r["src_last_offset"]) for r in title_start_rows(valid)}
    assert got == {(0, 0, "a"): (2, 10, 13), (0, 1, "b"): (1, 10, 13), (1, 0, "a"): (1, 5, 5)}
