"""Freshness under steady load: one worker, background load from the simulator at a target rate
(aiokafka producer), and every PROBE_INTERVAL_S a probe on every input topic: a valid event with
a unique id whose arrival a plain SELECT can see. Freshness = producer send → visible.

    drama.distribution  teaser_impression → title_metrics_1m.teaser_impressions
    drama.viewing       episode_start     → title_metrics_1m.episode_starts
    drama.paywall       paywall_shown     → title_metrics_1m.paywalls_shown
    drama.ads           ad_impression     → title_metrics_1m.ad_impressions
    drama.engagement    like              → title_metrics_1m.likes
    drama.content       script_created    → titles (script_created_at)
    drama.users         user_profile      → events_raw (event_type = 'user_profile')

With design "peer" (bench.peer's Kafka engine tables and views instead of the worker), a probe is
visible once peer_metrics_1m counts it: the same column, or for drama.content any row of its title;
the peer stores nothing of drama.users, which gets no probe. The RSS is then ClickHouse's.

A probe's title_id (user_id on drama.users) is `probe-<n>`; its event time is the simulated
time of the newest load message sent, so it is never late for its partition. Probes go through
their own producer (linger 0), so the load producer's batching is not in the figure.
The worker's VmRSS is read from /proc every RSS_EVERY_S.
"""
from __future__ import annotations

import asyncio
import math
import threading
import time
import uuid
from dataclasses import dataclass

import orjson

from bench.exactness import start_peer
from bench.load import Clock, paced, producer, simulate
from bench.stack import Namespace, process_tree
from infra import services
from infra.process import ServiceError
from infra.settings import Settings
from producer import key_of
from schemas import events as ev
from schemas import topics
from simulator.world import rfc3339
from warehouse.client import connect

PROBE_INTERVAL_S = 0.25
POLL_SLEEP_S = 0.05
RSS_EVERY_S = 0.5
APP = "bench-probe"
METRIC_COLUMNS = ("teaser_impressions", "episode_starts", "paywalls_shown", "ad_impressions", "likes")
# topic → (where the probe becomes visible, the title_metrics_1m column or None)
VISIBLE_IN = {
    topics.CONTENT: ("titles", None),
    topics.DISTRIBUTION: ("title_metrics_1m", "teaser_impressions"),
    topics.VIEWING: ("title_metrics_1m", "episode_starts"),
    topics.PAYWALL: ("title_metrics_1m", "paywalls_shown"),
    topics.ADS: ("title_metrics_1m", "ad_impressions"),
    topics.ENGAGEMENT: ("title_metrics_1m", "likes"),
    topics.USERS: ("events_raw", None),
}


DESIGNS = ("worker", "peer")
PEER_TOPICS = tuple(t for t in topics.INPUT_TOPICS if t != topics.USERS)
# what each design has counted so far, against the messages sent
PROCESSED_SQL = {"worker": "SELECT sum(events_in) FROM pipeline_health_1m",
                 "peer": "SELECT sum(messages) FROM peer_metrics_1m"}


def probed_topics(design: str) -> tuple[str, ...]:
    return topics.INPUT_TOPICS if design == "worker" else PEER_TOPICS


def view_label(topic: str, design: str = "worker") -> str:
    if design == "peer":
        column = VISIBLE_IN[topic][1]
        return f"peer_metrics_1m.{column}" if column else "peer_metrics_1m (a row of the title)"
    view, column = VISIBLE_IN[topic]
    return f"{view}.{column}" if column else {"titles": "titles (view)", "events_raw": "events_raw"}[view]


def probe_event(topic: str, pid: str, at: str) -> dict:
    """A valid event of the topic whose unique id is `pid` (title_id, or user_id for a profile)."""
    common = {"event_id": pid, "event_time": at, "app_id": APP}
    user = {"user_id": f"{pid}-u", "title_id": pid}
    if topic == topics.CONTENT:
        record = ev.ScriptCreated(**common, title_id=pid, trope="billionaire_heiress", genre="romance", origin="ai")
    elif topic == topics.DISTRIBUTION:
        record = ev.TeaserImpression(**common, **user, channel="tiktok", campaign_id="bench-probe", cost_usd=0.0)
    elif topic == topics.VIEWING:
        record = ev.EpisodeStart(**common, **user, episode=1, session_id=f"{pid}-s", startup_ms=500)
    elif topic == topics.PAYWALL:
        record = ev.PaywallShown(**common, **user, episode=6)
    elif topic == topics.ADS:
        record = ev.AdImpression(**common, **user, placement="rewarded", revenue_usd=0.0)
    elif topic == topics.ENGAGEMENT:
        record = ev.Like(**common, **user, episode=1)
    elif topic == topics.USERS:
        record = ev.UserProfile(**common, user_id=pid, gender="unknown", age_band="unknown", country="US")
    else:
        raise ValueError(topic)
    return record.to_dict()


@dataclass
class Probe:
    pid: str
    topic: str
    rate: str
    sent: float
    seen: float | None = None


class Book:
    """Probes sent and not yet seen; shared by the sender (event loop) and the poller (thread)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pending: dict[str, Probe] = {}
        self.done: list[Probe] = []

    def add(self, probe: Probe) -> None:
        with self.lock:
            self.pending[probe.pid] = probe

    def waiting(self) -> list[Probe]:
        with self.lock:
            return list(self.pending.values())

    def seen(self, pids, at: float) -> None:
        with self.lock:
            for pid in pids:
                probe = self.pending.pop(pid, None)
                if probe is not None:
                    probe.seen = at
                    self.done.append(probe)


class Poller(threading.Thread):
    """Asks ClickHouse, as fast as it answers (pausing POLL_SLEEP_S), which pending probes are visible."""

    def __init__(self, settings: Settings, book: Book, design: str = "worker"):
        super().__init__(daemon=True)
        self.settings, self.book, self.design = settings, book, design
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.cycles = 0

    def run(self) -> None:
        client = connect(self.settings)
        # 18.16 applies a WHERE outside a GROUP BY view after aggregating everything unless asked
        pushdown = {"enable_optimize_predicate_expression": 1}
        try:
            while not self.stop.is_set() and self.design == "peer":
                self.poll_peer(client)
                self.cycles += 1
                self.stop.wait(POLL_SLEEP_S)
            while not self.stop.is_set():
                waiting = self.book.waiting()
                metric = {p.pid: p for p in waiting if VISIBLE_IN[p.topic][0] == "title_metrics_1m"}
                titles = tuple(p.pid for p in waiting if p.topic == topics.CONTENT)
                users = tuple(p.pid for p in waiting if p.topic == topics.USERS)
                if metric:
                    rows = client.execute(
                        f"SELECT title_id, {', '.join(METRIC_COLUMNS)} FROM title_metrics_1m WHERE title_id IN %(ids)s",
                        {"ids": tuple(metric)}, settings=pushdown)
                    at = time.monotonic()
                    hits = [r[0] for r in rows
                            if r[1 + METRIC_COLUMNS.index(VISIBLE_IN[metric[r[0]].topic][1])] > 0]
                    self.book.seen(hits, at)
                if titles:
                    rows = client.execute("SELECT title_id, script_created_at FROM titles WHERE title_id IN %(ids)s",
                                          {"ids": titles}, settings=pushdown)
                    self.book.seen([r[0] for r in rows if r[1] is not None], time.monotonic())
                if users:
                    rows = client.execute("SELECT DISTINCT user_id FROM events_raw "
                                          "WHERE event_type = 'user_profile' AND user_id IN %(ids)s", {"ids": users})
                    self.book.seen([r[0] for r in rows], time.monotonic())
                self.cycles += 1
                self.stop.wait(POLL_SLEEP_S)
        except BaseException as error:  # noqa: BLE001 - reported by the stage
            self.error = error
        finally:
            client.disconnect()


    def poll_peer(self, client) -> None:
        waiting = {p.pid: p for p in self.book.waiting()}
        if not waiting:
            return
        rows = client.execute(
            f"SELECT title_id, {', '.join(f'sum({c})' for c in METRIC_COLUMNS)}, sum(messages) "
            f"FROM peer_metrics_1m WHERE title_id IN %(ids)s GROUP BY title_id", {"ids": tuple(waiting)})
        at = time.monotonic()
        hits = []
        for title_id, *values in rows:
            column = VISIBLE_IN[waiting[title_id].topic][1]
            if (values[METRIC_COLUMNS.index(column)] if column else values[-1]) > 0:
                hits.append(title_id)
        self.book.seen(hits, at)


class RssSampler(threading.Thread):
    """VmRSS of the worker's process tree (kB in /proc/<pid>/status), tagged with the current phase."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.phase = "warm-up"
        self.samples: list[tuple[str, float, int]] = []
        self.stop = threading.Event()

    def read(self) -> int | None:
        """kB resident in the process and its descendants (the worker's Faust process is a child of
        infra/supervise.py: the supervisor's own 12 MB were all an earlier version reported)."""
        total = None
        for pid in process_tree(self.pid):
            try:
                with open(f"/proc/{pid}/status") as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            total = (total or 0) + int(line.split()[1])
            except OSError:
                continue
        return total

    def run(self) -> None:
        while not self.stop.is_set():
            kb = self.read()
            if kb is not None:
                self.samples.append((self.phase, time.monotonic(), kb))
            self.stop.wait(RSS_EVERY_S)

    def summary(self, phase: str) -> dict | None:
        values = [kb for p, _, kb in self.samples if p == phase]
        if not values:
            return None
        return {"samples": len(values), "end_mb": round(values[-1] / 1024, 1), "max_mb": round(max(values) / 1024, 1),
                "median_mb": round(sorted(values)[len(values) // 2] / 1024, 1)}


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_figures(probes: list[Probe], missing: list[Probe]) -> dict:
    seconds = [p.seen - p.sent for p in probes]
    figures = {"probes": len(probes) + len(missing), "seen": len(probes), "missing": len(missing)}
    if seconds:
        figures.update({f"p{p}_s": round(percentile(seconds, p), 3) for p in (50, 95, 99)})
        figures["max_s"] = round(max(seconds), 3)
    return figures


async def _probes(out, settings: Settings, book: Book, clock: Clock, rate: str, stop: asyncio.Event, run_id: str,
                  counter: list, design: str) -> list:
    """Every PROBE_INTERVAL_S until stopped: one probe per input topic."""
    loop = asyncio.get_running_loop()
    begin = loop.time()
    acks = []
    tick = 0
    while not stop.is_set():
        at = rfc3339(clock.now)
        for topic in probed_topics(design):
            counter[0] += 1
            pid = f"probe-{run_id}-{counter[0]}"
            event = probe_event(topic, pid, at)
            value, key = orjson.dumps(event), key_of(event, topic)
            book.add(Probe(pid, topic, rate, time.monotonic()))
            acks.append(await out.send(settings.topic(topic), value, key=key))
        tick += 1
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, begin + tick * PROBE_INTERVAL_S - loop.time()))
        except asyncio.TimeoutError:
            pass
    return acks


def _wait_drained(client, book: Book, sent: int, timeout: float, check, design: str) -> dict:
    """Until every probe is visible and the design counted every message sent so far."""
    started = time.monotonic()
    events = 0
    while time.monotonic() - started < timeout:
        events = client.execute(PROCESSED_SQL[design])[0][0] or 0
        if not book.waiting() and events >= sent:
            return {"drained_s": round(time.monotonic() - started, 2), "timed_out": False}
        check()
        time.sleep(0.2)
    return {"drained_s": round(time.monotonic() - started, 2), "timed_out": True, "events_in": events, "sent": sent}


async def _run(ns: Namespace, rates: list[tuple[str, float]], load_messages, duration: float, warmup: int,
               book: Book, rss: RssSampler, wait_timeout: float, say, design: str) -> list[dict]:
    s = ns.settings
    items = iter(load_messages)
    clock = Clock(load_messages[0].emit_time)
    run_id = uuid.uuid4().hex[:6]
    counter = [0]
    load_out, probe_out = producer(s, linger_ms=5), producer(s, linger_ms=0)
    await load_out.start()
    await probe_out.start()
    client = connect(s)
    results = []
    try:
        # Warm-up: the worker joins its group and restores every partition before anything is measured.
        sent = 0
        stop = asyncio.Event()
        probing = asyncio.create_task(_probes(probe_out, s, book, clock, "warm-up", stop, run_id, counter,
                                                design))
        await paced(load_out, s, items, rate=max(warmup / 2.0, 1.0), count=warmup, clock=clock)
        sent += warmup
        stop.set()
        await asyncio.gather(*(await probing))
        drained = await asyncio.to_thread(_wait_drained, client, book, sent + counter[0], wait_timeout,
                                          ns.check_workers, design)
        if drained["timed_out"]:
            raise ServiceError(f"freshness warm-up: the {design} did not process {sent + counter[0]} messages in "
                               f"{wait_timeout:.0f}s ({drained})")
        book.done.clear()
        say(f"[freshness {design}] warm-up done ({warmup:,} messages and {counter[0]} probes visible)")
        for label, rate in rates:
            count = int(rate * duration)
            rss.phase = label
            stop = asyncio.Event()
            probing = asyncio.create_task(_probes(probe_out, s, book, clock, label, stop, run_id, counter,
                                                    design))
            say(f"[freshness {label}] {count:,} messages at {rate:,.0f}/s for {duration:.0f}s, probes on every topic")
            produced = await paced(load_out, s, items, rate=rate, count=count, clock=clock)
            stop.set()
            await asyncio.gather(*(await probing))
            sent += count
            rss.phase = f"{label} drain"
            drained = await asyncio.to_thread(_wait_drained, client, book, sent + counter[0], wait_timeout,
                                              ns.check_workers, design)
            missing = [p for p in book.waiting() if p.rate == label]
            book.seen([p.pid for p in missing], float("nan"))  # out of the way of the next rate
            done = [p for p in book.done if p.rate == label and p.seen == p.seen]
            lost = [p for p in book.done if p.rate == label and p.seen != p.seen]
            per_topic = {}
            for topic in probed_topics(design):
                per_topic[topic] = {"visible_in": view_label(topic, design),
                                    **latency_figures([p for p in done if p.topic == topic],
                                                      [p for p in lost if p.topic == topic])}
            result = {"label": label, "target_per_s": rate, "producer": produced, "duration_s": duration,
                      "drain_after": drained, "topics": per_topic, "worker_rss": rss.summary(label)}
            results.append(result)
            worst = max((t.get("p99_s", math.inf) for t in per_topic.values()), default=math.inf)
            say(f"[freshness {label}] producer achieved {produced['achieved_per_s']:,}/s; worst p99 {worst:.2f}s"
                f"{'; NOT DRAINED' if drained['timed_out'] else ''}")
    finally:
        client.disconnect()
        await load_out.stop()
        await probe_out.stop()
    return results


def run(base: Settings, rates: list[tuple[str, float]], duration: float, say=print, warmup: int = 2000,
        wait_timeout: float = 240.0, users_per_day: float = 20_000.0, design: str = "worker") -> dict:
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}, not {design!r}")
    need = warmup + sum(int(rate * duration) for _, rate in rates)
    say(f"[freshness {design}] simulating {need:,} messages of background load")
    load_messages = simulate(need, seed=7, users_per_day=users_per_day)
    with Namespace(base, f"freshness-{design}", say) as ns:
        if design == "worker":
            pid = ns.start_workers(1)[0].pid()
            say(f"[freshness] worker up (pid {pid})")
        else:
            start_peer(ns)
            pid = services.ClickHouse(base).pid()
            say("[freshness peer] the peer's Kafka tables and views made")
        book = Book()
        poller = Poller(ns.settings, book, design)
        rss = RssSampler(pid)
        poller.start()
        rss.start()
        try:
            results = asyncio.run(_run(ns, rates, load_messages, duration, warmup, book, rss, wait_timeout, say,
                                       design))
        finally:
            poller.stop.set()
            rss.stop.set()
            poller.join(timeout=10)
            rss.join(timeout=5)
        if poller.error is not None:
            raise ServiceError(f"freshness: polling ClickHouse failed: {poller.error!r}")
        values = [kb for _, _, kb in rss.samples]
        return {"namespace": ns.namespace, "probe_interval_s": PROBE_INTERVAL_S, "poll_sleep_s": POLL_SLEEP_S,
                "poll_cycles": poller.cycles, "rates": results,
                "design": design, "rss_of": "worker" if design == "worker" else "clickhouse-server",
                "worker_rss": {"pid": pid, "samples": len(values),
                               "max_mb": round(max(values) / 1024, 1) if values else None,
                               "end_mb": round(values[-1] / 1024, 1) if values else None}}
