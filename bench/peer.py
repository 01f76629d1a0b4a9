"""The peer: the ClickHouse-only design a user would weigh instead of the worker, computing the
worker's `title_metrics_1m` (and `episode_metrics_1m`) with ClickHouse 18.16's Kafka engine.

    <ns>.drama.<topic> ─► peer_q_<topic>  Kafka(…, 'JSONEachRow'), one per input topic, only the
                          │               fields that topic's counters need
                          └─► peer_<topic>_mv ─► peer_metrics_1m  SummingMergeTree
                                countIf / sumIf per counter,   ORDER BY (window_start, title_id, episode, topic):
                                GROUP BY (minute, title_id,    every title_metrics_1m and episode_metrics_1m
                                episode): one pre-aggregated   counter, unique_viewers (uniqExactIf state) and
                                row per group and insert       the messages read (for the bench)

title_metrics_1m is peer_metrics_1m summed over episodes and topics, episode_metrics_1m over topics.
One view per engine table, as ClickHouse's documentation builds it: 18.16's engine reads as soon as
one view is on its table, so views added one by one miss what the first read (a 429-message topic
was read whole in between, and the smoke run waited for paywall counts that never came).

The counters come from the worker's own rules (streams.batch.TITLE_RULES, HOOK_MS, the unlock
methods), so the two compute the same thing. What the peer does not do: validate events,
de-duplicate resent ones (the engine is at-least-once, and a resent event counts twice), or drop
late ones; the "faults" stage shows what that costs.

A new consumer group starts at the latest offset, so offset 0 is committed for each group first.
18.16's engine now and then never starts reading a table: after STALLED_S with nothing read, that
topic's table (and its views) is made again on a fresh group.

rows/s incl. flush = messages ÷ (CREATE of the first Kafka table → all rows counted).
excl. = messages ÷ (that − the engine's fixed latency, CREATE → visible for a 1-message topic,
measured in the same stage), or, when the rows land in several inserts, the rows after the first
÷ (first rows visible → all counted).
CPU: clickhouse-server's utime+stime (/proc/<pid>/stat) from before the first CREATE to all counted;
events per CPU-second = messages ÷ that (the worker's figure counts its own CPU and ClickHouse's).
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from bench.load import preload, producer
from bench.stack import Namespace, cpu_seconds
from infra import services
from infra.process import ServiceError
from infra.settings import Settings
from schemas.events import EVENT_TYPES
from schemas.topics import INPUT_TOPICS, SIGNALS
from streams.batch import HOOK_MS, TITLE_RULES
from warehouse.client import connect
from warehouse.tables import EPISODE_COUNTERS, TITLE_COUNTERS

POLL_S = 0.05
STALLED_S, RESTARTS = 60.0, 2     # a topic's engine table that has read nothing after this long is made again
MIN_EXCL_S = 0.5                  # below this beyond the fixed latency, only a lower bound is given
CALIBRATION_TOPIC = SIGNALS       # empty in a bench namespace: the one calibration message goes there
FLOATS = frozenset(("ad_spend_usd", "watch_seconds", "iap_revenue_usd", "ad_revenue_usd"))
UNLOCK_METHODS = ("coins", "subscription", "rewarded_ad")
EPISODE_RULES = {"episode_start": "starts", "episode_complete": "completes", "episode_exit": "exits",
                 "paywall_shown": "paywalls_shown", "episode_unlocked": "unlocks"}
TOPIC_OF = {name: cls.TOPIC for name, cls in EVENT_TYPES.items()}
EPISODE_PREFIX = "ep_"             # episode_metrics_1m's counters in peer_metrics_1m (paywalls_shown is in both)
REL_TOLERANCE = 1e-9              # float sums: ClickHouse and Python add in different orders


# --- what each topic's views compute, from the worker's rules ------------------------------------
def title_terms(topic: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(JSON fields the topic's Kafka table reads → type, counter → the terms it sums) for `topic`."""
    fields: dict[str, str] = {}
    terms: dict[str, list[str]] = {}
    for etype, (count, sums) in TITLE_RULES.items():
        if TOPIC_OF[etype] != topic:
            continue
        if count is not None:
            terms.setdefault(count, []).append(f"countIf(event_type = '{etype}')")
        for counter, attribute in sums:
            fields[attribute] = "Float64" if counter in FLOATS else "UInt64"
            terms.setdefault(counter, []).append(f"sumIf({attribute}, event_type = '{etype}')")
        if etype == "teaser_view":
            fields["watch_ms"] = "UInt64"
            terms.setdefault("hook_views", []).append(
                f"countIf(event_type = 'teaser_view' AND watch_ms >= {HOOK_MS})")
        elif etype == "episode_unlocked":
            fields["method"] = "String"
            for method in UNLOCK_METHODS:
                terms.setdefault(f"unlocks_{method}", []).append(
                    f"countIf(event_type = 'episode_unlocked' AND method = '{method}')")
        elif etype == "episode_start":
            fields["user_id"] = "String"
    return fields, terms


def episode_types(topic: str) -> list[str]:
    return [etype for etype in EPISODE_RULES if TOPIC_OF[etype] == topic]


def short(topic: str) -> str:
    return topic.rsplit(".", 1)[-1]


MINUTE = "toStartOfMinute(parseDateTimeBestEffort(event_time))"


def ddl(s: Settings, group_of: dict[str, str], topic_names: dict[str, str]) -> tuple[list[str], dict[str, list[str]]]:
    """(the target table's DDL, per contract topic: its Kafka table's and view's DDL in order)."""
    def typed(c: str) -> str:
        return f"{c} {'Float64' if c in FLOATS else 'UInt64'}"

    columns = ", ".join([typed(c) for c in TITLE_COUNTERS] + [f"{EPISODE_PREFIX}{c} UInt64" for c in EPISODE_COUNTERS])
    targets = [
        f"CREATE TABLE peer_metrics_1m (window_start DateTime, title_id String, episode UInt32, topic String, "
        f"messages UInt64, {columns}, unique_viewers AggregateFunction(uniqExactIf, String, UInt8)) "
        f"ENGINE = SummingMergeTree() PARTITION BY toYYYYMMDD(window_start) "
        f"ORDER BY (window_start, title_id, episode, topic)",
    ]
    per_topic: dict[str, list[str]] = {}
    for topic in group_of:
        name = short(topic)
        fields, terms = title_terms(topic)
        episodes = episode_types(topic)
        if episodes:
            fields["episode"] = "UInt32"
        read = ", ".join(["event_type String", "event_time String", "title_id String"]
                         + [f"{f} {t}" for f, t in fields.items()])
        queue = f"peer_q_{name}"
        # 18.16 wants every column of the view's target (no defaults): the topic's other counters are 0
        selected = [f"{' + '.join(terms[c])} AS {c}" if c in terms else
                    f"{'toFloat64' if c in FLOATS else 'toUInt64'}(0) AS {c}" for c in TITLE_COUNTERS]
        counted = {EPISODE_RULES[e]: e for e in episodes}
        selected += [f"countIf(event_type = '{counted[c]}') AS {EPISODE_PREFIX}{c}" if c in counted else
                     f"toUInt64(0) AS {EPISODE_PREFIX}{c}" for c in EPISODE_COUNTERS]
        selected.append("uniqExactIfState(user_id, event_type = 'episode_start') AS unique_viewers"
                        if "user_id" in fields else "uniqExactIfState(title_id, 0) AS unique_viewers")
        episode = "episode" if episodes else "toUInt32(0)"
        per_topic[topic] = [
            f"CREATE TABLE {queue} ({read}) ENGINE = Kafka('{s.kafka_bootstrap}', '{topic_names[topic]}', "
            f"'{group_of[topic]}', 'JSONEachRow')",
            f"CREATE MATERIALIZED VIEW peer_{name}_mv TO peer_metrics_1m AS "
            f"SELECT {MINUTE} AS window_start, title_id, {episode} AS episode, '{topic}' AS topic, "
            f"count() AS messages, {', '.join(selected)} FROM {queue} GROUP BY window_start, title_id, episode",
        ]
    return targets, per_topic


def create(client, settings: Settings, group_of: dict[str, str], with_target: bool = True) -> None:
    """The peer's Kafka tables and views on the topics of `group_of` (contract topic → its group,
    offset 0 committed for it first), and peer_metrics_1m unless it exists already."""
    names = {t: settings.topic(t) for t in group_of}
    targets, per_topic = ddl(settings, group_of, names)
    for topic, group in group_of.items():
        commit_zero(settings, group, [names[topic]])
    for statement in (targets if with_target else []) + [st for t in group_of for st in per_topic[t]]:
        client.execute(statement)


def drop(client, topics) -> None:
    """Everything create() made on `topics`."""
    for topic in topics:
        drop_topic(client, topic)
    client.execute("DROP TABLE IF EXISTS peer_metrics_1m")


def drop_topic(client, topic: str) -> None:
    name = short(topic)
    for table in (f"peer_{name}_mv", f"peer_q_{name}"):
        client.execute(f"DROP TABLE IF EXISTS {table}")


# --- the exact figures, from the messages ------------------------------------------------------
def minute_of(event: dict) -> int:
    at = datetime.fromisoformat(event["event_time"].replace("Z", "+00:00")).timestamp()
    return int(at // 60 * 60)


def expected_metrics(messages) -> tuple[dict, dict]:
    """title_metrics_1m and episode_metrics_1m as the messages say, each event once (by event_id),
    late ones included: {(minute, title_id): {counter: value, …, "unique_viewers": n}}, {(minute,
    title_id, episode): {counter: n}}."""
    titles: dict = {}
    viewers: dict = {}
    episodes: dict = {}
    seen: set = set()
    for m in messages:
        if m.event_type not in TITLE_RULES or m.topic not in INPUT_TOPICS:
            continue
        event = orjson.loads(m.value)
        if event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        etype = event["event_type"]
        key = (minute_of(event), event["title_id"])
        row = titles.setdefault(key, dict.fromkeys(TITLE_COUNTERS, 0))
        count, sums = TITLE_RULES[etype]
        if count is not None:
            row[count] += 1
        for counter, attribute in sums:
            row[counter] += event[attribute]
        if etype == "teaser_view":
            row["hook_views"] += event["watch_ms"] >= HOOK_MS
        elif etype == "episode_unlocked":
            row[f"unlocks_{event['method']}"] += 1
        elif etype == "episode_start":
            viewers.setdefault(key, set()).add(event["user_id"])
        if etype in EPISODE_RULES:
            erow = episodes.setdefault(key + (event["episode"],), dict.fromkeys(EPISODE_COUNTERS, 0))
            erow[EPISODE_RULES[etype]] += 1
    for key, row in titles.items():
        row["unique_viewers"] = len(viewers.get(key, ()))
    return titles, episodes


TITLE_SELECT = (f"SELECT toUInt32(window_start), title_id, {', '.join(TITLE_COUNTERS)}, unique_viewers "
                f"FROM title_metrics_1m")
EPISODE_SELECT = (f"SELECT toUInt32(window_start), title_id, episode, {', '.join(EPISODE_COUNTERS)} "
                  f"FROM episode_metrics_1m")


def read_metrics(client, title_sql: str = TITLE_SELECT, episode_sql: str = EPISODE_SELECT) -> tuple[dict, dict]:
    """The same two dicts from ClickHouse (the worker's views by default)."""
    names = (*TITLE_COUNTERS, "unique_viewers")
    titles = {(row[0], row[1]): dict(zip(names, row[2:])) for row in client.execute(title_sql)}
    episodes = {(row[0], row[1], row[2]): dict(zip(EPISODE_COUNTERS, row[3:])) for row in client.execute(episode_sql)}
    return titles, episodes


PEER_TITLE_SELECT = (f"SELECT toUInt32(window_start), title_id, "
                     f"{', '.join(f'sum({c})' for c in TITLE_COUNTERS)}, uniqExactIfMerge(unique_viewers) "
                     f"FROM peer_metrics_1m GROUP BY window_start, title_id")
PEER_EPISODE_SELECT = (f"SELECT toUInt32(window_start), title_id, episode, "
                       f"{', '.join(f'sum({EPISODE_PREFIX}{c})' for c in EPISODE_COUNTERS)} "
                       f"FROM peer_metrics_1m GROUP BY window_start, title_id, episode")


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= REL_TOLERANCE * max(1.0, abs(a), abs(b))
    return a == b


def compare(got: dict, want: dict) -> dict:
    """Row by row (rows whose every value is 0 ignored): equal?, how many keys and cells differ,
    and each column's total in both."""
    got = {k: v for k, v in got.items() if any(v.values())}
    want = {k: v for k, v in want.items() if any(v.values())}
    columns = list(next(iter(want.values()), None) or next(iter(got.values()), None) or {})
    cells = sum(1 for k in got.keys() & want.keys() for c in columns if not _same(got[k][c], want[k][c]))
    totals = {c: [sum(r[c] for r in got.values()), sum(r[c] for r in want.values())] for c in columns}
    for pair in totals.values():
        if isinstance(pair[0], float) or isinstance(pair[1], float):
            pair[:] = [round(pair[0], 6), round(pair[1], 6)]
    over = {c: pair for c, pair in totals.items() if not _same(*pair)}
    return {"equal": not cells and got.keys() == want.keys(), "rows": len(got), "expected_rows": len(want),
            "missing_rows": len(want.keys() - got.keys()), "extra_rows": len(got.keys() - want.keys()),
            "differing_cells": cells, "differing_totals": over}


# --- one pass of the engine ----------------------------------------------------------------------
def commit_zero(settings: Settings, group: str, topics: list[str]) -> None:
    """Offset 0 for the group on every partition (a new group would start at the latest offset)."""
    partitions = [TopicPartition(t, p) for t in topics for p in range(settings.topic_partitions)]
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group, enable_auto_commit=False)
    try:
        consumer.assign(partitions)
        consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in partitions})
    finally:
        consumer.close()


async def _send_one(settings: Settings, topic: str, value: bytes) -> None:
    out = producer(settings, linger_ms=0)
    await out.start()
    try:
        await out.send_and_wait(topic, value, key=b"calibration")
    finally:
        await out.stop()


def engine_pass(ns: Namespace, label: str, expected: dict[str, int], done_when, timeout: float,
                on_progress=None) -> dict:
    """The peer's tables and views on the topics of `expected` (contract topic → messages on it),
    each topic on a fresh group from offset 0; waits until every topic's messages are read and
    done_when(client) holds (every view has had its block). Returns timings, CPU and the client."""
    s = ns.settings
    client = connect(s)
    clickhouse = services.ClickHouse(ns.base).pid()
    topics = list(expected)
    attempt = dict.fromkeys(topics, 0)

    def group(topic: str) -> str:
        return f"{ns.namespace}-peer-{label}-{short(topic)}" + (f"-r{attempt[topic]}" if attempt[topic] else "")

    def drop_all():
        drop(client, topics)

    ns.cleanups.append(drop_all)

    def start(only: list[str]) -> None:
        create(client, s, {t: group(t) for t in only}, with_target=len(only) == len(topics))

    cpu_before = cpu_seconds(clickhouse)
    created = time.monotonic()
    start(topics)
    steps: list[tuple[float, int]] = []               # (seconds after CREATE, messages read) at each change
    restarts = []
    while True:
        now = time.monotonic()
        read = dict(client.execute("SELECT topic, sum(messages) FROM peer_metrics_1m GROUP BY topic"))
        done = sum(read.values())
        if done and (not steps or steps[-1][1] != done):
            steps.append((round(now - created, 3), done))
            if on_progress:
                on_progress(now - created, done)
        if all(read.get(t, 0) >= n for t, n in expected.items()) and done_when(client):
            now = time.monotonic()
            break
        stalled = [t for t in topics if expected[t] and not read.get(t) and attempt[t] < RESTARTS
                   and now - created > STALLED_S * (attempt[t] + 1)]
        for topic in stalled:
            # 18.16's engine now and then never starts reading a table (group joined, 0 messages):
            # what a user would do is make it again; this topic only, on a fresh group
            drop_topic(client, topic)
            attempt[topic] += 1
            restarts.append((round(now - created, 1), topic))
            start([topic])
        if now - created > timeout:
            raise ServiceError(f"peer ({label}): {done:,} of {sum(expected.values()):,} messages read after "
                               f"{timeout:.0f}s (per topic {read}; restarts {restarts})")
        time.sleep(POLL_S)
    cpu = cpu_seconds(clickhouse) - cpu_before if clickhouse else None
    return {"messages": sum(expected.values()), "seconds": round(now - created, 3), "flushes": steps,
            "restarts": restarts, "clickhouse_cpu_s": round(cpu, 2) if cpu is not None else None,
            "_client": client, "_drop": drop_all}


def finish(ns: Namespace, p: dict) -> None:
    client, drop = p.pop("_client"), p.pop("_drop")
    drop()
    ns.cleanups.remove(drop)
    client.disconnect()


def counted_total(client, table: str = "peer_metrics_1m") -> int:
    """Every count-type title counter of `table`, summed (what the messages must reach)."""
    plain = [c for c in TITLE_COUNTERS if c not in FLOATS]
    return client.execute(f"SELECT {' + '.join(f'sum({c})' for c in plain)} FROM {table}")[0][0] or 0


def expected_total(titles: dict) -> int:
    return sum(v for row in titles.values() for c, v in row.items() if c not in FLOATS and c != "unique_viewers")


def measure(ns: Namespace, label: str, messages, exact: tuple[dict, dict], worker: tuple[dict, dict] | None,
            calibration_s: float | None, say, timeout: float) -> dict:
    counted = Counter(m.topic for m in messages)        # one pass: bench.load.Simulated generates on each
    expected = {t: counted[t] for t in INPUT_TOPICS}
    floor = expected_total(exact[0])
    p = engine_pass(ns, label, expected, lambda client: counted_total(client) >= floor, timeout)
    try:
        time.sleep(0.5)   # a view still writing the last block of a topic (the check read another's)
        titles, episodes = read_metrics(p["_client"], PEER_TITLE_SELECT, PEER_EPISODE_SELECT)
    finally:
        finish(ns, p)
    total = p["messages"]
    total_s = p["seconds"]
    first_s, first_rows = p["flushes"][0]
    if first_rows < total:
        excl_rows, excl_s, short_text = total - first_rows, total_s - first_s, "rows after the first insert ÷ " \
                                                                                 "(first rows → all)"
    elif calibration_s is not None:
        excl_rows, excl_s = total, total_s - calibration_s
        short_text = f"msgs ÷ ({total_s:.2f}s − {calibration_s:.2f}s fixed latency)"
    else:
        excl_rows, excl_s, short_text = total, 0.0, "not measurable"
    cpu = p["clickhouse_cpu_s"]
    result = {
        **p, "topics": list(INPUT_TOPICS), "seconds_incl_flush": total_s,
        "rows_per_s_incl_flush": round(total / total_s),
        "rows_per_s_excl_flush": round(excl_rows / excl_s) if excl_s >= MIN_EXCL_S else None,
        "rows_per_s_excl_flush_at_least": None if excl_s >= MIN_EXCL_S else round(excl_rows / MIN_EXCL_S),
        "excl_short": short_text, "calibration_s": calibration_s,
        "msgs_per_cpu_s": round(total / cpu) if cpu else None,
        "title_vs_messages": compare(titles, exact[0]), "episode_vs_messages": compare(episodes, exact[1]),
        "title_vs_worker": compare(titles, worker[0]) if worker else None,
        "episode_vs_worker": compare(episodes, worker[1]) if worker else None,
    }
    say(f"[peer {label}] {total:,} messages in {total_s:.2f}s: {result['rows_per_s_incl_flush']:,} rows/s incl. "
        f"flush, {excl_text(result)} excl.; ClickHouse CPU {cpu}s ({result['msgs_per_cpu_s']} msgs/CPU-s); "
        f"title_metrics = messages: {result['title_vs_messages']['equal']}, = worker: "
        f"{(result['title_vs_worker'] or {}).get('equal')}; episodes = messages: "
        f"{result['episode_vs_messages']['equal']}")
    return result


def excl_text(result: dict) -> str:
    if result["rows_per_s_excl_flush"] is not None:
        return f"{result['rows_per_s_excl_flush']:,}"
    if result["rows_per_s_excl_flush_at_least"] is not None:
        return f"≥ {result['rows_per_s_excl_flush_at_least']:,}"
    return "—"


def calibrate(ns: Namespace, timeout: float) -> float:
    """CREATE → visible for a fresh Kafka table and group on a topic holding one message."""
    topic = ns.settings.topic(CALIBRATION_TOPIC)
    asyncio.run(_send_one(ns.settings, topic, orjson.dumps(
        {"event_type": "calibration", "title_id": "", "event_time": "2026-01-05T00:00:00Z"})))
    p = engine_pass(ns, "calibration", {CALIBRATION_TOPIC: 1}, lambda client: True, timeout)
    finish(ns, p)
    return p["seconds"]


def run(base: Settings, messages, worker: tuple[dict, dict] | None, say=print, timeout: float = 300.0) -> dict:
    """The peer on `messages`, compared with the messages' exact figures and the worker's (title_metrics_1m,
    episode_metrics_1m of the 1-worker drain)."""
    exact = expected_metrics(messages)
    with Namespace(base, "peer", say) as ns:
        loaded = preload(ns.settings, messages)
        say(f"[peer] pre-loaded {len(messages):,} messages in {loaded['seconds']:.1f}s")
        calibration = calibrate(ns, timeout)
        say(f"[peer] the engine's fixed latency (CREATE → a 1-message topic's row visible): {calibration:.2f}s")
        result = measure(ns, "title_metrics", messages, exact, worker, calibration, say, timeout)
        return {**result, "namespace": ns.namespace, "preload": loaded}


def run_faults(base: Settings, messages, say=print, timeout: float = 300.0) -> dict:
    """The peer on messages with the simulator's injected faults (resent events, out-of-order ones),
    compared with their exact figures (each event once)."""
    exact = expected_metrics(messages)
    ids = {orjson.loads(m.value)["event_id"] for m in messages}
    with Namespace(base, "peer-faults", say) as ns:
        loaded = preload(ns.settings, messages)
        say(f"[faults] pre-loaded {len(messages):,} messages ({len(messages) - len(ids):,} resent) "
            f"in {loaded['seconds']:.1f}s")
        result = measure(ns, "faults", messages, exact, None, None, say, timeout)
        vs = result["title_vs_messages"]
        say(f"[faults] peer's title_metrics = exact: {vs['equal']}; totals that differ (peer, exact): "
            f"{vs['differing_totals']}")
        return {**result, "namespace": ns.namespace, "preload": loaded, "distinct_events": len(ids),
                "resent": len(messages) - len(ids)}
