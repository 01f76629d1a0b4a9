"""Every input topic → validate, de-duplicate, window → the loop's metrics in ClickHouse.

    drama.content … drama.users ──whole fetches (streams/fetch.py), ≤ BATCH_MAX──► ingest_events
        ├─ rejected ──► drama.dlq (original bytes + source headers), events_rejected
        └─ accepted ──► events_raw, title_events, title_metrics_1m_parts, episode_metrics_1m_parts,
                        segment_metrics_1m_parts, title_first_views_parts   (+ pipeline_health_1m_parts)
                   └──► feedback per (title, minute) ──► streams/trends.py

At least once in, exactly once out: every table is written only past its own high-water mark
(the last offset it holds per topic-partition), so a replayed message is never written twice;
a batch's offsets are committed only after all its writes succeeded. See streams/README.md.

This module is the loop and its place in the app: `install` registers the agent, /health, the lag
timer and the revocation handler on an app, each handed what it uses (Faust's examples/bound_agent.py):
the worker's state (streams/memory.py) and the batch's I/O (streams/writer.py) are built where the
worker starts (streams/__main__.py), not at import time.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from functools import partial

from schemas.topics import INPUT_TOPICS
from streams.fetch import Fetches
from streams.memory import Memory
from streams.progress import progress
from streams.writer import Writer

BATCH_MAX = 50_000          # records taken at most per batch (several fetches merged)
LAG_EVERY_S = 5.0           # how often Kafka's end offsets are compared with the group's commits
LAG_TIMEOUT_S = 10.0        # an answer later than this counts as none
AGENT_FAILED = 70           # the worker's exit status when its agent failed (EX_SOFTWARE)
log = logging.getLogger(__name__)


def install(app, settings, fetches: Fetches, memory: Memory, writer: Writer) -> None:
    """Register on `app` the agent `ingest_events` over every input topic, GET /health, the lag
    timer and the revocation handler, bound to these."""
    input_topics = app.topic(*[settings.topic(name) for name in INPUT_TOPICS],
                             key_type=bytes, value_type=bytes, value_serializer="raw")
    app.agent(input_topics, name=f"{__name__}.ingest_events")(
        partial(ingest_events, fetches, writer, lambda: app.consumer))
    app.timer(LAG_EVERY_S, name=f"{__name__}.measure_lag")(partial(measure_lag, app, fetches))
    app.on_partitions_revoked.connect(partial(forget_revoked, fetches, memory))

    @app.page("/health")
    async def health(web, request):
        """Liveness beyond the open port: batches done, the batch in flight, what is being retried.
        HTTP 503 when stalled: messages in flight and no batch finished for 30 s."""
        state = progress.as_dict()
        state["dedup_bytes"] = sum(p.nbytes() for p in list(memory.partitions.values()))   # the soak watches it
        return web.json(state, status=503 if state["status"] == "stalled" else 200)


async def measure_lag(app, fetches: Fetches) -> None:
    """Kafka's end offsets against the group's commits, over this worker's input partitions, for
    /health: a consumer that stopped fetching while its topics grow has nothing in flight, and
    would look idle without this. Asked of Kafka itself, not of the fetches the consumer made."""
    consumer = app.consumer
    assigned = [tp for tp in consumer.assignment() if tp.topic in fetches.topics]
    committed = {tp: consumer._committed_offset.get(tp) for tp in assigned}   # Faust's record of the commits
    never = [tp for tp, offset in committed.items() if offset is None]
    try:
        ends = await asyncio.wait_for(consumer.highwaters(*assigned), LAG_TIMEOUT_S) if assigned else {}
        firsts = await asyncio.wait_for(consumer.earliest_offsets(*never), LAG_TIMEOUT_S) if never else {}
    except Exception as error:  # noqa: BLE001 - shown on /health, asked again next time
        progress.lag_failed(f"reading Kafka's end offsets: {type(error).__name__}: {error}")
        return
    progress.lag_measured(sum(max(0, ends.get(tp, 0) - (offset if offset is not None else firsts.get(tp, 0)))
                              for tp, offset in committed.items()))


async def forget_revoked(fetches: Fetches, memory: Memory, app, revoked, **kwargs) -> None:  # noqa: ARG001
    """Inside Faust's revocation: void queued fetches and let the batch in progress finish
    writing before the group moves on (streams/fetch.py)."""
    await fetches.revoke()
    memory.forget(revoked)
    log.info("revoked %d partition(s); queued fetches voided, the batches in flight written", len(revoked))


async def ingest_events(fetches: Fetches, writer: Writer, consumer_of, stream):  # noqa: ARG001
    """Batches in a two-step pipeline: while one batch is written (I/O, mostly waiting on
    ClickHouse), the next is classified. Writes and commits stay in fetch order. (The stream
    subscribes the topics; fetches come whole, through `fetches`.)"""
    consumer = consumer_of()
    writing: asyncio.Future | None = None
    clock = time.monotonic
    try:
        while True:
            started = clock()
            fetched = await fetches.take(BATCH_MAX)
            taken = clock()
            progress.in_flight += sum(map(len, fetched.values()))
            batch = await writer.prepare(fetched, writing)
            prepared = clock()
            if writing is not None:
                await writing
            progress.spent(waiting_for_fetches=taken - started, preparing=prepared - taken,
                           waiting_for_writes=clock() - prepared)
            writing = asyncio.ensure_future(writer.finish(batch, consumer))
    except asyncio.CancelledError:
        if fetches.busy:
            # Stopped in the middle of a batch (e.g. during a ClickHouse outage): leave as a
            # kill -9 would; what is not written is not committed, the next start replays it.
            log.warning("stopped with %d batch(es) in flight; exiting without committing them", fetches.busy)
            logging.shutdown()
            os._exit(3)
        raise
    except BaseException:
        # Never let Faust's supervisor restart the agent: the next batch's commit would move past
        # this one, which is not written. Exit instead; the launcher restarts the worker, which
        # resumes from the last commit (what one event's own failure cannot cause: it is contained).
        log.critical("the agent failed; the worker exits without committing the batch in flight", exc_info=True)
        logging.shutdown()
        os._exit(AGENT_FAILED)
