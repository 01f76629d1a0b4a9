"""Forget a user: their events and profile leave every table that holds their id, and the metrics
are rebuilt as if they had never been sent.

    python -m warehouse forget-user USER_ID [--yes]          (workers stopped: `make down` first)

    events_raw, events_rejected ──ALTER TABLE … DELETE (the user's rows; waited for)──►
    the days they touched ──python -m streams.replay──► *_1m_parts and their rollups, rebuilt
                          ──the views' own SELECT──► the rollups read from events_raw (title users, active users)
                          ──reach.close──► the closed days' distinct counts
    forget_requests ◄── SHA-256 of the id, the time, the rows each table lost

The per-user rows of the metric parts (unique viewers, viewers and payers by segment) go with
the rebuild, and so does the user's contribution to every counter. The rebuild is streams'
replay (a layer above this one), run as its own command. A rejected message counts as the
user's when its raw JSON names them as `user_id`.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from datetime import date, datetime, timezone

from infra.process import running_workers
from infra.settings import ROOT, Settings, load
from warehouse import reach
from warehouse.client import connect, swap_partition
from warehouse.maintain import rollups

# table → the condition that selects the user's rows (%(u)s is the user id)
HOLDERS = {
    "events_raw": "user_id = %(u)s",
    "events_rejected": "visitParamExtractString(raw, 'user_id') = %(u)s",
}
MUTATION_TIMEOUT_S = 600.0


def user_hash(user_id: str) -> str:
    return hashlib.sha256(user_id.encode()).hexdigest()


def what_holds(client, user_id: str) -> tuple[dict, list[date]]:
    """(table → rows of the user, the days of their accepted events)."""
    rows = {table: client.execute(f"SELECT count() FROM {table} WHERE {where}", {"u": user_id})[0][0]
            for table, where in HOLDERS.items()}
    days = [d for (d,) in client.execute("SELECT DISTINCT toDate(event_time) AS d FROM events_raw "
                                         "WHERE user_id = %(u)s ORDER BY d", {"u": user_id})]
    return rows, days


def wait_for_mutations(client, database: str, timeout: float = MUTATION_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while client.execute("SELECT count() FROM system.mutations WHERE database = %(db)s AND is_done = 0",
                         {"db": database})[0][0]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the deletions on {database} are not done after {timeout:.0f}s; "
                               f"see system.mutations (they go on in the background)")
        time.sleep(0.2)


def forget_user(settings: Settings, user_id: str, say=print) -> dict:
    """Delete the user's rows, rebuild what they touched, record the request (see the module's docstring)."""
    live = running_workers(settings)
    if live:
        raise RuntimeError(f"workers are running on {settings.clickhouse_db} ({', '.join(live)}): stop them "
                           f"(make down) first, or they would write while the days are rebuilt")
    client = connect(settings)
    try:
        rows, days = what_holds(client, user_id)
        for table, where in HOLDERS.items():
            if rows[table]:
                client.execute(f"ALTER TABLE {table} DELETE WHERE {where}", {"u": user_id})
        wait_for_mutations(client, settings.clickhouse_db)
        left, _ = what_holds(client, user_id)
        if any(left.values()):
            raise RuntimeError(f"rows of the user are still there after the deletion: {left}")
        if days:
            say(f"forget-user: rebuilding {len(days)} day(s) ({days[0]} … {days[-1]}) without the user")
            subprocess.run([sys.executable, "-m", "streams.replay", "--since", str(days[0]), "--until", str(days[-1])],
                           cwd=ROOT, env=settings_env(settings), check=True)
            for rollup in rollups(client, settings.clickhouse_db):
                if rollup.source == "events_raw":
                    for day in days:
                        number = int(day.strftime("%Y%m%d"))
                        select = rollup.select_day(settings.clickhouse_db, number)
                        swap_partition(client, rollup.table, str(number), select)
            reach.close(settings, say=lambda _: None)
        affected = sum(rows.values())
        client.execute("INSERT INTO forget_requests (requested_at, user_hash, rows_affected, tables, rebuilt_days) "
                       "VALUES",
                       [(datetime.now(timezone.utc).replace(tzinfo=None), user_hash(user_id), affected,
                         ", ".join(f"{t}: {n}" for t, n in rows.items()), ", ".join(map(str, days)))])
    finally:
        client.disconnect()
    say(f"forget-user: {affected} row(s) removed ({', '.join(f'{t} {n}' for t, n in rows.items())}); "
        f"{len(days)} day(s) rebuilt; recorded in forget_requests as {user_hash(user_id)[:12]}…")
    return {"rows": rows, "days": days}


def settings_env(settings: Settings) -> dict:
    return {**os.environ, **settings.as_env(), "PYTHONPATH": str(ROOT)}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m warehouse forget-user", description=__doc__.split("\n\n")[0])
    p.add_argument("user_id")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = p.parse_args(argv)
    settings = load()
    client = connect(settings)
    rows, days = what_holds(client, args.user_id)
    client.disconnect()
    held = ", ".join(f"{n} row(s) in {t}" for t, n in rows.items())
    print(f"user {args.user_id!r} on {settings.clickhouse_db}: {held}; {len(days)} day(s) of metrics to rebuild.")
    if not args.yes:
        if not sys.stdin.isatty():
            print("ERROR not confirmed: run it in a terminal, or add --yes", file=sys.stderr)
            return 2
        if input("Forget this user? This cannot be undone. Type 'forget' to go on: ").strip() != "forget":
            print("not forgotten")
            return 1
    try:
        forget_user(settings, args.user_id)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"ERROR {error}", file=sys.stderr)
        return 2
    return 0
