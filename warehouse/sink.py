"""A ClickHouse sink: `setup()` once, then `write(columns)` as one columnar insert per batch.

Columns come in the order warehouse/tables.py declares for the table.

An insert whose reply is lost (ClickHouse died, the connection broke) may have landed, whole or
in part: a block that spans several partitions of the table (days, months) is written as one
part per partition, each atomic on its own. The caller retries the same block, so after a
failure the next write first asks what landed and inserts only the rest:
- tables whose rows carry their own message's place (topic, partition, offset): the rows
  already there, by that key;
- tables whose rows carry their batch's stamp (src_topic, src_partition, src_last_offset): the
  (stamp, day of window_start) groups already there; a group is within one partition, so it
  landed whole or not at all.

Errors come in two kinds (`is_data_error`). A transient one (connection, timeout, too many parts,
memory) is raised for the caller to retry. A data one (type mismatch, out of range, cannot parse)
would fail the same way forever: the block is bisected against `<table>_probe`, a Null-engine copy
(nothing reaches the table itself), down to the rows that fail alone; the other rows are written
once, and the refused ones are left in `refused` for the caller to dead-letter.
"""
from __future__ import annotations

import struct
from datetime import datetime, timezone
from itertools import compress
from typing import Callable, Sequence

from clickhouse_driver.errors import ServerException, TypeMismatchError

from infra.settings import Settings
from warehouse.client import connect
from warehouse.tables import SOURCE, TABLES


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def utc_day(value) -> int:
    """YYYYMMDD (UTC) of a window_start given as a datetime or as Unix seconds."""
    at = value if isinstance(value, datetime) else datetime.fromtimestamp(int(value), timezone.utc)
    return int(at.strftime("%Y%m%d"))


# ClickHouse's codes for a value that cannot be stored as it is: retrying cannot help.
DATA_ERROR_CODES = frozenset({6, 27, 38, 41, 53, 69, 70, 72, 131, 321})


def is_data_error(error: BaseException) -> bool:
    """A value that cannot be stored (client-side serialisation included), not a passing failure."""
    if isinstance(error, (TypeMismatchError, struct.error, OverflowError, TypeError, ValueError, UnicodeError)):
        return True
    return isinstance(error, ServerException) and error.code in DATA_ERROR_CODES


class ClickHouseSink:
    def __init__(self, settings: Settings, table: str, connect_to: Callable[[], object] | None = None):
        self.settings = settings
        self.connect = connect_to or (lambda: connect(settings))     # the cluster: a shard's replica
        self.table = table
        self.columns = TABLES[table].columns
        self.client = None
        self.uncertain = False          # the last insert failed: it may have landed, whole or in part
        self.refused: list[tuple[dict, str]] = []  # the last write's rows a data error refused: (column → value, why)
        self._insert = f"INSERT INTO {table} ({', '.join(self.columns)}) VALUES"

    def setup(self) -> None:
        self.client = self.connect()
        self.client.execute(f"SELECT {', '.join(self.columns)} FROM {self.table} LIMIT 0")

    def write(self, columns: Sequence[list]) -> int:
        """Insert one block: a list per column, all of one length. After a failed write, only what
        the table does not hold yet. Returns the rows inserted."""
        if not columns or not columns[0]:
            return 0
        if len(columns) != len(self.columns):
            raise ValueError(f"{self.table} takes {len(self.columns)} columns ({', '.join(self.columns)}); "
                             f"got {len(columns)}")
        self.refused = []
        try:
            if self.client is None:
                self.setup()
            if self.uncertain:
                columns = self.not_yet_written(columns)
            if columns and columns[0]:
                self.client.execute(self._insert, columns, columnar=True, types_check=False)
        except Exception as error:
            self._drop_client()
            if not is_data_error(error):
                self.uncertain = True       # a broken connection is rebuilt on the next write; the caller retries
                raise
            refused = self.find_refused(columns, error)
            bad = {row for row, _ in refused}
            rows = [({name: columns[k][row] for k, name in enumerate(self.columns)}, why) for row, why in refused]
            columns = [[v for n, v in enumerate(column) if n not in bad] for column in columns]
            written = self.write(columns) if columns and columns[0] else 0
            self.refused = rows
            return written
        self.uncertain = False
        return len(columns[0]) if columns else 0

    def _drop_client(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client = None

    def find_refused(self, columns: Sequence[list], error: BaseException) -> list[tuple[int, str]]:
        """The rows of `columns` that a data error refuses, found by bisection into `<table>_probe`, a
        Null-engine copy that checks a block as the table would and keeps nothing (migration 0014)."""
        whole = f"{type(error).__name__}: {str(error)[:300]}"
        probe = self.connect()
        insert = f"INSERT INTO {self.table}_probe ({', '.join(self.columns)}) VALUES"
        try:
            refused: list[tuple[int, str]] = []
            pending = [list(range(len(columns[0])))]
            while pending:
                rows = pending.pop()
                try:
                    probe.execute(insert, [[column[n] for n in rows] for column in columns],
                                  columnar=True, types_check=False)
                except Exception as own:  # noqa: BLE001 - sorted below
                    if not is_data_error(own):
                        raise
                    if len(rows) == 1:
                        refused.append((rows[0], f"{type(own).__name__}: {str(own)[:300]}"))
                    else:
                        pending += [rows[len(rows) // 2:], rows[:len(rows) // 2]]
            return sorted(refused) or [(n, whole) for n in range(len(columns[0]))]   # no row fails alone
        finally:
            probe.disconnect()

    def not_yet_written(self, columns: Sequence[list]) -> list[list]:
        """The rows of `columns` the table does not hold (see the module's docstring)."""
        spec = TABLES[self.table]
        if spec.high_water is None:
            return list(columns)
        at = {name: n for n, name in enumerate(self.columns)}
        topic, partition, offset = (columns[at[c]] for c in spec.high_water)
        if spec.high_water == SOURCE:
            keys = list(zip(map(_text, topic), partition, offset))
            ranges: dict = {}
            for t, p, o in keys:
                low, high = ranges.get((t, p), (o, o))
                ranges[(t, p)] = (min(low, o), max(high, o))
            held = set()
            for (t, p), (low, high) in ranges.items():
                held |= {(t, p, o) for (o,) in self.client.execute(
                    f"SELECT {spec.high_water[2]} FROM {self.table} WHERE {spec.high_water[0]} = %(t)s "
                    f"AND {spec.high_water[1]} = %(p)s AND {spec.high_water[2]} BETWEEN %(low)s AND %(high)s",
                    {"t": t, "p": p, "low": low, "high": high})}
        else:
            by_day = "window_start" in at
            days = list(map(utc_day, columns[at["window_start"]])) if by_day else [0] * len(topic)
            keys = list(zip(map(_text, topic), partition, offset, days))
            stamps = tuple({k[:3] for k in keys})
            day = "toYYYYMMDD(window_start)" if by_day else "0"
            held = set(self.client.execute(
                f"SELECT DISTINCT {', '.join(spec.high_water)}, {day} FROM {self.table} "
                f"WHERE ({', '.join(spec.high_water)}) IN %(stamps)s", {"stamps": stamps}))
        keep = [k not in held for k in keys]
        return [list(compress(column, keep)) for column in columns]


class ShardedSink:
    """The cluster's sink for one table (warehouse/cluster.py): each row goes to the shard its
    topic-partition maps to (`shard_of`), into <db>_shard on a live replica of it, through one
    ClickHouseSink per shard. A failed write leaves every shard's sink asking, on the retry, what
    landed (a shard may have taken its rows while another failed); block de-duplication of the
    Replicated tables would drop an identical block anyway."""

    def __init__(self, settings: Settings, table: str):
        from warehouse import cluster
        self.table = table
        self.columns = TABLES[table].columns
        self.source = [self.columns.index(c) for c in (TABLES[table].high_water or SOURCE)[:2]]
        self.shard_of = lambda topic, partition: cluster.shard_of(settings, _text(topic), partition)
        self.shards = {shard: ClickHouseSink(settings, table, lambda shard=shard: cluster.shard_client(settings, shard))
                       for shard in range(1, settings.cluster_shards + 1)}
        self.refused: list[tuple[dict, str]] = []

    def setup(self) -> None:
        for sink in self.shards.values():
            sink.setup()

    def write(self, columns: Sequence[list]) -> int:
        if not columns or not columns[0]:
            return 0
        topics, partitions = (columns[n] for n in self.source)
        rows_of: dict[int, list[int]] = {}
        for row, (topic, partition) in enumerate(zip(topics, partitions)):
            rows_of.setdefault(self.shard_of(topic, partition), []).append(row)
        self.refused, written = [], 0
        try:
            for shard, rows in sorted(rows_of.items()):
                part = columns if len(rows) == len(columns[0]) else [[column[n] for n in rows] for column in columns]
                written += self.shards[shard].write(part)
                self.refused += self.shards[shard].refused
        except Exception:
            for sink in self.shards.values():
                sink.uncertain = True
            raise
        return written
