"""streams/batch.py alone: classification (validate, de-duplicate, late, segment) and the columns
each table gets, without Kafka or ClickHouse."""
from datetime import datetime

import orjson

from schemas.events import EpisodeComplete, EpisodeStart, UserProfile
from streams.batch import (Message, classify, contract_topic, dlq_headers, episode_columns, raw_columns,
                           rejected_columns, title_columns)
from streams.state import PartitionMemory
from warehouse.payload import unpack
from warehouse.tables import TABLES

V = "drama.viewing"


def start(title: str, time: str = "2026-01-05T12:00:10Z", event_id: str = "e", user: str = "u") -> bytes:
    return orjson.dumps(EpisodeStart(event_id=event_id, event_time=time, app_id="a", user_id=user,
                                     title_id=title, episode=1, session_id="s", startup_ms=100).to_dict())


def rows(table: str, columns) -> list[dict]:
    return [dict(zip(TABLES[table].columns, row)) for row in zip(*columns)] if columns else []


def run(messages, profiles=None, memories=None, confirm=None):
    """Classify like the agent: per partition, profiles first. Returns parts and the memories."""
    memories = {} if memories is None else memories
    profiles = {} if profiles is None else profiles
    by_tp: dict = {}
    for m in messages:
        by_tp.setdefault((m.topic, m.partition), []).append(m)
    parts = [classify(t, p, by_tp[(t, p)], memories.setdefault((t, p), PartitionMemory()), profiles,
                      confirm=confirm or (lambda ids: set(ids)))
             for t, p in sorted(by_tp, key=lambda tp: (tp[0] != "drama.users", tp))]
    return parts, memories


def test_contract_topic_strips_only_its_own_namespace():
    assert contract_topic("t1.drama.viewing", "t1") == "drama.viewing"
    assert contract_topic("drama.viewing", "") == "drama.viewing"
    assert contract_topic("other.drama.viewing", "t1") == "other.drama.viewing"


def test_invalid_messages_get_their_reason_and_keep_their_bytes():
    parts, _ = run([Message(V, 0, 1, b"u", start("a")), Message(V, 0, 2, None, b"\xff not json"),
                    Message("drama.ads", 1, 7, b"u", start("a", event_id="x"))])
    assert [p.accepted for p in parts] == [[], [1]]
    invalid, columns = rejected_columns(parts, {})
    assert [(i.offset, i.reason) for i in invalid] == [(7, "wrong_topic"), (2, "not_json")]
    assert rows("events_rejected", columns)[1]["raw"] == "\ufffd not json"
    assert dict(dlq_headers(invalid[0]))["source_offset"] == b"7"
    row = rows("events_raw", raw_columns(parts, {}))[0]
    assert (row["event_time"], row["event_time_us"]) == (int(datetime(2026, 1, 5, 12, 0, 10).timestamp()), 0)
    read = start("a")       # stored packed (warehouse/payload.py), and whole again when unpacked
    assert unpack(row["payload_packed"], row["event_id"], orjson.loads(read)["event_time"], row["user_id"]) == read


def test_events_the_compiled_path_leaves_but_the_precise_one_accepts_give_the_same_rows(monkeypatch):
    from streams import batch
    profile = orjson.dumps(UserProfile(event_id="p", event_time="2026-01-05T12:00:00Z", app_id="a", user_id="u",
                                       gender="female", age_band="45-54", country="US").to_dict())
    messages = [Message("drama.users", 0, 1, None, profile), Message(V, 0, 1, None, start("a", event_id="1")),
                Message(V, 0, 2, None, start("a", "2026-01-05T12:00:10.5+01:00", event_id="2")),
                Message(V, 0, 3, None, start("a", event_id="1")), Message(V, 0, 4, None, b"{}")]
    fast, _ = run(messages)
    monkeypatch.setattr(batch, "accept_all", lambda values, topic, now=None: ([], [], []))   # all to the precise path
    precise, _ = run(messages)
    for build in (raw_columns, title_columns, episode_columns, batch.segment_columns):
        assert build(precise, {}) == build(fast, {})
    assert [p.duplicates for p in precise] == [[], [3]] and rejected_columns(precise, {}) == rejected_columns(fast, {})


def test_a_resent_event_is_a_duplicate_in_the_batch_and_in_the_next():
    parts, memories = run([Message(V, 0, 1, None, start("a", event_id="same")),
                           Message(V, 0, 5, None, start("a", event_id="same"))])
    assert parts[0].accepted == [1] and parts[0].duplicates == [5]
    again, _ = run([Message(V, 0, 6, None, start("a", event_id="same"))], memories=memories)
    assert again[0].accepted == [] and again[0].duplicates == [6]


def test_a_digest_match_that_events_raw_does_not_confirm_is_a_new_event():
    parts, memories = run([Message(V, 0, 1, None, start("a", event_id="first"))])
    asked = []
    again, _ = run([Message(V, 0, 2, None, start("a", event_id="first"))], memories=memories,
                   confirm=lambda ids: asked.extend(ids) or set())        # a collision: not in events_raw
    assert asked == ["first"] and again[0].accepted == [2] and again[0].duplicates == []


def test_an_event_more_than_an_hour_behind_its_partition_is_late_but_kept():
    parts, _ = run([Message(V, 0, 1, None, start("a", "2026-01-05T14:00:00Z", "n")),
                    Message(V, 0, 2, None, start("a", "2026-01-05T13:00:00Z", "edge")),
                    Message(V, 0, 3, None, start("a", "2026-01-05T12:59:59.999Z", "old")),
                    Message(V, 1, 1, None, start("a", "2026-01-05T12:00:00Z", "other-partition"))])
    assert [(e.event_id, late) for p in parts for e, late in zip(p.events, p.late)] == [
        ("n", False), ("edge", False), ("old", True), ("other-partition", False)]
    assert sum(r["episode_starts"] for r in rows("title_metrics_1m_parts", title_columns(parts, {}))) == 3


def test_segments_come_from_the_latest_profile_processed_before_the_event():
    profile = orjson.dumps(UserProfile(event_id="p", event_time="2026-01-05T12:00:00Z", app_id="a", user_id="u",
                                       gender="female", age_band="45-54", country="US").to_dict())
    profiles: dict = {}
    before, _ = run([Message(V, 0, 1, None, start("a", event_id="before"))], profiles)
    after, _ = run([Message("drama.users", 0, 1, None, profile), Message(V, 0, 2, None, start("a", event_id="after"))],
                   profiles)
    assert list(before[0].segments.values()) == [("unknown", "unknown", "ZZ")]
    assert list(after[1].segments.values()) == [("female", "45-54", "US")]     # profiles go first in a fetch


def test_rows_are_stamped_with_the_batch_range_and_a_mark_cuts_what_a_table_holds():
    complete = orjson.dumps(EpisodeComplete(event_id="c", event_time="2026-01-05T12:00:00Z", app_id="a", user_id="u",
                                            title_id="a", episode=1, session_id="s", watch_s=61.5,
                                            rebuffer_ms=300).to_dict())
    messages = [Message(V, 0, 10, None, start("a", event_id="1")), Message(V, 0, 11, None, start("a", event_id="2")),
                Message(V, 0, 12, None, start("b", "2026-01-05T20:01:00+08:00", event_id="3")),
                Message(V, 1, 5, None, start("a", event_id="4")), Message(V, 0, 13, None, complete)]
    parts, _ = run(messages)
    sums = {(r["src_partition"], r["window_start"] % 3600 // 60, r["title_id"]): r
            for r in rows("title_metrics_1m_parts", title_columns(parts, {})) if not r["user_id"]}
    assert {k: (r["episode_starts"], r["src_first_offset"], r["src_last_offset"]) for k, r in sums.items()} == {
        (0, 0, "a"): (2, 10, 13), (0, 1, "b"): (1, 10, 13), (1, 0, "a"): (1, 5, 5)}
    assert (sums[(0, 0, "a")]["watch_seconds"], sums[(0, 0, "a")]["episode_completes"]) == (61.5, 1)
    later = {(V, 0): 11}
    assert [r["offset"] for r in rows("events_raw", raw_columns(parts, later))] == [12, 13, 5]
    assert sum(r["starts"] for r in rows("episode_metrics_1m_parts", episode_columns(parts, later))) == 2
