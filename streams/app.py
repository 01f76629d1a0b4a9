"""The Faust app every agent registers on. Settings come from infra/settings.py."""
import faust

from infra.settings import load

SETTINGS = load()

app = faust.App(
    f"drama-loop{'-' + SETTINGS.namespace if SETTINGS.namespace else ''}",
    broker=f"kafka://{SETTINGS.kafka_bootstrap}",
    store="memory://",
    autodiscover=False,
    topic_partitions=SETTINGS.topic_partitions,
    topic_replication_factor=1,
    consumer_auto_offset_reset="earliest",
    web_host="127.0.0.1",
    web_port=SETTINGS.worker_web_port,
    web_tables_enabled=False,
    # A worker that died (kill -9) holds its partitions until its session times out: keep that short.
    broker_session_timeout=10.0,
    broker_heartbeat_interval=2.0,
    # Fewer, larger hand-overs from the consumer: per-message overhead is Faust's main cost.
    broker_max_poll_records=5000,
    stream_buffer_maxsize=20000,
    web_router_enabled=False,
)
