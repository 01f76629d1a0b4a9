from datetime import datetime

import orjson

from schemas.events import EpisodeComplete, EpisodeStart, UserProfile
from streams.batch import (Message, classify, contract_topic, dlq_headers, episode_rows, fresh, raw_rows,
                           rejected_rows, spans, title_rows)
from streams.state import PartitionState

V = "drama.viewing"


def start(title: str, time: str = "2026-01-05T12:00:10Z", event_id: str = "e", user: str = "u") -> bytes:
    return orjson.dumps(EpisodeStart(event_id=event_id, event_time=time, app_id="a", user_id=user,
                                     title_id=title, episode=1, session_id="s", startup_ms=100).to_dict())


def run(messages, profiles=None):
    states = {}
    for m in messages:
        states.setdefault((m.topic, m.partition), PartitionState())
    return classify(messages, states, {} if profiles is None else profiles), states


def test_contract_topic_strips_only_its_own_namespace():
    assert contract_topic("t1.drama.viewing", "t1") == "drama.viewing"
    assert contract_topic("drama.viewing", "") == "drama.viewing"
    assert contract_topic("other.drama.viewing", "t1") == "other.drama.viewing"


def test_invalid_messages_get_their_reason_and_keep_their_bytes():
    out, _ = run([Message(V, 0, 1, b"u", start("a")), Message(V, 0, 2, None, b"\xff not json"),
                  Message("drama.ads", 1, 7, b"u", start("a", event_id="x"))])
    assert [v.message.offset for v in out.valid] == [1]
    assert [(i.message.offset, i.reason) for i in out.invalid] == [(2, "not_json"), (7, "wrong_topic")]
    assert rejected_rows(out.invalid)[0]["raw"] == "\ufffd not json"
    assert dict(dlq_headers(out.invalid[1]))["source_offset"] == b"7"
    row = raw_rows(out.valid)[0]
    assert (row["event_time"], row["event_time_us"], row["payload"]) == (datetime(2026, 1, 5, 12, 0, 10), 0,
                                                                          start("a").decode())


def test_a_resent_event_is_a_duplicate_but_a_replayed_message_is_not():
    out, states = run([Message(V, 0, 1, None, start("a", event_id="same")),
                       Message(V, 0, 5, None, start("a", event_id="same"))])
    assert [v.message.offset for v in out.valid] == [1] and [m.offset for m in out.duplicates] == [5]
    again = classify([Message(V, 0, 1, None, start("a", event_id="same"))], states, {})
    assert [v.message.offset for v in again.valid] == [1]          # the same offset read again


def test_an_event_more_than_an_hour_behind_its_partition_is_late_but_kept():
    out, _ = run([Message(V, 0, 1, None, start("a", "2026-01-05T14:00:00Z", "n")),
                  Message(V, 0, 2, None, start("a", "2026-01-05T13:00:00Z", "edge")),
                  Message(V, 0, 3, None, start("a", "2026-01-05T12:59:59.999Z", "old")),
                  Message(V, 1, 1, None, start("a", "2026-01-05T12:00:00Z", "other-partition"))])
    assert [(v.event["event_id"], v.late) for v in out.valid] == [
        ("n", False), ("edge", False), ("old", True), ("other-partition", False)]
    assert sum(r["episode_starts"] for r in title_rows(out.valid, spans(v.message for v in out.valid))) == 3


def test_segments_come_from_the_latest_profile_processed_before_the_event():
    profile = orjson.dumps(UserProfile(event_id="p", event_time="2026-01-05T12:00:00Z", app_id="a", user_id="u",
                                       gender="female", age_band="45-54", country="US").to_dict())
    out, _ = run([Message(V, 0, 1, None, start("a", event_id="before")), Message("drama.users", 0, 1, None, profile),
                  Message(V, 0, 2, None, start("a", event_id="after"))])
    assert [v.segment for v in out.valid if v.event["event_type"] == "episode_start"] == [
        ("unknown", "unknown", "ZZ"), ("female", "45-54", "US")]


def test_rows_are_stamped_with_the_batch_range_and_fresh_skips_what_a_table_holds():
    complete = orjson.dumps(EpisodeComplete(event_id="c", event_time="2026-01-05T12:00:00Z", app_id="a", user_id="u",
                                            title_id="a", episode=1, session_id="s", watch_s=61.5,
                                            rebuffer_ms=300).to_dict())
    messages = [Message(V, 0, 10, None, start("a", event_id="1")), Message(V, 0, 11, None, start("a", event_id="2")),
                Message(V, 0, 12, None, start("b", "2026-01-05T20:01:00+08:00", event_id="3")),
                Message(V, 1, 5, None, start("a", event_id="4")), Message(V, 0, 13, None, complete)]
    out, _ = run(messages)
    span = spans(messages)
    sums = {(r["src_partition"], r["window_start"].minute, r["title_id"]): r for r in title_rows(out.valid, span)
            if not r["user_id"]}
    assert {k: (r["episode_starts"], r["src_first_offset"], r["src_last_offset"]) for k, r in sums.items()} == {
        (0, 0, "a"): (2, 10, 13), (0, 1, "b"): (1, 10, 13), (1, 0, "a"): (1, 5, 5)}
    assert (sums[(0, 0, "a")]["watch_seconds"], sums[(0, 0, "a")]["episode_completes"]) == (61.5, 1)
    later = fresh(out.valid, {(V, 0): 11})
    assert [v.message.offset for v in later] == [12, 5, 13]
    assert sum(r["starts"] for r in episode_rows(later, span)) == 2


def test_ids_are_forgotten_an_hour_of_event_time_behind_the_newest():
    state = PartitionState()
    t0 = datetime(2026, 1, 5, 12, 0)
    from datetime import timedelta
    for n in range(180):                                   # one id a minute for three hours
        moment = t0 + timedelta(minutes=n)
        assert state.first_sighting(f"id-{n}", n, moment)
        state.advance(moment)
    remembered = sorted(int(i.split("-")[1]) for i in state.seen)
    assert remembered[0] >= 179 - 61 and remembered[-1] == 179    # about the last hour, nothing older
    assert not state.first_sighting("id-170", 999, t0)             # still a duplicate inside the hour
