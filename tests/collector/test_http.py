"""The HTTP collector over real HTTP, against the real stack (and against a Kafka that is down)."""
from __future__ import annotations

import orjson
import requests
import yaml

from schemas.events import EpisodeStart, Like
from schemas.topics import DLQ, ENGAGEMENT, VIEWING
from tests.conftest import free_port, read_topic


def start_event(n: int, **changes) -> dict:
    event = EpisodeStart(event_id=f"http-{n}", event_time="2026-01-05T12:00:00.5Z", app_id="app", user_id=f"u{n}",
                         title_id="t-http", episode=1, session_id="s", startup_ms=300).to_dict()
    return {**event, **changes}


def test_valid_events_are_accepted_only_once_kafka_has_them(collector_for):
    url = collector_for()
    like = Like(event_id="http-like", event_time="2026-01-05T12:00:00Z", app_id="app", user_id="u1",
                title_id="t-http", episode=2).to_dict()
    response = requests.post(f"{url}/v1/events", json=[start_event(1), start_event(2), like], timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"], body["failed"]) == (3, 0, 0)
    viewing = read_topic(collector_for.settings, VIEWING)
    assert sorted(orjson.loads(m.value)["event_id"] for m in viewing) == ["http-1", "http-2"]
    assert {m.key for m in viewing} == {b"u1", b"u2"}                     # keyed by user_id
    assert [orjson.loads(m.value)["event_id"] for m in read_topic(collector_for.settings, ENGAGEMENT)] == ["http-like"]


def test_invalid_events_are_answered_with_their_reason_and_dead_lettered(collector_for):
    url = collector_for()
    ndjson = b"\n".join([orjson.dumps(start_event(1)), b"{not json", orjson.dumps(start_event(2, session_id=None)),
                         orjson.dumps(start_event(3, episode=0))])
    response = requests.post(f"{url}/v1/events", data=ndjson, timeout=30,
                             headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["index"], r["status"], r.get("reason")) for r in results] == [
        (0, "accepted", None), (1, "rejected", "not_json"), (2, "rejected", "missing_field"),
        (3, "rejected", "invalid_field")]
    assert "episode" in results[3]["detail"]
    letters = read_topic(collector_for.settings, DLQ)
    assert sorted(dict(m.headers)["reason"].decode() for m in letters) == ["invalid_field", "missing_field", "not_json"]
    assert b"{not json" in {m.value for m in letters}


def test_malformed_and_oversized_requests_get_a_4xx_that_says_why(collector_for):
    url = collector_for(collector_max_body_bytes=10_000, collector_max_events=5)
    cases = [
        (dict(data=b"x" * 10_001, headers={"Content-Type": "application/json"}), 413, "bytes"),
        (dict(json=[start_event(n) for n in range(6)]), 413, "at most 5"),
        (dict(data=b'{"an": "object"}', headers={"Content-Type": "application/json"}), 400, "JSON array"),
        (dict(data=b"[1, 2", headers={"Content-Type": "application/json"}), 400, "not valid JSON"),
        (dict(data=b"hello", headers={"Content-Type": "text/plain"}), 400, "Content-Type"),
    ]
    for kwargs, status, words in cases:
        response = requests.post(f"{url}/v1/events", timeout=30, **kwargs)
        assert response.status_code == status and words in response.json()["error"], (
            kwargs.get("headers"), response.text)


def test_overload_is_refused_with_429_not_dropped(collector_for):
    url = collector_for(collector_max_in_flight=2)
    response = requests.post(f"{url}/v1/events", json=[start_event(n) for n in range(3)], timeout=30)
    assert response.status_code == 429 and response.headers["Retry-After"]


def test_with_kafka_down_events_fail_with_503_and_are_not_acknowledged(collector_for):
    url = collector_for(kafka_port=free_port())          # nothing listens there
    response = requests.post(f"{url}/v1/events", json=[start_event(1)], timeout=60)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert [r["status"] for r in response.json()["results"]] == ["failed"]


def test_the_openapi_description_is_served_and_names_the_endpoint(collector_for):
    url = collector_for()
    spec = yaml.safe_load(requests.get(f"{url}/openapi.yaml", timeout=10).text)
    assert set(spec["paths"]["/v1/events"]["post"]["responses"]) >= {"200", "400", "413", "429", "503"}


def test_with_a_token_set_a_request_without_it_gets_401(collector_for):
    url = collector_for(collector_token="t0ken-for-this-test")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "t0ken-for-this-test"}):
        response = requests.post(f"{url}/v1/events", json=[start_event(1)], headers=headers, timeout=30)
        assert response.status_code == 401 and "COLLECTOR_TOKEN" in response.json()["error"], response.text
        assert response.headers["WWW-Authenticate"] == "Bearer"
    response = requests.post(f"{url}/v1/events", json=[start_event(1)], timeout=30,
                             headers={"Authorization": "Bearer t0ken-for-this-test"})
    assert response.status_code == 200 and response.json()["accepted"] == 1, response.text


def test_a_far_future_or_oversized_event_is_rejected_and_the_good_one_beside_it_accepted(collector_for):
    """Issue 19: one POST with a year-9999 event_time was accepted, then stopped the worker."""
    url = collector_for()
    events = [start_event(1, event_time="9999-12-31T23:59:59Z"), start_event(2, startup_ms=2**70),
              start_event(3, x_blob="b" * 100_000), start_event(4)]
    response = requests.post(f"{url}/v1/events", json=events, timeout=30)
    assert response.status_code == 200, response.text
    outcomes = [(r["status"], r.get("reason")) for r in response.json()["results"]]
    assert outcomes == [("rejected", "bad_event_time"), ("rejected", "invalid_field"), ("rejected", "invalid_field"),
                        ("accepted", None)]
    letters = read_topic(collector_for.settings, DLQ)
    assert len(letters) == 3 and max(len(m.value) for m in letters) == 64 * 1024   # the big one, cut
