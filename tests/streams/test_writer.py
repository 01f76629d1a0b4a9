"""streams/writer.py and streams/memory.py with fake sinks, a fake dead-letter topic, fake ClickHouse
reads and a fake consumer: what is committed, what is written, what is dead-lettered, without Kafka
or ClickHouse (in the spirit of Faust's Agent.test_context: the agent's dependencies handed in).

The fake sinks keep what they were given like a table would, and `FakeReads.restore` reads the
marks back from them like streams/state.restore_high_water reads ClickHouse, so a second worker
that replays a batch sees what the first one wrote.
"""
from __future__ import annotations

import asyncio
import time

import orjson
from faust.types import TP

from schemas.events import EpisodeStart
from streams.batch import Message
from streams.fetch import Fetches
from streams.memory import Memory
from streams.state import PartitionMemory
from streams.writer import Writer
from warehouse.tables import HIGH_WATER, TABLES

VIEWING = "drama.viewing"
TPV = TP(VIEWING, 0)


def start(n: int, title: str = "t1") -> Message:
    event = EpisodeStart(event_id=f"e{n}", event_time=f"2026-01-05T12:00:{n % 60:02d}Z", app_id="a",
                         user_id=f"u{n}", title_id=title, episode=1, session_id="s", startup_ms=100)
    return Message(VIEWING, 0, n, f"u{n}".encode(), orjson.dumps(event.to_dict()))


class FakeSink:
    """A table: keeps the rows of every write that succeeded. `fail()` true: the write raises (as
    a lost connection does); `refuse(row)` true: the row is left in `refused`, the others kept."""

    def __init__(self, table: str, log: list):
        self.table, self.columns, self.log = table, TABLES[table].columns, log
        self.rows: list[dict] = []
        self.refused: list = []
        self.fail = lambda: False
        self.refuse = lambda row: False
        self.slow = 0.0                         # seconds the next write takes (then back to none)

    def write(self, columns) -> int:
        if not columns or not columns[0]:
            return 0
        self.refused = []
        slow, self.slow = self.slow, 0.0
        time.sleep(slow)
        if self.fail():
            raise ConnectionError(f"injected: {self.table} is unreachable")
        rows = [dict(zip(self.columns, values)) for values in zip(*columns)]
        self.refused = [(row, "Code: 53. injected: type mismatch") for row in rows if self.refuse(row)]
        kept = [row for row in rows if not self.refuse(row)]
        self.rows += kept
        self.log.append(("write", self.table, len(kept)))
        return len(kept)

    def offsets(self) -> list:
        """The offsets of the rows, for tables whose rows carry their own message's place."""
        return sorted(row["offset"] for row in self.rows)


class FakeDeadLetters:
    def __init__(self, log: list):
        self.sent: list = []
        self.log = log

    async def send(self, key, value, headers):
        self.sent.append((key, value, dict(headers)))
        self.log.append(("dead letter", dict(headers)["source_offset"]))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)                  # Kafka's acknowledgement
        return done


class FakeConsumer:
    def __init__(self, log: list):
        self.commits: list = []
        self.log = log

    async def commit_written(self, offsets: dict) -> bool:
        self.commits.append(dict(offsets))
        self.log.append(("commit", dict(offsets)))
        return True


class FakeReads:
    """ClickHouse as the fake sinks hold it: marks are the largest offsets their rows carry; a
    partition's memory is rebuilt empty (what matters here is the marks, not de-duplication)."""

    def __init__(self, sinks: dict):
        self.sinks = sinks
        self.asked: list = []

    def restore(self, memory: Memory, missing: dict) -> None:
        if memory.profiles is None:
            memory.profiles = {}
        if memory.high_water is None or missing:
            memory.high_water = {}
            for table, (topic, partition, offset) in HIGH_WATER.items():
                marks = memory.high_water[table] = {}
                for row in self.sinks[table].rows:
                    place = (row[topic].decode() if isinstance(row[topic], bytes) else row[topic], row[partition])
                    marks[place] = max(marks.get(place, -1), row[offset])
        for tp, first in missing.items():
            memory.partitions[tp] = PartitionMemory()
            memory.partitions[tp].next_offset = first

    def held(self, topic: str, partition: int, ids: list) -> set:
        self.asked.append(list(ids))
        return set(ids)


def worker(sinks: dict | None = None, log: list | None = None):
    """A Memory and a Writer over fakes (the same sinks: the same ClickHouse), and its consumer."""
    log = [] if log is None else log
    sinks = sinks if sinks is not None else {table: FakeSink(table, log) for table in HIGH_WATER}
    memory = Memory(FakeReads(sinks))
    writer = Writer(memory, sinks, FakeDeadLetters(log), Fetches([VIEWING]), asyncio.Queue())
    return writer, FakeConsumer(log), sinks, log


async def run_batch(writer: Writer, consumer: FakeConsumer, messages: list) -> None:
    writer.fetches.busy += 1                    # as Fetches.take counts a batch taken
    await writer.finish(await writer.prepare({TPV: messages}, None), consumer)


def starts_counted(sink: FakeSink) -> int:
    return sum(row["episode_starts"] for row in sink.rows)


def test_a_batch_whose_one_table_write_fails_is_not_committed_until_it_is_written():
    writer, consumer, sinks, log = worker()
    down = [True]
    sinks["title_metrics_1m_parts"].fail = lambda: down[0]

    async def scenario():
        writer.fetches.busy += 1
        prepared = await writer.prepare({TPV: [start(n) for n in range(10)]}, None)
        finishing = asyncio.ensure_future(writer.finish(prepared, consumer))
        await asyncio.sleep(0.3)                # the first attempt failed; retried in 0.5 s
        assert not finishing.done()
        assert consumer.commits == [] and writer.fetches.busy == 1
        assert sinks["events_raw"].offsets() == list(range(10))      # stage 1 written, the batch is not done
        down[0] = False
        await asyncio.wait_for(finishing, 5)

    asyncio.run(scenario())
    assert consumer.commits == [{TPV: 10}] and writer.fetches.busy == 0
    assert starts_counted(sinks["title_metrics_1m_parts"]) == 10
    assert log[-1][0] == "commit" and ("write", "pipeline_health_1m_parts", 1) in log
    written = {entry[1] for entry in log if entry[0] == "write"}
    assert written == set(HIGH_WATER) - {"events_rejected", "title_events"}      # no rejects, no content events
    assert {table: writer.memory.high_water[table] for table in written} == {t: {(VIEWING, 0): 9} for t in written}


def test_a_worker_killed_mid_batch_commits_nothing_and_its_replay_writes_each_row_once():
    """kill -9 between stage 1 and stage 2; the next worker replays the batch from the last commit:
    the tables written before the kill get nothing twice, the others get everything once."""
    writer, consumer, sinks, log = worker()
    sinks["title_metrics_1m_parts"].fail = lambda: True
    messages = [start(n, title="t1" if n < 6 else "t2") for n in range(10)]

    async def killed():
        writer.fetches.busy += 1
        prepared = await writer.prepare({TPV: messages}, None)
        finishing = asyncio.ensure_future(writer.finish(prepared, consumer))
        await asyncio.sleep(0.2)
        finishing.cancel()                      # the worker is gone

    asyncio.run(killed())
    assert consumer.commits == []
    assert sinks["events_raw"].offsets() == list(range(10)) and sinks["title_metrics_1m_parts"].rows == []

    sinks["title_metrics_1m_parts"].fail = lambda: False
    again, consumer, _, _ = worker(sinks, log)          # a new worker, the same ClickHouse
    asyncio.run(run_batch(again, consumer, messages))
    asyncio.run(run_batch(again, consumer, messages))   # and a replay after a lost commit
    assert consumer.commits == [{TPV: 10}, {TPV: 10}]
    assert sinks["events_raw"].offsets() == list(range(10))
    assert starts_counted(sinks["title_metrics_1m_parts"]) == 10
    assert sum(row["starts"] for row in sinks["episode_metrics_1m_parts"].rows) == 10
    assert len(sinks["title_first_views_parts"].rows) == 2
    assert len(sinks["pipeline_health_1m_parts"].rows) == 1


def test_a_refused_row_goes_to_dead_letters_before_the_commit():
    writer, consumer, sinks, log = worker()
    sinks["events_raw"].refuse = lambda row: row["offset"] == 3
    asyncio.run(run_batch(writer, consumer, [start(n) for n in range(6)]))
    assert sinks["events_raw"].offsets() == [0, 1, 2, 4, 5]
    (key, value, headers), = writer.dead_letters.sent
    assert (key, value) == (None, start(3).value)
    assert (headers["source_offset"], headers["reason"]) == (b"3", b"processing_error")
    assert headers["detail"].startswith(b"RefusedRow: ")
    rejected, = sinks["events_rejected"].rows
    assert (rejected["offset"], rejected["reason"]) == (3, "processing_error")
    assert consumer.commits == [{TPV: 6}]
    order = [entry[0] for entry in log]
    assert order.index("dead letter") < order.index("commit")


def test_a_rejected_message_is_dead_lettered_before_anything_is_written_or_committed():
    writer, consumer, sinks, log = worker()
    messages = [start(0), Message(VIEWING, 0, 1, b"k", b"\xff not json"), start(2)]
    asyncio.run(run_batch(writer, consumer, messages))
    assert log[0] == ("dead letter", b"1")
    assert [(row["offset"], row["reason"]) for row in sinks["events_rejected"].rows] == [(1, "not_json")]
    assert sinks["events_raw"].offsets() == [0, 2] and consumer.commits == [{TPV: 3}]


def test_a_remembered_id_is_confirmed_by_the_previous_batch_before_clickhouse_is_asked():
    """The one question to ClickHouse comes in through Memory's reads: an id resent from the batch
    just written is confirmed from that batch; one from before it, by asking (FakeReads.held)."""
    writer, consumer, sinks, log = worker()
    asyncio.run(run_batch(writer, consumer, [start(n) for n in range(4)]))
    asyncio.run(run_batch(writer, consumer, [start(n) for n in range(4, 8)]))
    resent = [Message(VIEWING, 0, 8 + k, m.key, m.value) for k, m in enumerate([start(5), start(1)])]
    asyncio.run(run_batch(writer, consumer, resent))
    assert writer.memory.reads.asked == [["e1"]]                    # e5 was in the previous batch
    assert sinks["events_raw"].offsets() == list(range(8))         # neither written again
    assert consumer.commits[-1] == {TPV: 10}


def test_the_agent_writes_and_commits_fetches_in_order_under_fausts_test_context():
    """streams.ingest.ingest_events bound to fakes (as streams/__main__.py binds the real ones) and run
    by Faust's Agent.test_context(): the second fetch, prepared while the first is slowly written,
    is written and committed after it."""
    from functools import partial

    import faust

    from streams.ingest import ingest_events

    writer, consumer, sinks, log = worker()
    app = faust.App("test-ingest", broker="kafka://127.0.0.1:1", store="memory://", autodiscover=False)
    agent = app.agent(app.channel(), name="streams.ingest.ingest_events")(
        partial(ingest_events, writer.fetches, writer, lambda: consumer))

    async def scenario() -> int:
        async with agent.test_context():
            sinks["events_raw"].slow = 0.3
            await writer.fetches.put({TPV: [start(n) for n in range(5)]}, writer.fetches.epoch)
            for _ in range(100):                # taken: the next fetch is a batch of its own
                if writer.fetches.busy:
                    break
                await asyncio.sleep(0.01)
            await writer.fetches.put({TPV: [start(n) for n in range(5, 8)]}, writer.fetches.epoch)
            for _ in range(100):
                if consumer.commits[-1:] == [{TPV: 8}] and not writer.fetches.busy:
                    break
                await asyncio.sleep(0.05)
            stuck, writer.fetches.busy = writer.fetches.busy, 0    # else the agent's stop would os._exit the tests
        return stuck

    assert asyncio.run(scenario()) == 0
    assert consumer.commits == [{TPV: 5}, {TPV: 8}]
    assert sinks["events_raw"].offsets() == list(range(8))
