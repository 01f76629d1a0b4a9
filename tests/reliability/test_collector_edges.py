"""The HTTP collector at its edges, on the real services: under overload it answers 429 with
Retry-After and loses nothing it acknowledged, its memory stays bounded; hostile requests (huge or
deeply nested bodies, non-UTF-8, duplicate keys, a slow drip) are refused within limits with a 4xx;
and fuzzed bodies never get a 5xx, every rejected event carrying its reason: bodies made of the
validator's edge messages (hypothesis), and requests that schemathesis makes from
collector/openapi.yaml, each answer checked against that description."""
from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemathesis.config import SchemathesisConfig

from infra import services
from infra.settings import ROOT, load
from schemas.topics import VIEWING
from tests.conftest import free_port, read_topic
from tests.reliability.ledger import Verdict, memory_mib
from tests.schemas.strategies import edge_messages

POSTS, PER_POST, CONCURRENT = 240, 50, 24


def start_event(n: int, run: str) -> dict:
    return {"event_id": f"{run}-{n}", "event_type": "episode_start", "event_time": "2026-01-05T12:00:00.5Z",
            "app_id": "app", "user_id": f"u{n % 50}", "title_id": "t-http", "schema_version": 1, "episode": 1,
            "session_id": "s", "startup_ms": 300}


def test_overload_is_refused_with_retry_after_and_nothing_acknowledged_is_lost(collector_for, run_id):
    url = collector_for(collector_max_in_flight=300)
    settings, service = collector_for.settings, collector_for.services[-1]
    before = memory_mib(service.pid()) * 1024

    def post(n: int):
        events = [start_event(n * PER_POST + k, run_id) for k in range(PER_POST)]
        for attempt in range(200):
            response = requests.post(f"{url}/v1/events", json=events, timeout=60)
            if response.status_code in (429, 503):
                assert int(response.headers["Retry-After"]) >= 1
                time.sleep(0.05 * (attempt + 1) ** 0.5)          # a client that backs off, not for Retry-After seconds
                continue
            assert response.status_code == 200, response.text
            return [r["event_id"] for r in response.json()["results"] if r["status"] == "accepted"], attempt
        raise AssertionError("never accepted")

    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        outcomes = list(pool.map(post, range(POSTS)))
    seconds = time.monotonic() - started
    acknowledged = [e for ids, _ in outcomes for e in ids]
    refused = sum(attempts for _, attempts in outcomes)
    after = memory_mib(service.pid()) * 1024
    in_kafka = {orjson.loads(m.value)["event_id"] for m in read_topic(settings, VIEWING)}
    lost = set(acknowledged) - in_kafka
    result = Verdict("collector_overload", produced=POSTS * PER_POST, acknowledged=len(acknowledged),
                     accepted=len(in_kafka), lost=len(lost),
                     notes={"refused_with_429_or_503": refused, "seconds": round(seconds, 1),
                            "events_per_s": round(len(acknowledged) / seconds), "rss_kib_before": before,
                            "rss_kib_after": after, "max_in_flight": 300, "concurrent_clients": CONCURRENT})
    result.save()
    assert refused > 0, "the collector was never at capacity: the test proved nothing"
    assert len(acknowledged) == POSTS * PER_POST and lost == set()
    assert after - before < 150_000, f"memory grew by {after - before} KiB"


def test_hostile_requests_are_refused_within_limits(collector_for, run_id):
    url = collector_for(collector_body_timeout_s=3)
    good = orjson.dumps(start_event(1, run_id))
    nested = b'{"event_id":"n","x":' + b"[" * 5000 + b"]" * 5000 + b"}"
    cases = [
        ("a body over 1 MiB", dict(data=b"[" + b"1," * 600_000 + b"1]", headers={"Content-Type": "application/json"}),
         413),
        ("an array nested 100,000 deep", dict(data=b"[" * 100_000 + b"]" * 100_000,
                                              headers={"Content-Type": "application/json"}), (400, 413)),
        ("non-UTF-8 in an array", dict(data=b'[{"event_id": "\xff\xfe"}]',
                                       headers={"Content-Type": "application/json"}), 400),
    ]
    for name, kwargs, status in cases:
        response = requests.post(f"{url}/v1/events", timeout=30, **kwargs)
        assert response.status_code in ((status,) if isinstance(status, int) else status), (name, response.text)
        assert response.json()["error"], name
    # per line in NDJSON: each bad line gets its reason, the good one beside it is accepted
    duplicate_keys = good[:-1] + b',"episode":2,"episode":3}'
    body = b"\n".join([b'{"event_id": "\xff"}', nested, duplicate_keys, good])
    response = requests.post(f"{url}/v1/events", data=body, timeout=30,
                             headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    outcomes = [(r["status"], r.get("reason")) for r in response.json()["results"]]
    assert outcomes[:2] == [("rejected", "not_json"), ("rejected", "not_json")]
    assert outcomes[2:] == [("accepted", None), ("accepted", None)]    # duplicate keys: the last counts, as on Kafka

    # a slow drip: headers, then a byte a second; answered 408 within the body timeout, not held open
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=15) as s:
        s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n[")
        started, answer = time.monotonic(), b""
        s.settimeout(1.0)
        while time.monotonic() - started < 12 and not answer:
            try:
                answer = s.recv(4096)
            except TimeoutError:
                s.sendall(b" ")
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - started < 6


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(edge_messages(), min_size=1, max_size=4), st.sampled_from(["application/x-ndjson", "application/json"]))
def test_fuzzed_bodies_never_get_a_5xx_and_every_rejection_has_its_reason(fuzz_collector, values, content_type):
    url = fuzz_collector
    if content_type == "application/json":
        body = b"[" + b",".join(values) + b"]"
    else:
        body = b"\n".join(v.replace(b"\n", b"") for v in values)
    response = requests.post(f"{url}/v1/events", data=body, headers={"Content-Type": content_type}, timeout=60)
    assert response.status_code < 500, response.text[:500]
    if response.status_code == 200:
        for result in response.json()["results"]:
            assert result["status"] in ("accepted", "rejected"), result
            if result["status"] == "rejected":
                assert result["reason"] and result["detail"] and len(result["detail"]) < 400, result
    else:
        assert response.status_code in (400, 413) and response.json()["error"]
    json.dumps(response.json())


@pytest.fixture(scope="module")
def fuzz_collector(stack):
    s = load(namespace="fuzzcollector", collector_port=free_port())
    from launcher import bring_up
    from tests.conftest import drop_namespace
    bring_up(s, stack=(), report=lambda _: None)
    service = services.Collector(s)
    service.up()
    try:
        yield f"http://127.0.0.1:{s.collector_port}"
    finally:
        service.down()
        drop_namespace(s)


# --- schemathesis: requests generated from collector/openapi.yaml, every answer checked against it ----------
# A request the description forbids must get a 4xx; 413 is the collector's documented answer to one
# with over 1000 events, which schemathesis's default list of rejections lacks.
OPENAPI = schemathesis.openapi.from_path(ROOT / "collector" / "openapi.yaml", config=SchemathesisConfig.from_str("""
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
"""))


@OPENAPI.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_collector_answers_as_its_openapi_description_says(fuzz_collector, case):
    """Valid and invalid requests from the description: never a 5xx, every status, header and body
    as documented (schemathesis's checks), and a reason on every rejected event."""
    response = case.call_and_validate(base_url=fuzz_collector, timeout=60)
    if response.status_code == 200 and case.path == "/v1/events":
        for result in response.json()["results"]:
            assert result["status"] != "rejected" or (result["reason"] and result["detail"]), result
