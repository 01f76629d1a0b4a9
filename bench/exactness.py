"""Exactness of both designs on the same messages sent at a steady rate: after `kill -9` of
ClickHouse mid-stream, and on the simulator's resent and out-of-order events.

    messages ─► paced producer ─► <ns>.drama.<topic>
                                     ├─► worker (design "worker")                ─► title_metrics_1m
                                     └─► Kafka engine + one view (design "peer") ─► peer_metrics_1m
    with kill: once KILL_AT of the messages are sent, SIGKILL clickhouse-server and start it again

Each design runs in its own namespace from offset 0. After the last message, the design's counters
must stop moving for STABLE_S[design]; then its title_metrics_1m and episode_metrics_1m are compared
row by row with the messages' exact figures (bench.peer.expected_metrics: each event once, late ones
included). The worker de-duplicates and commits an offset only after its rows are stored; the
engine commits after its block is written, so a kill between the two re-reads the block, and it
counts a resent event twice (at-least-once).
"""
from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import timedelta

from bench import peer
from bench.load import Clock, paced, producer
from bench.stack import Namespace
from infra import services
from infra.process import ServiceError, pid_alive, port_open
from infra.settings import Settings
from schemas.topics import INPUT_TOPICS
from warehouse.client import connect
from warehouse.maintain import reconcile

DESIGNS = ("worker", "peer")
KILL_AT = 0.4           # of the messages sent
# counters still for this long = settled; the engine flushes every 7.5 s (stream_flush_interval_ms)
STABLE_S = {"worker": 3.0, "peer": 10.0}
# below the exact total: still for this long = nothing more is coming. After a kill the engine's new
# consumer waits for Kafka to drop the dead one from its group (about 40 s here) before it reads again.
GIVE_UP_S = 120.0
POLL_S = 0.5
REPAIR_HORIZON_DAYS = 100_000   # the simulated days are months old: reconcile every one the parts hold


def kill_clickhouse(base: Settings, timeout: float = 60.0) -> dict:
    """SIGKILL clickhouse-server, wait until it is gone, start it again; seconds it was away.

    Gone means its ports closed too: the killed server's main thread turns zombie while its other
    threads still hold the sockets, and a start in that window finds the ports taken."""
    clickhouse = services.ClickHouse(base)
    pid = clickhouse.pid()
    if pid is None:
        raise ServiceError("crash: ClickHouse is not running")
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    while pid_alive(pid) or any(port_open(host, port) for host, port in clickhouse.ports()):
        if time.monotonic() - killed > timeout:
            raise ServiceError(f"crash: clickhouse-server (pid {pid}) or its ports still there {timeout:.0f}s "
                               f"after SIGKILL")
        time.sleep(0.05)
    try:
        os.waitpid(pid, os.WNOHANG)      # reaped if this process started it (an earlier kill's restart)
    except ChildProcessError:
        pass
    clickhouse.up()
    return {"pid": pid, "away_s": round(time.monotonic() - killed, 2)}


def start_peer(ns: Namespace) -> None:
    """The peer's tables on every input topic, each on a fresh group from offset 0; dropped on close."""
    s = ns.settings

    def drop_peer():
        c = connect(s)
        try:
            peer.drop(c, INPUT_TOPICS)
        finally:
            c.disconnect()

    ns.cleanups.append(drop_peer)
    client = connect(s)
    try:
        peer.create(client, s, {t: f"{ns.namespace}-peer-x-{peer.short(t)}" for t in INPUT_TOPICS})
    finally:
        client.disconnect()


def settle(settings: Settings, table: str, floor: int, stable_s: float, timeout: float, check=lambda: None) -> dict:
    """Until the design's count-type total has not moved for stable_s and reaches `floor`, or has not
    moved for GIVE_UP_S (ClickHouse
    may still be starting: connection errors are waited out)."""
    started = time.monotonic()
    last, since, total = None, time.monotonic(), 0
    while time.monotonic() - started < timeout:
        check()
        try:
            client = connect(settings)
            try:
                total = peer.counted_total(client, table)
            finally:
                client.disconnect()
        except Exception:  # noqa: BLE001 - ClickHouse restarting; asked again
            total = None
        still = time.monotonic() - since
        if total != last:
            last, since = total, time.monotonic()
        elif total is not None and (total >= floor and still >= stable_s or still >= GIVE_UP_S):
            # below the exact total and still for GIVE_UP_S: nothing more is coming
            return {"settled_s": round(time.monotonic() - started, 1), "total": total, "timed_out": False}
        time.sleep(POLL_S)
    return {"settled_s": round(time.monotonic() - started, 1), "total": last, "timed_out": True}


async def _send(settings: Settings, messages, rate: float, kill) -> tuple[list[dict], dict | None]:
    """Send every message at `rate`; with `kill`, call it once KILL_AT of them are sent."""
    out = producer(settings, linger_ms=5)
    await out.start()
    try:
        items = iter(messages)
        clock = Clock(messages[0].emit_time)
        first = int(len(messages) * KILL_AT) if kill else len(messages)
        sent = [await paced(out, settings, items, rate=rate, count=first, clock=clock)]
        killed = None
        if kill:
            killed = await asyncio.to_thread(kill)
            sent.append(await paced(out, settings, items, rate=rate, count=len(messages) - first, clock=clock))
        return sent, killed
    finally:
        await out.stop()


def run(base: Settings, messages, design: str, rate: float, kill: bool, say=print, timeout: float = 300.0) -> dict:
    """One design on `messages` sent at `rate`; with `kill`, ClickHouse killed once KILL_AT of them are sent."""
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}, not {design!r}")
    titles, episodes = peer.expected_metrics(messages)
    floor = peer.expected_total(titles)
    label = f"{'crash' if kill else 'faults'} {design}"
    with Namespace(base, label.replace(" ", "-"), say) as ns:
        if design == "worker":
            ns.start_workers(1)       # what it stored: its parts, which the rollups behind the views fold
            table, title_sql, episode_sql = "title_metrics_1m_parts", peer.TITLE_SELECT, peer.EPISODE_SELECT
        else:
            start_peer(ns)
            table, title_sql, episode_sql = "peer_metrics_1m", peer.PEER_TITLE_SELECT, peer.PEER_EPISODE_SELECT
        say(f"[{label}] sending {len(messages):,} messages at {rate:,.0f}/s"
            + (f"; kill -9 of ClickHouse after {KILL_AT:.0%} of them" if kill else ""))
        crash = (lambda: kill_clickhouse(base)) if kill else None
        try:
            sent, killed = asyncio.run(_send(ns.settings, messages, rate, crash))
        finally:
            if kill:
                services.ClickHouse(base).up()    # running again even if the kill or restart failed half-way
        if killed:
            say(f"[{label}] ClickHouse killed (pid {killed['pid']}) and back in {killed['away_s']}s")
        settled = settle(ns.settings, table, floor, STABLE_S[design], timeout, ns.check_workers)
        got = read(ns.settings, title_sql, episode_sql)
        repaired = None
        if design == "worker":
            # what `make up`'s maintain process does every 300 s: a day whose rollup folds fewer rows
            # than its parts hold (a kill between a parts insert and its views) is folded again
            rebuilt = reconcile(ns.settings, since=timedelta(hours=1), horizon_days=REPAIR_HORIZON_DAYS, say=say)
            repaired = {"rebuilt": rebuilt, **vs_messages(read(ns.settings, title_sql, episode_sql), titles, episodes)}
    result = {"design": design, "messages": len(messages), "rate": rate, "kill_at": KILL_AT if kill else None,
              "killed": killed, "sent": sent, "settled": settled, **vs_messages(got, titles, episodes),
              "after_reconcile": repaired}
    vs = result["title_vs_messages"]
    say(f"[{label}] title_metrics = exact: {vs['equal']}"
        + (f"; totals that differ (got, exact): {vs['differing_totals']}" if not vs["equal"] else "")
        + ("; NOT SETTLED" if settled["timed_out"] else "")
        + (f"; after maintain's reconcile (days rebuilt {repaired['rebuilt']}): "
           f"{repaired['title_vs_messages']['equal']}" if repaired else ""))
    return result


def read(settings: Settings, title_sql: str, episode_sql: str) -> tuple[dict, dict]:
    client = connect(settings)
    try:
        return peer.read_metrics(client, title_sql, episode_sql)
    finally:
        client.disconnect()


def vs_messages(got: tuple[dict, dict], titles: dict, episodes: dict) -> dict:
    return {"title_vs_messages": peer.compare(got[0], titles), "episode_vs_messages": peer.compare(got[1], episodes)}
