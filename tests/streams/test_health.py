"""The worker's /health tells the truth (streams/progress.py): ok while batches finish, retrying
with the reason while a ClickHouse call is retried, stalled (HTTP 503) once messages have waited
30 s without a batch finishing, in flight or as lag in Kafka (a consumer that stopped fetching);
the same for the leader's hit forecast (retrying while its check fails, stalled once it has not
moved for 30 s); `make status` says the same."""
from __future__ import annotations

import json
import time
import urllib.error
from datetime import datetime
import urllib.request

import orjson

from streams.progress import Progress
from tests.conftest import free_port, wait_for
from tests.reliability.ledger import Sender
from warehouse.client import connect


def health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_progress_is_stalled_only_with_messages_in_flight_and_no_batch_for_a_while():
    progress = Progress(stalled_after_s=0.2)
    time.sleep(0.3)
    assert progress.status() == "ok"                      # idle for long is not stalled
    progress.in_flight += 10
    assert progress.status() == "ok"                      # the stall clock starts when work arrives
    progress.retrying = "writing 10 rows to events_raw: Connection refused"
    assert progress.status() == "retrying"
    time.sleep(0.3)
    assert progress.status() == "stalled" and progress.as_dict()["stalled_for_s"] >= 0.2
    progress.retrying = ""
    progress.batch_done(10)
    assert progress.status() == "ok" and progress.in_flight == 0


def test_lag_with_nothing_in_flight_is_work_waiting_and_kafka_silent_is_not_ok():
    progress = Progress(stalled_after_s=0.2)
    progress.lag_measured(0)
    time.sleep(0.3)
    assert progress.status() == "ok"                      # caught up and idle
    progress.lag_measured(500)                            # the topics grow, nothing is fetched
    assert progress.status() == "ok" and progress.in_flight == 0
    time.sleep(0.3)
    assert progress.status() == "stalled" and progress.as_dict()["lag"] == 500
    progress.batch_done(0)
    progress.lag_measured(0)
    assert progress.status() == "ok"
    progress.lag_failed("reading Kafka's end offsets: KafkaConnectionError")
    assert progress.status() == "retrying" and "Kafka" in progress.as_dict()["retrying"]
    time.sleep(0.3)
    assert progress.status() == "stalled"
    progress.lag_measured(0)
    assert progress.status() == "ok"


def test_a_hit_forecast_that_never_moves_or_fails_is_not_ok_but_a_worker_that_is_not_its_leader_is():
    progress = Progress(stalled_after_s=0.2)
    time.sleep(0.3)
    assert progress.status() == "ok"                      # no scorer in this process
    progress.forecast_starting()                          # the worker's scorer: its first check never ends
    assert progress.status() == "ok"
    time.sleep(0.3)
    assert progress.status() == "stalled" and progress.as_dict()["forecast"]["stalled_for_s"] >= 0.2
    progress.forecast_moved(datetime(2026, 1, 5, 12, 10))
    assert progress.status() == "ok" and progress.as_dict()["forecast"]["scored_to"] == "2026-01-05T12:10:00"
    progress.forecast_failed("ServerException: Table title_forecasts_log doesn't exist")
    assert progress.status() == "retrying" and "hit forecast: ServerException" in progress.as_dict()["retrying"]
    time.sleep(0.3)
    assert progress.status() == "stalled"                 # a check that keeps failing
    progress.forecast_moved()
    assert progress.status() == "ok"
    progress.forecast_elsewhere()                         # another worker leads: it scores, not this one
    time.sleep(0.3)
    assert progress.status() == "ok"


def test_a_consumer_that_stops_fetching_while_its_topics_grow_is_stalled(pipeline, run_id):
    """Nothing in flight, every batch written: only Kafka's end offsets show that nothing moves."""
    settings = pipeline(fault_stop_fetching_after=1)      # the consumer hangs after its first fetch
    sender = Sender(settings)

    def like(n: int) -> bytes:
        return orjson.dumps({"event_id": f"{run_id}-{n}", "event_type": "like", "event_time": "2026-01-05T12:00:00Z",
                             "app_id": "a", "user_id": "u", "title_id": "t", "schema_version": 1, "episode": 1})

    sender.send("drama.engagement", "u", like(0))
    sender.flush()
    assert wait_for(lambda: health(settings.worker_web_port)[1]["batches"], 1, timeout=60, interval=0.5) == 1
    for n in range(1, 21):
        sender.send("drama.engagement", "u", like(n))
    sender.flush()
    assert wait_for(lambda: health(settings.worker_web_port)[1]["lag"], 20, timeout=30, interval=0.5) == 20
    code, body = health(settings.worker_web_port)
    assert code == 200 and body["status"] == "ok" and body["in_flight"] == 0   # not yet 30 s
    assert wait_for(lambda: health(settings.worker_web_port)[0], 503, timeout=60, interval=1) == 503
    code, body = health(settings.worker_web_port)
    assert body["status"] == "stalled" and body["in_flight"] == 0 and body["lag"] == 20, body
    worker = pipeline.workers[0]
    assert "STALLED" in worker.status() and "lag 20" in worker.status(), worker.status()


def test_a_worker_that_cannot_reach_clickhouse_says_retrying_then_stalled_with_503(pipeline, run_id):
    settings = pipeline(clickhouse_port=free_port())      # nothing listens there
    assert health(settings.worker_web_port)[0] == 200
    sender = Sender(settings)
    event = {"event_id": f"{run_id}-1", "event_type": "like", "event_time": "2026-01-05T12:00:00Z", "app_id": "a",
             "user_id": "u", "title_id": "t", "schema_version": 1, "episode": 1}
    sender.send("drama.engagement", "u", orjson.dumps(event))
    sender.flush()
    status = lambda: health(settings.worker_web_port)[1]["status"]  # noqa: E731
    assert wait_for(status, "retrying", timeout=30, interval=0.3) == "retrying"
    code, body = health(settings.worker_web_port)
    assert code == 200 and "ClickHouse" in body["retrying"] and body["in_flight"] == 1
    assert wait_for(status, "stalled", timeout=60, interval=1) == "stalled"    # the forecast cannot move either
    ingest_stalled = lambda: health(settings.worker_web_port)[1]["stalled_for_s"] >= 30  # noqa: E731
    assert wait_for(ingest_stalled, True, timeout=60, interval=1)
    code, body = health(settings.worker_web_port)
    assert code == 503 and body["in_flight"] == 1 and body["stalled_for_s"] >= 30
    worker = pipeline.workers[0]
    assert not worker.healthy()
    assert "STALLED" in worker.status() and "no batch finished for" in worker.status(), worker.status()


def test_a_hit_forecast_that_keeps_failing_says_retrying_then_stalled_with_503_and_recovers(pipeline, run_id):
    """The leader's scorer cannot read title_forecasts_log (renamed away): ingest goes on, /health does not
    say ok. Once the table is back, the scorer moves again and so does /health."""
    settings = pipeline(forecast_check_s=1)
    port = settings.worker_web_port
    assert wait_for(lambda: health(port)[1]["forecast"]["role"], "scoring", timeout=90, interval=0.5) == "scoring"
    client = connect(settings)
    client.execute("RENAME TABLE title_forecasts_log TO title_forecasts_log_away")
    sender = Sender(settings)
    like = {"event_id": f"{run_id}-1", "event_type": "like", "event_time": "2026-01-05T12:00:00Z", "app_id": "a",
            "user_id": "u", "title_id": "t", "schema_version": 1, "episode": 1}
    sender.send("drama.engagement", "u", orjson.dumps(like))      # the clock moves: a moment is due
    sender.flush()
    status = lambda: health(port)[1]["status"]  # noqa: E731
    assert wait_for(status, "retrying", timeout=60, interval=0.3) == "retrying"
    code, body = health(port)
    assert code == 200 and "hit forecast" in body["retrying"] and "title_forecasts_log" in body["retrying"], body
    assert body["batches"] >= 1 and body["in_flight"] == 0                # ingest itself moved
    assert wait_for(status, "stalled", timeout=60, interval=1) == "stalled"
    code, body = health(port)
    assert code == 503 and body["forecast"]["stalled_for_s"] >= 30 and body["stalled_for_s"] == 0, body
    worker = pipeline.workers[0]
    assert "STALLED" in worker.status() and "the hit forecast has not moved" in worker.status(), worker.status()
    client.execute("RENAME TABLE title_forecasts_log_away TO title_forecasts_log")
    assert wait_for(lambda: health(port)[0], 200, timeout=30, interval=0.5) == 200
    assert health(port)[1]["status"] == "ok"
    client.disconnect()
