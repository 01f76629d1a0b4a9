"""Poison events between good ones, on the real services: each edge event of issue 19 is stored or
rejected with its reason, every good event around it is counted once, within seconds, /health
stays ok throughout, and the ledger finds nothing lost below the committed offsets."""
from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import orjson

from tests.conftest import wait_for
from tests.reliability.ledger import Sender, verdict, wait_until_committed
from warehouse.client import connect

GOOD_BETWEEN = 40          # good events before each edge event (and after the last)


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def edge_events(now: datetime, run: str) -> list[tuple[str, str, bytes, str]]:
    """(name, topic, value, expected outcome: "stored" or a reason)."""
    base = {"event_type": "episode_start", "event_time": stamp(now), "app_id": "edge", "user_id": f"edge-{run}",
            "title_id": f"edge-{run}", "schema_version": 1, "episode": 1, "session_id": "s", "startup_ms": 5}
    content = {"event_type": "title_launched", "event_time": stamp(now), "app_id": "edge", "title_id": f"edge-{run}",
               "schema_version": 1, "episodes_total": 60, "free_episodes": 5}
    profile = {"event_type": "user_profile", "event_time": stamp(now), "app_id": "edge", "user_id": f"edge-{run}",
               "schema_version": 1, "gender": "female", "age_band": "45-54", "country": "US"}
    purchase = {"event_type": "purchase", "event_time": stamp(now), "app_id": "edge", "user_id": f"edge-{run}",
                "title_id": f"edge-{run}", "schema_version": 1, "product": "coins_pack", "amount_usd": 4.99,
                "coins": 500}

    def one(name, topic, body, expected, raw=None):
        body = {"event_id": f"{run}-{name}", **body}
        return name, topic, raw(body) if raw else orjson.dumps(body), expected

    literal = lambda token: lambda body: json.dumps({**body, "x": "TOKEN"}).replace('"TOKEN"', token).encode()  # noqa: E731
    return [
        one("startup_ms_2e64", "drama.viewing", {**base, "startup_ms": 2**64}, "invalid_field",
            raw=lambda b: json.dumps(b).encode()),
        one("startup_ms_2e70", "drama.viewing", {**base, "startup_ms": 2**70}, "invalid_field",
            raw=lambda b: json.dumps(b).encode()),
        one("year_9999", "drama.viewing", {**base, "event_time": "9999-12-31T23:59:59Z"}, "bad_event_time"),
        one("year_1900", "drama.viewing", {**base, "event_time": "1900-01-01T00:00:00Z"}, "bad_event_time"),
        one("episodes_total_2e40", "drama.content", {**content, "episodes_total": 2**40}, "invalid_field"),
        one("a_day_ahead", "drama.viewing", {**base, "event_time": stamp(now + timedelta(days=1))}, "bad_event_time"),
        one("country_600kb", "drama.users", {**profile, "country": "U" * 600_000}, "invalid_field"),
        one("nan", "drama.viewing", base, "not_json", raw=literal("NaN")),
        one("lone_surrogate", "drama.viewing", {**base, "session_id": "\ud800"}, "not_json",
            raw=lambda b: json.dumps(b).encode()),
        one("float_1e400", "drama.viewing", base, "not_json", raw=literal("1e400")),
        one("huge_float_extra", "drama.viewing", base, "stored", raw=literal("1.7e308")),
        one("coins_2e63", "drama.paywall", {**purchase, "coins": 2**63}, "invalid_field"),
        one("episode_2e40", "drama.viewing", {**base, "episode": 2**40}, "invalid_field"),
        one("nul_in_id", "drama.viewing", {**base, "session_id": "a\x00b"}, "invalid_field"),
        one("emoji_in_ids", "drama.viewing", {**base, "session_id": "s😀", "user_id": f"😀{run}"}, "stored"),
        one("trope_100k", "drama.content", {"event_type": "script_created", "event_time": stamp(now), "app_id": "edge",
                                            "title_id": f"edge-{run}", "schema_version": 1, "trope": "t" * 100_000,
                                            "genre": "romance", "origin": "ai"}, "invalid_field"),
        one("extra_200kb", "drama.viewing", {**base, "x_blob": "b" * 200_000}, "invalid_field"),
        one("zone_plus_14", "drama.viewing", {**base, "event_time": (now + timedelta(hours=14)).strftime(
            "%Y-%m-%dT%H:%M:%S+14:00")}, "stored"),
    ]


class HealthWatch(threading.Thread):
    """Polls the worker's /health every half second, keeping every status it answered."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.url, self.seen, self.stop = f"http://127.0.0.1:{port}/health", [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    self.seen.append(json.loads(r.read())["status"])
            except urllib.error.HTTPError as error:
                self.seen.append(json.loads(error.read())["status"])
            except OSError:
                self.seen.append("unreachable")
            time.sleep(0.5)


def test_every_edge_event_is_stored_or_rejected_and_every_good_event_counted_once(pipeline, run_id):
    settings = pipeline()
    client = connect(settings)
    watch = HealthWatch(settings.worker_web_port)
    watch.start()
    now = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=30)
    good_title = f"good-{run_id}"
    sender = Sender(settings)
    edges = edge_events(now, run_id)
    good = 0
    for n, (_, topic, value, _) in enumerate([*edges, ("tail", None, None, None)]):
        for _ in range(GOOD_BETWEEN):
            event = {"event_id": f"{run_id}-g{good}", "event_type": "episode_start",
                     "event_time": stamp(now + timedelta(milliseconds=good)), "app_id": "edge",
                     "user_id": f"u{good % 97}", "title_id": good_title, "schema_version": 1, "episode": 1,
                     "session_id": f"s{good}", "startup_ms": 100}
            sender.send("drama.viewing", event["user_id"], orjson.dumps(event))
            good += 1
        if topic is not None:
            sender.send(topic, f"edge-{n}", value)
    sender.flush()
    sent_at = time.monotonic()
    assert not sender.failed, sender.failed
    assert len(sender.acked) == sender.produced

    counted = lambda: client.execute("SELECT sum(episode_starts) FROM title_metrics_1m WHERE title_id = %(t)s",  # noqa: E731
                                     {"t": good_title})[0][0]
    assert wait_for(counted, good, timeout=60) == good, "a good event was not counted (or counted twice)"
    recovery = time.monotonic() - sent_at
    assert wait_until_committed(settings), "the worker did not commit every partition to its end"
    watch.stop.set()
    watch.join()

    outcomes = {}
    for name, _, _, _ in edges:
        event_id = f"{run_id}-{name}"
        if client.execute("SELECT count() FROM events_raw WHERE event_id = %(e)s", {"e": event_id})[0][0]:
            outcomes[name] = "stored"
    rejected = client.execute("SELECT reason, detail, length(raw) FROM events_rejected")
    assert all(len(detail) < 400 and size <= 64 * 1024 for _, detail, size in rejected), \
        [(r, d[:80], s) for r, d, s in rejected if len(d) >= 400 or s > 64 * 1024]
    # the rejected rows carry no event_id column: match each edge event by its offset
    offsets = client.execute("SELECT topic, partition, offset, reason FROM events_rejected")
    by_value = {value: name for name, _, value, _ in edges}
    for (topic, partition, offset), value in sender.acked.items():
        for t, p, o, reason in offsets:
            if (t, p, o) == (topic, partition, offset) and value in by_value:
                outcomes[by_value[value]] = reason
    assert outcomes == {name: expected for name, _, _, expected in edges}

    result = verdict(settings, "poison_events", sender)
    result.recovery_s = round(recovery, 1)
    result.notes = {"edge_events": len(edges), "good_events": good, "health_seen": sorted(set(watch.seen))}
    result.save()
    assert result.problems() == [], result
    assert result.stored == good + sum(e[3] == "stored" for e in edges)
    assert set(watch.seen) == {"ok"}, f"/health was not ok throughout: {sorted(set(watch.seen))}"
