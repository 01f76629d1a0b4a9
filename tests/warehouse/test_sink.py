"""ClickHouseSink after a failed insert: what landed is not written again (warehouse/sink.py).

A lost reply is simulated where it happens in production: the block reaches ClickHouse, then
the client sees an error and the caller retries the same block."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from warehouse.sink import ClickHouseSink
from warehouse.tables import TABLES, TITLE_COUNTERS

DAY1 = int(datetime(2026, 1, 5, 23, 59, tzinfo=timezone.utc).timestamp())
DAY2 = int(datetime(2026, 1, 6, 0, 1, tzinfo=timezone.utc).timestamp())


def raw_block(offsets) -> list[list]:
    n = len(offsets)
    return [[f"e{o}" for o in offsets], ["like"] * n, [DAY1] * n, [0] * n, ["app"] * n, ["u"] * n, ["t"] * n,
            [b"drama.engagement"] * n, [0] * n, list(offsets), [b"{}"] * n]


def title_block(stamp_last: int) -> list[list]:
    """Rows of one batch of partition 0 on two days (two ClickHouse partitions)."""
    rows = [(DAY1, "t1", 3), (DAY2, "t1", 4), (DAY2, "t2", 5)]
    columns = {c: [] for c in TABLES["title_metrics_1m_parts"].columns}
    for window, title, starts in rows:
        for c in TITLE_COUNTERS:
            columns[c].append(0.0 if c.endswith("_usd") or c == "watch_seconds" else 0)
        columns["episode_starts"][-1] = starts
        columns["window_start"].append(window)
        columns["title_id"].append(title)
        columns["user_id"].append("")
        columns["src_topic"].append(b"drama.viewing")
        columns["src_partition"].append(0)
        columns["src_first_offset"].append(stamp_last - 10)
        columns["src_last_offset"].append(stamp_last)
    return list(columns.values())


class LostReply:
    """The client of a sink whose next insert lands and then fails, as when the reply is lost."""

    def __init__(self, client):
        self.client, self.armed = client, True

    def execute(self, query, *args, **kwargs):
        result = self.client.execute(query, *args, **kwargs)
        if self.armed and query.startswith("INSERT"):
            self.armed = False
            raise ConnectionError("connection reset while reading the reply")
        return result

    def disconnect(self):
        self.client.disconnect()


def test_a_landed_block_whose_reply_was_lost_is_not_written_twice(database):
    settings, client = database
    sink = ClickHouseSink(settings, "events_raw")
    sink.setup()
    sink.client = LostReply(sink.client)
    with pytest.raises(ConnectionError):
        sink.write(raw_block([5, 6, 7]))
    assert sink.write(raw_block([5, 6, 7])) == 0                 # the retry: nothing left to write
    assert sink.write(raw_block([8, 9])) == 2                    # and the next batch is written whole
    assert client.execute("SELECT offset, count() FROM events_raw GROUP BY offset ORDER BY offset") == \
        [(o, 1) for o in (5, 6, 7, 8, 9)]


def test_a_block_that_landed_on_one_day_only_gets_the_other_day_written(database):
    settings, client = database
    block = title_block(stamp_last=40)
    day1 = [column[:1] for column in block]                        # the part of day 1 landed, day 2 did not
    client.execute(f"INSERT INTO title_metrics_1m_parts ({', '.join(TABLES['title_metrics_1m_parts'].columns)}) "
                   f"VALUES", day1, columnar=True)
    sink = ClickHouseSink(settings, "title_metrics_1m_parts")
    sink.uncertain = True                                          # its insert had failed
    assert sink.write(block) == 2
    assert sink.write(title_block(stamp_last=41)) == 3             # another batch: nothing held back
    assert client.execute("SELECT toString(window_start) AS w, title_id, sum(episode_starts) FROM "
                          "title_metrics_1m_parts GROUP BY w, title_id ORDER BY w, title_id") == [
        ("2026-01-05 23:59:00", "t1", 6), ("2026-01-06 00:01:00", "t1", 8), ("2026-01-06 00:01:00", "t2", 10)]
    assert client.execute("SELECT countMerge(parts_rows) FROM title_metrics_1d_rollup") == [(6,)]


def test_a_row_that_cannot_be_stored_is_refused_alone_and_the_rest_written_once(database):
    """A data error (here a value out of UInt64's range, refused while the driver serialises the
    block) is not retried forever: the block is bisected to the rows that fail alone, which are
    left in `refused`, and every other row is written exactly once."""
    settings, client = database
    sink = ClickHouseSink(settings, "title_metrics_1m_parts")
    block = title_block(stamp_last=100)
    at = TABLES["title_metrics_1m_parts"].columns.index("startup_ms_sum")
    block[at][1] = 2**70
    assert sink.write(block) == 2
    assert [(row["title_id"], row["episode_starts"]) for row, _ in sink.refused] == [("t1", 4)]
    assert "startup_ms_sum" in sink.refused[0][1], sink.refused
    rows = client.execute("SELECT title_id, episode_starts FROM title_metrics_1m_parts ORDER BY title_id")
    assert rows == [("t1", 3), ("t2", 5)]
    assert sink.write(title_block(stamp_last=200)) == 3 and sink.refused == []    # and it goes on as before
