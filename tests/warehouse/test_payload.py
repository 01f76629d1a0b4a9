"""events_raw keeps each accepted message's JSON text byte for byte, though it stores it packed
(warehouse/payload.py, migration 0016): the worker's own rows, read back through the `payload`
ALIAS, equal the bytes read from Kafka. Over the golden set (json.dumps-style `": "`, times with
offsets, rejects and duplicates), the simulator's output (compact, the packable shape), and values
written in ways pack must leave alone; on current ClickHouse (chdb) in the unit tier, on 18.16 with
the stack."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from bench.load import simulate
from streams import batch
from streams.state import PartitionMemory
from tests import golden
from tests.warehouse import current
from warehouse.payload import MARK, pack, unpack
from warehouse.tables import TABLES

COLUMNS = TABLES["events_raw"].columns
TIME, ID = "2026-01-05T12:00:00.250Z", "e-1"
BASE = {"event_id": ID, "event_type": "episode_start", "event_time": TIME, "schema_version": 1,
        "app_id": "reel", "episode": 1, "session_id": "s-1", "startup_ms": 900, "user_id": "u-1", "title_id": "t-1"}
# values pack must leave in the text, or pack only where the text holds exactly the column's value
TAIL = b'"schema_version":1,"app_id":"reel","episode":1,"session_id":"s-1","startup_ms":900,'
AWKWARD = [
    b'{"event_id":"e-\\u0031","event_type":"episode_start","event_time":"2026-01-05T12:00:00.250Z",'   # escaped
    + TAIL + b'"user_id":"u-1","title_id":"t-1"}',
    b'{"event_id":"e-2","event_type":"episode_start","event_time":"2026-01-05T20:00:00.250+08:00",'  # an offset
    + TAIL + b'"user_id":"u-1","title_id":"t-1"}',
    b'{"event_id":"e-3","event_type":"episode_start","event_time":"2026-01-05T12:00:00.250123Z",'    # µs
    + TAIL + b'"user_id":"u-1","title_id":"t-1"}',
    b'{"event_id":"e-4","event_type":"episode_start","event_time":"2026-01-05T12:00:00Z",'           # quotes
    + TAIL + b'"user_id":"u \\"q\\" 1","title_id":"t-1"}',
    b'{"event_id":"e-5","event_type":"episode_start","event_time":"2026-01-05T12:00:00.250Z",'       # nested key
    + TAIL + b'"extra":{"user_id":"u-1"},"user_id":"u-1","title_id":"t-1"}',
    b'{ "event_id" : "e-6", "event_type":"episode_start", "event_time":"2026-01-05T12:00:00.250Z",'  # spacing
    + TAIL + b'"user_id":"u-6","title_id":"t-1\\u00e9"}\n',
    b'{"event_id": "e-7", "event_type": "episode_start", "event_time": "2026-01-05T12:00:00.250Z", '  # UTF-8
    b'"schema_version": 1, "app_id": "reel", "episode": 1, "session_id": "s-1", "startup_ms": 900, '
    b'"user_id": "\xc3\xa9", "title_id": "t-1"}',
]


def rows(by_topic: dict[str, list[bytes]]) -> tuple[list[list], dict[tuple[str, int], bytes]]:
    """events_raw's columns as the worker builds them, and each accepted message's bytes by place."""
    out, originals = None, {}
    for topic, values in sorted(by_topic.items()):
        part = batch.classify(topic, 0, [batch.Message(topic, 0, n, None, v) for n, v in enumerate(values)],
                              PartitionMemory(), {})
        columns = batch.raw_columns([part], {})
        if columns is None:
            continue
        for offset in columns[COLUMNS.index("offset")]:
            originals[(topic, offset)] = values[offset]
        out = batch._extend(out, columns)
    return out, originals


def golden_messages() -> dict[str, list[bytes]]:
    by_topic = defaultdict(list)
    for m in golden.messages():
        by_topic[m["topic"]].append(m["raw"])
    return dict(by_topic)


def simulated(count: int = 3000) -> dict[str, list[bytes]]:
    by_topic = defaultdict(list)
    for m in simulate(count):
        by_topic[m.topic].append(m.value)
    return dict(by_topic)


def awkward() -> dict[str, list[bytes]]:
    return {"drama.viewing": AWKWARD}


SOURCES = {"golden": golden_messages, "simulator": simulated, "awkward": awkward}


# --- pure ------------------------------------------------------------------------------------------
def test_pack_takes_out_exactly_the_column_values_and_unpack_puts_them_back():
    raw = json.dumps(BASE, separators=(",", ":")).encode()
    packed = pack(raw, ID, TIME, "u-1")
    assert packed == (b'{"event_id":\0,"event_type":"episode_start","event_time":\0,"schema_version":1,'
                      b'"app_id":"reel","episode":1,"session_id":"s-1","startup_ms":900,"user_id":\0,"title_id":"t-1"}')
    assert unpack(packed, ID, TIME, "u-1") == raw
    spaced = json.dumps(BASE).encode()
    assert pack(spaced, ID, TIME, "u-1").count(MARK) == 3
    assert unpack(pack(spaced, ID, TIME, "u-1"), ID, TIME, "u-1") == spaced
    # a value other than the column's stays whole
    assert pack(raw, "e-2", TIME, "u-1").count(MARK) == 2


@pytest.mark.parametrize("source", SOURCES)
def test_every_row_the_worker_builds_unpacks_to_the_bytes_it_read(source):
    columns, originals = rows(SOURCES[source]())
    by_name = dict(zip(COLUMNS, columns))
    assert len(originals) == len(by_name["offset"]) > 0
    marks = 0
    for n, (topic, offset) in enumerate(zip(by_name["topic"], by_name["offset"])):
        packed = by_name["payload_packed"][n]
        marks += packed.count(MARK)
        event_time = json.loads(originals[(topic.decode(), offset)])["event_time"]
        assert unpack(packed, by_name["event_id"][n], event_time, by_name["user_id"][n]) == \
            originals[(topic.decode(), offset)]
    assert marks >= 2 * len(originals)          # the packable shape is the common one: it is packed


# --- through ClickHouse's `payload` ALIAS -----------------------------------------------------------
PAYLOADS = "SELECT topic, offset, hex(payload) FROM events_raw"      # each row's bytes, read through the ALIAS


def payloads_18(client) -> dict[tuple[str, int], bytes]:
    return {(topic, offset): bytes.fromhex(payload) for topic, offset, payload in client.execute(PAYLOADS)}


def payloads_current(s) -> dict[tuple[str, int], bytes]:
    return {(topic, int(offset)): bytes.fromhex(payload) for topic, offset, payload in current.rows(s, PAYLOADS)}


def as_json_rows(columns: list[list]) -> str:
    lines = []
    for row in zip(*columns):
        values = dict(zip(COLUMNS, row))
        values = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in values.items()}
        lines.append(json.dumps(values))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def chdb_session(tmp_path_factory):
    session = pytest.importorskip("chdb.session", reason="chdb is in the test extras: `make install`")
    s = session.Session(str(tmp_path_factory.mktemp("chdb") / "data"))
    current.migrate(s, "drama_payload")
    yield s
    s.close()


@pytest.mark.parametrize("source", SOURCES)
def test_current_clickhouse_reads_back_every_payload_byte_for_byte(chdb_session, source):
    columns, originals = rows(SOURCES[source]())
    s = chdb_session
    s.query("TRUNCATE TABLE events_raw")
    s.query(f"INSERT INTO events_raw ({', '.join(COLUMNS)}) FORMAT JSONEachRow\n{as_json_rows(columns)}")
    assert payloads_current(s) == originals


@pytest.mark.stack
@pytest.mark.parametrize("source", SOURCES)
def test_clickhouse_18_reads_back_every_payload_byte_for_byte(stack, run_id, source):
    from infra.settings import load
    from warehouse.client import connect
    from warehouse.migrate import migrate
    settings = load(namespace=f"pay{run_id}")
    try:
        migrate(settings)
        client = connect(settings)
        columns, originals = rows(SOURCES[source]())
        client.execute(f"INSERT INTO events_raw ({', '.join(COLUMNS)}) VALUES", columns, columnar=True)
        assert payloads_18(client) == originals
        # and the typed columns read the packed text as they read the whole one
        assert client.execute("SELECT countIf(episode > 0), countIf(session_id != '') FROM events_raw") == \
            client.execute("SELECT countIf(visitParamExtractUInt(payload, 'episode') > 0), "
                           "countIf(visitParamExtractString(payload, 'session_id') != '') FROM events_raw")
    finally:
        connect(stack, "default").execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")


@pytest.mark.stack
def test_migration_0016_keeps_the_rows_and_distinct_users_written_before_it(stack, run_id, monkeypatch):
    """A database holding events before 0016: after it, each payload reads the same, the distinct
    users by day (now counted on 8-byte hashes) are the same, and new rows feed the rebuilt views."""
    from infra.settings import load
    from warehouse import migrate as migrations
    from warehouse.client import connect
    settings = load(namespace=f"pay{run_id}")
    every = migrations.files()
    users = ("SELECT toDate(window_start) AS day, app_id, uniqExactIfMerge(users) FROM active_users_1d_rollup "
             "GROUP BY day, app_id ORDER BY day, app_id")
    viewers = ("SELECT toDate(window_start) AS day, title_id, uniqExactIfMerge(viewers), uniqExactIfMerge(payers) "
               "FROM title_users_1d_rollup GROUP BY day, title_id ORDER BY day, title_id")
    truth = ("SELECT toDate(event_time) AS day, app_id, uniqExactIf(user_id, user_id != '') FROM events_raw "
             "GROUP BY day, app_id ORDER BY day, app_id")
    try:
        monkeypatch.setattr(migrations, "files", lambda codecs=False: {v: p for v, p in every.items() if v < "0016"})
        migrations.migrate(settings)
        client = connect(settings)
        columns, originals = rows(golden_messages())
        old = [("payload" if c == "payload_packed" else c) for c in COLUMNS]
        whole = [originals[(t.decode(), o)] for t, o in zip(columns[COLUMNS.index("topic")],
                                                             columns[COLUMNS.index("offset")])]
        client.execute(f"INSERT INTO events_raw ({', '.join(old)}) VALUES",
                       columns[:COLUMNS.index("payload_packed")] + [whole], columnar=True)
        before = (client.execute(users), client.execute(viewers))
        assert before[0] and before[1]

        monkeypatch.setattr(migrations, "files", lambda codecs=False: every)
        assert migrations.migrate(settings) == [v for v in every if v >= "0016"]
        assert payloads_18(client) == originals
        assert (client.execute(users), client.execute(viewers)) == before

        # the same users on the same days again, through the new views: their states merge with the
        # backfilled ones, so a view hashing otherwise than the backfill would count them twice
        again = [list(c) for c in columns]
        again[COLUMNS.index("event_id")] = [f"{e}-again" for e in again[COLUMNS.index("event_id")]]
        client.execute(f"INSERT INTO events_raw ({', '.join(COLUMNS)}) VALUES", again, columnar=True)
        assert (client.execute(users), client.execute(viewers)) == before
        more, _ = rows(simulated(2000))
        client.execute(f"INSERT INTO events_raw ({', '.join(COLUMNS)}) VALUES", more, columnar=True)
        assert client.execute(users) == client.execute(truth) != before[0]
    finally:
        connect(stack, "default").execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")


def test_current_clickhouse_takes_the_codec_layout_on_a_table_holding_rows(chdb_session):
    """docker-compose's upgrade path: rows written before migrations/current/ read the same after
    it, and the columns have their new types (the ALTERs rewrite the parts)."""
    from warehouse.migrate import CURRENT, files
    s = chdb_session
    s.query("CREATE DATABASE drama_upgrade")
    s.query("USE drama_upgrade")
    try:
        for path in files(codecs=False).values():
            current.run(s, path.read_text())
        columns, originals = rows(simulated(2000))
        s.query(f"INSERT INTO events_raw ({', '.join(COLUMNS)}) FORMAT JSONEachRow\n{as_json_rows(columns)}")
        for version, path in files(codecs=True).items():
            if version.startswith(f"{CURRENT.name}/"):
                current.run(s, path.read_text())
        assert payloads_current(s) == originals
        types = dict(current.rows(
            s, "SELECT name, type FROM system.columns WHERE database = 'drama_upgrade' AND table = 'events_raw'"))
        assert types["event_type"] == types["title_id"] == "LowCardinality(String)"
    finally:
        s.query("USE drama_payload")
        s.query("DROP DATABASE drama_upgrade")
