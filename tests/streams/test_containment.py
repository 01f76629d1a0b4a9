"""One event never stops the others (events-v1, "Bad input": processing_error), without Kafka.

An event that passes every rule and still raises while its effect is computed is dead-lettered
alone: the partition's state does not move for it, the rest of its batch counts exactly once.
The exceptions are injected where a bug would raise: in classification and in a table's builder.
"""
from __future__ import annotations

import orjson
import pytest

from schemas.events import EpisodeStart, Like
from streams import batch
from streams.batch import Message, classify, isolate, title_columns
from streams.state import PartitionMemory
from warehouse.tables import TABLES

TOPIC = "drama.viewing"


def start(n: int, title: str = "t1", minute: int = 0) -> Message:
    event = EpisodeStart(event_id=f"e{n}", event_time=f"2026-01-05T12:{minute:02d}:{n % 60:02d}Z", app_id="a",
                         user_id=f"u{n}", title_id=title, episode=1, session_id="s", startup_ms=100 + n)
    return Message(TOPIC, 0, n, None, orjson.dumps(event.to_dict()))


def starts_by_title(columns) -> dict:
    if not columns:
        return {}
    at = TABLES["title_metrics_1m_parts"].columns
    out: dict = {}
    for row in zip(*columns):
        row = dict(zip(at, row))
        out[row["title_id"]] = out.get(row["title_id"], 0) + row["episode_starts"]
    return out


def state_of(memory: PartitionMemory) -> tuple:
    return memory.watermark, memory.cutoff, memory.table.used, memory.table.keys.tobytes()


def test_a_classification_that_raises_moves_no_partition_state(monkeypatch):
    memory, profiles = PartitionMemory(), {}
    classify(TOPIC, 0, [start(n) for n in range(5)], memory, profiles)
    before = state_of(memory)
    real, calls = batch.digests, []

    def digests(ids):
        calls.append(ids)
        if len(calls) == 2:                    # the second call: the ids to remember, after the watermark moved
            raise RuntimeError("injected: a bug while remembering ids")
        return real(ids)

    monkeypatch.setattr(batch, "digests", digests)
    ahead = start(7, minute=59)                # would move the watermark an hour ahead
    with pytest.raises(RuntimeError):
        classify(TOPIC, 0, [start(8), ahead], memory, profiles)
    assert len(calls) == 2 and state_of(memory) == before
    monkeypatch.setattr(batch, "digests", real)
    classify(TOPIC, 0, [start(8), ahead], memory, profiles, commit=False)      # a dry run changes nothing either
    assert state_of(memory) == before
    classify(TOPIC, 0, [start(8), ahead], memory, profiles)
    assert state_of(memory) != before


def test_an_event_whose_columns_raise_is_a_processing_error_and_the_rest_counts_once(monkeypatch):
    messages = [start(n, title="t1" if n % 2 else "t2") for n in range(10)]
    parts = [classify(TOPIC, 0, messages, PartitionMemory(), {})]
    expected = starts_by_title(title_columns([parts[0].subset([n for n in range(10) if n != 3])], {}))
    rule = batch._TITLE_RULES["episode_start"]

    class Poisoned:
        def __call__(self, event):
            if event.event_id == "e3":
                raise ZeroDivisionError("injected: a bug in one event's arithmetic")
            return event.startup_ms

    monkeypatch.setitem(batch._TITLE_RULES, "episode_start", (rule[0], ((rule[1][0][0], Poisoned()),)))
    with pytest.raises(ZeroDivisionError):
        title_columns(parts, {})
    cleaned = isolate(parts, lambda ps, marks: title_columns(ps, marks))
    assert [(i.offset, i.reason) for i in cleaned[0].invalid] == [(3, "processing_error")]
    assert cleaned[0].invalid[0].detail.startswith('ZeroDivisionError: "injected: a bug')
    assert cleaned[0].invalid[0].value == messages[3].value              # the original bytes, for replay
    assert starts_by_title(title_columns(cleaned, {})) == expected == {"t1": 4, "t2": 5}
    assert (cleaned[0].first, cleaned[0].last) == (0, 9)                 # the batch's stamp is unchanged


def test_the_worker_dead_letters_an_event_whose_classification_raises_and_counts_the_others(monkeypatch):
    """streams.memory's Memory: a message whose own classification raises is refused alone; its
    partition is classified as if it were not there."""
    from streams.memory import Memory

    real = batch.digests

    def digests(ids):
        if "e4" in ids:
            raise MemoryError("injected: one event too many")
        return real(ids)

    monkeypatch.setattr(batch, "digests", digests)
    memory = Memory(reads=None)
    memory.profiles = {}
    state = PartitionMemory()
    messages = [start(n) for n in range(8)] + [Message(TOPIC, 0, 8, None, orjson.dumps(Like(
        event_id="e8", event_time="2026-01-05T12:00:30Z", app_id="a", user_id="u", title_id="t1",
        episode=1).to_dict()))]
    part = memory.classify_partition(TOPIC, 0, messages, state, batch.utc_now())
    assert [(i.offset, i.reason) for i in part.invalid] == [(4, "processing_error"), (8, "wrong_topic")]
    assert part.accepted == [0, 1, 2, 3, 5, 6, 7] and (part.first, part.last) == (0, 8)
    assert starts_by_title(title_columns([part], {})) == {"t1": 7}
    assert state.watermark is not None                                   # the others moved the state


def test_a_batch_that_raises_only_together_is_dead_lettered_whole_with_its_error(monkeypatch):
    """No message raises alone, yet the partition's messages together do: every one is refused
    with the batch's error (none lost, none counted), and the worker goes on."""
    from streams.memory import Memory

    real = batch.digests

    def digests(ids):
        if len(ids) > 1:
            raise OverflowError("injected: too many at once")
        return real(ids)

    monkeypatch.setattr(batch, "digests", digests)
    memory = Memory(reads=None)
    memory.profiles = {}
    messages = [start(n) for n in range(4)]
    part = memory.classify_partition(TOPIC, 0, messages, PartitionMemory(), batch.utc_now())
    assert [(i.offset, i.reason) for i in part.invalid] == [(n, "processing_error") for n in range(4)]
    assert all(i.detail.startswith("OverflowError") and "too many at once" in i.detail for i in part.invalid)
    assert part.accepted == [] and (part.first, part.last) == (0, 3)


def test_a_dead_letter_is_cut_to_64_kib_and_says_so():
    big = batch.Invalid(TOPIC, 0, 1, None, b"x" * 200_000, "invalid_field", "the message is 200,000 bytes")
    assert len(batch.dlq_value(big)) == 64 * 1024
    assert ("truncated_from", b"200000") in batch.dlq_headers(big)
    assert len(batch.rejected_rows([big])[5][0]) == 64 * 1024


def test_rows_clickhouse_refused_name_the_events_they_count():
    messages = [start(n, title="t1" if n < 3 else "t2") for n in range(6)]
    parts = [classify(TOPIC, 0, messages, PartitionMemory(), {})]
    minute = parts[0].micros[0] // 60_000_000
    refused = batch.refused_events(parts, [
        ("events_raw", {"topic": TOPIC.encode(), "partition": 0, "offset": 1}, "Code: 53"),
        ("title_metrics_1m_parts", {"window_start": minute * 60, "title_id": "t2", "src_topic": TOPIC.encode(),
                                    "src_partition": 0}, "Code: 69"),
        ("pipeline_health_1m_parts", {"window_start": minute * 60, "src_topic": TOPIC.encode(), "src_partition": 0},
         "Code: 69")])
    assert sorted(i.offset for i in refused) == [1, 3, 4, 5]
    assert all(i.reason == "processing_error" and "refused a row of" in i.detail for i in refused)


def test_a_message_without_a_value_is_not_json_and_stops_nothing():
    messages = [start(0), Message(TOPIC, 0, 1, b"k", None), start(2)]
    part = classify(TOPIC, 0, messages, PartitionMemory(), {})
    assert part.accepted == [0, 2] and [(i.offset, i.reason) for i in part.invalid] == [(1, "not_json")]
    assert batch.dlq_value(part.invalid[0]) == b""
