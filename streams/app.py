"""The Faust app every agent registers on. Settings come from infra/settings.py.

Its consumer is Faust's own with one change (streams/fetch.py): the input topics' fetches go
whole to FETCHES, which `ingest_events` reads, instead of one Event per message.
"""
import gc
import time

import faust
from faust.web import drivers as web_drivers

from infra.settings import load
from schemas.topics import INPUT_TOPICS
from streams.fetch import Fetches, batch_transport
from streams.progress import progress

GC_EVERY_S = 30.0     # the worker runs without automatic garbage collection: cycles are freed this often
SETTINGS = load()
FETCHES = Fetches((SETTINGS.topic(name) for name in INPUT_TOPICS), stop_after=SETTINGS.fault_stop_fetching_after)
SETTINGS.faust_app_dir.parent.mkdir(parents=True, exist_ok=True)   # Faust makes only the last level

class WorkerApp(faust.App):
    """Faust's App serving none of Faust's own web pages (its index, router, tables, stats, graph):
    the worker's web server answers /health (streams/ingest.py) and nothing else."""

    def _new_web(self):
        driver = web_drivers.by_url(self.conf.web)
        health_only = type("HealthOnlyWeb", (driver,), {"default_blueprints": [], "production_blueprints": [],
                                                        "debug_blueprints": [], "optional_blueprints": []})
        return health_only(self)


app = WorkerApp(
    SETTINGS.faust_app_id,
    broker=SETTINGS.faust_broker,
    store="memory://",
    datadir=str(SETTINGS.faust_app_dir),
    autodiscover=False,
    topic_partitions=SETTINGS.topic_partitions,
    topic_replication_factor=SETTINGS.topic_replicas,
    producer_acks=-1,                       # all in-sync replicas (2 of 3 on the cluster)
    consumer_auto_offset_reset="earliest",
    web_host="127.0.0.1",
    web_bind=SETTINGS.worker_web_bind,      # Faust's default is every interface
    web_port=SETTINGS.worker_web_port,
    web_tables_enabled=False,
    # A worker that died (kill -9) holds its partitions until its session times out: keep that short.
    broker_session_timeout=10.0,
    broker_heartbeat_interval=2.0,
    # Whole fetches of up to this many records go to the agent (streams/fetch.py).
    broker_max_poll_records=20_000,
    consumer_max_fetch_size=16 * 1024 * 1024,
    web_router_enabled=False,
)
app.transport = batch_transport(FETCHES)(app.conf.broker_consumer, app)


@app.timer(GC_EVERY_S)
async def collect_garbage() -> None:
    """Free reference cycles. `python -m streams` turns automatic collection off: with it on, the
    collector walks every batch's objects (about ten per message) over and over and takes a
    tenth of the worker's time; everything that is not a cycle is freed at once anyway."""
    if gc.isenabled():
        return
    started = time.monotonic()
    gc.collect()
    progress.spent(collecting_garbage=time.monotonic() - started)
