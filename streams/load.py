"""`python -m streams.load FILE --namespace NS`: NDJSON events into a warehouse, through the worker's
own classification and writes, without Kafka.

    FILE (the simulator's --file format: topic, key, value) ──one partition per topic, offsets in
    file order──► Writer.prepare ──► Writer.finish ──► the namespace's database (migrated first)

What the forecast's evaluation uses to put a simulated slate into a warehouse of its own
(docs/forecast.md): the rows, rollups and titles are the ones the worker would have written
from the same events, read back by the same documented queries. Rejected events are counted,
not dead-lettered (there is no Kafka here); offsets are not committed anywhere. As in the worker,
every table is written only past its high-water marks: the same file loaded again writes nothing,
and another file with the same topics is cut at the first one's offsets (load into a fresh
database; `python -m forecast` drops it first).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time

import orjson
from aiokafka.structs import TopicPartition

from infra.settings import Settings, load
from schemas.topics import USERS
from streams.fetch import Fetches, Record
from streams.memory import Memory, Reads
from streams.writer import Writer, build_sinks
from warehouse.client import connect
from warehouse.migrate import migrate

BATCH = 20_000              # messages per batch, as a worker's fetch would hand them over


class CountedRejects:
    """drama.dlq's stand-in: rejected messages are counted (and the first kept for the summary)."""

    def __init__(self):
        self.count, self.first = 0, None

    async def send(self, key=None, value=None, headers=None):
        self.count += 1
        self.first = self.first or value[:200]
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class NoCommits:
    async def commit_written(self, offsets: dict) -> bool:
        return True


def records(lines, settings: Settings, offsets: dict[str, int] | None = None):
    """The file's messages as the consumer would hand them: (TopicPartition, Record), one partition per
    topic. `offsets`: each topic's next offset, carried from one file to the next (a load in parts)."""
    offsets = {} if offsets is None else offsets
    for line in lines:
        message = orjson.loads(line)
        topic = settings.topic(message["topic"])
        offset = offsets.get(topic, 0)
        offsets[topic] = offset + 1
        key = message["key"].encode() if message.get("key") else None
        value = message["value"].encode() if "value" in message else bytes.fromhex(message["value_hex"])
        yield TopicPartition(topic, 0), Record(topic, 0, offset, 0, 0, key, value, None,
                                               -1 if key is None else len(key), len(value), ())


async def load_file(path: str, settings: Settings, say=print, offsets: dict[str, int] | None = None) -> dict:
    """Write the file's events into the settings' database; what was written and rejected. Files loaded
    one after another into one database continue each other when they share `offsets`."""
    fetches = Fetches()
    rejects = CountedRejects()
    memory = Memory(Reads(lambda: connect(settings)), settings.namespace, settings.topic(USERS))
    writer = Writer(memory, build_sinks(settings), rejects, fetches, asyncio.Queue())
    started, messages = time.monotonic(), 0

    async def write(fetched: dict) -> None:
        fetches.busy += 1                     # what Fetches.take counts; Writer.finish counts it done
        batch = await writer.prepare(fetched, None)
        await writer.finish(batch, NoCommits())

    with open(path, "rb") as lines:
        fetched: dict = {}
        for tp, record in records(lines, settings, offsets):
            fetched.setdefault(tp, []).append(record)
            messages += 1
            if messages % BATCH == 0:
                await write(fetched)
                fetched = {}
                say(f"\rloaded {messages:,} messages, {messages / (time.monotonic() - started):,.0f}/s", end="")
        if fetched:
            await write(fetched)
    say(f"\rloaded {messages:,} messages into {settings.clickhouse_db} in {time.monotonic() - started:.1f}s; "
        f"{rejects.count} rejected")
    return {"messages": messages, "rejected": rejects.count, "first_rejected": rejects.first}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", help="NDJSON of messages (python -m simulator --file / slate --file)")
    p.add_argument("--namespace", required=True, help="the database drama_<namespace> (created and migrated)")
    args = p.parse_args(argv)
    settings = load(namespace=args.namespace)
    migrate(settings)
    result = asyncio.run(load_file(args.file, settings))
    return 1 if result["rejected"] else 0


if __name__ == "__main__":
    sys.exit(main())
