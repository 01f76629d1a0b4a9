"""`python -m streams worker`: the Faust worker with every agent of the platform loaded.

Where the worker starts, and so where what the ingest agent writes to is built and handed in
(streams/ingest.py `install`): its ClickHouse reads and sinks, the dead-letter topic, the feedback queue.
"""
from schemas.topics import DLQ, USERS
from streams import forecasts, ingest  # noqa: F401 - importing forecasts registers score_new_titles
from streams.app import FETCHES, SETTINGS, app
from streams.memory import Memory, Reads, ShardedReads
from streams.trends import FEEDBACK  # (importing it registers detect_surges)
from streams.writer import Writer, build_sinks
from warehouse.client import connect


def install() -> None:
    """Build the ingest agent's dependencies from SETTINGS and register it on `app`."""
    reads = ShardedReads(SETTINGS) if SETTINGS.cluster else Reads(lambda: connect(SETTINGS))
    memory = Memory(reads, SETTINGS.namespace, SETTINGS.topic(USERS))
    dead_letters = app.topic(SETTINGS.topic(DLQ), key_type=bytes, value_type=bytes, value_serializer="raw")
    writer = Writer(memory, build_sinks(SETTINGS), dead_letters, FETCHES, FEEDBACK, pause_s=SETTINGS.fault_pause_s)
    ingest.install(app, SETTINGS, FETCHES, memory, writer)


if __name__ == "__main__":
    import gc

    from streams.fetch import build_plain_records
    install()
    build_plain_records()
    gc.freeze()      # the modules loaded so far are never collected
    gc.disable()     # a batch allocates ~10 objects per message; cycles are collected on a timer (streams/app.py)
    app.main()
