"""The data dictionary in warehouse/README.md, generated from the DDL and the contract.

    python -m warehouse.dictionary           # rewrite the block between the markers in warehouse/README.md
    python -m warehouse.dictionary --check   # exit 1 if that block is stale

Every table and view comes from the migrations themselves, applied to an empty database in chdb
(current ClickHouse in-process, so no server is needed and the output does not depend on one).
A column's meaning is the contract's where the contract defines it (the tables of
../shared/spec/metrics-v1.md), else the title metric's declaration's (warehouse/metrics.py), else
this module's; a column nobody describes fails `--check`.
"""
from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from infra.settings import ROOT
from warehouse.metrics import TITLE_METRICS, meaning as metric_meaning
from warehouse.migrate import MIGRATIONS, statements

README = Path(__file__).resolve().parent / "README.md"
CONTRACT = ROOT.parent / "shared" / "spec" / "metrics-v1.md"
START, END = "<!-- dictionary:start (python -m warehouse.dictionary) -->", "<!-- dictionary:end -->"

GRAIN = {
    "events_raw": "one row per accepted event (first sighting), late ones included; the replay source",
    "events_rejected": "one row per rejected message",
    "title_events": "one row per content event (script_created, episode_released, title_launched)",
    "title_metrics_1m_parts": "per worker batch and partition: counters per (minute, title), and one row per "
                              "(minute, title, viewer) for distinct counts; dropped by day after the horizon",
    "episode_metrics_1m_parts": "per worker batch and partition: counters per (minute, title, episode)",
    "segment_metrics_1m_parts": "per worker batch and partition: money per (minute, segment), and one row per "
                                "(minute, segment, user) who viewed or paid",
    "title_first_views_parts": "per worker batch and partition: the earliest episode_start per title",
    "pipeline_health_1m_parts": "per worker batch and partition: processing counts per minute of processing time",
    "recreate_signals_log": "one row per signal written (a restarted detector may write one again)",
    "title_forecasts_log": "one row per (title, as_of) scored by streams/forecasts.py (a restarted scorer may "
                           "write one again)",
    "title_forecasts": "per (title, as_of): the newest score of an original title in its first 7 days",
    "schema_migrations": "one row per applied migration (and one more when its checksum was first recorded)",
    "title_users_1d_rollup": "states per (day, title): distinct viewers and payers, from events_raw",
    "active_users_1d_rollup": "states per (day, app): distinct users with any accepted event, from events_raw",
    "active_users_1d": "per (day, app): distinct users with any accepted event (DAU; closed days from app_reach)",
    "titles": "per title: the create stage",
    "recreate_signals": "per signal_id",
    "loop_cycles": "per derived title: signal → script → launch → first view",
    "pipeline_health_1m": "per minute of processing time",
    "title_kpis_1d": "per (day, title): KPIs as ratios of the day's sums",
    "kpis_1d": "per day: payer rate and ARPPU over all segments (closed days from viewer_reach)",
    "title_roi": "per title: lifetime revenue against production cost",
    "adaptation_kpis": "per adaptation (native, localized, western)",
    "cultural_discount": "one row: 1 − KPI(native) ÷ KPI(localized)",
    "titles_30d": "per title: exact viewers, starts and revenue of the last 30 closed days (title_reach_latest)",
    "adaptation_30d": "per adaptation: completion and payer rate of the last 30 closed days (adaptation_reach_latest)",
}
for family, key in (("title_metrics", "title"), ("episode_metrics", "(title, episode)"),
                    ("segment_metrics", "segment (gender, age band, country)")):
    for grain, unit in (("1m", "minute"), ("1h", "hour"), ("1d", "day")):
        GRAIN[f"{family}_{grain}"] = f"per ({unit}, {key}): one row per key, read from the {grain} rollup"
        GRAIN[f"{family}_{grain}_rollup"] = (f"states per ({unit}, {key}), fed by a materialized view on "
                                             f"{family}_1m_parts; read with -Merge")
        GRAIN[f"{family}_{grain}_rollup_mv"] = f"materialized view: {family}_1m_parts → {family}_{grain}_rollup"
for table, key in (("title_reach", "title"), ("segment_reach", "segment"), ("viewer_reach", "all segments"),
                   ("app_reach", "app"), ("adaptation_reach", "adaptation")):
    GRAIN[table] = (f"per (as_of, days, {key}): exact distinct counts of the `days` closed days ending with as_of, "
                    f"finalized by python -m warehouse.maintain")
    GRAIN[f"{table}_latest"] = (f"per (days, {key}): the newest window of {table} still current (its "
                                f"source_rows equal the rollup's now)")
for table in ("events_rejected", "events_raw", "title_events", "title_metrics_1m_parts",
              "episode_metrics_1m_parts", "segment_metrics_1m_parts", "title_first_views_parts",
              "pipeline_health_1m_parts", "recreate_signals_log", "title_forecasts_log"):
    GRAIN[f"{table}_probe"] = (f"Null engine, no rows: {table}'s columns, where the worker finds which rows of a "
                               f"block ClickHouse refuses (warehouse/sink.py)")
GRAIN["forget_requests"] = "one row per forgotten user (python -m warehouse forget-user): the audit"
GRAIN["title_users_1d_rollup_mv"] = "materialized view: events_raw → title_users_1d_rollup"
GRAIN["active_users_1d_rollup_mv"] = "materialized view: events_raw → active_users_1d_rollup"

MEANINGS = {
    # the hit forecast (title_forecasts, streams/forecasts.py, docs/forecast.md)
    "hours_since_launch": "hours from the title's launch to as_of",
    "p_payback": "P(30-day revenue at the full audience ≥ production cost + ad spend), forecast/model.json",
    "p_hit": "P(30-day revenue ≥ 10 × that cost); null while the model has no hit regression",
    "model_version": "the forecast model that scored the row (forecast/model.json `version`)",
    "completion": "episode completes ÷ starts, over the title's span so far",
    "pay_through": "unlocks ÷ paywalls shown at the title's first paywall episode, so far",
    "hit_signal": "1 on the row whose p_hit first reached the model's threshold: the hit_forecast signal sent",
    # where a row comes from
    "src_topic": "Kafka topic of the batch this row was built from",
    "src_partition": "its partition",
    "src_first_offset": "the batch's first offset in that partition",
    "src_last_offset": "the batch's last offset in that partition (the table's high-water mark)",
    "written_at": "when the worker wrote the row (server time)",
    "ingested_at": "when the worker wrote the row (server time)",
    "rejected_at": "when the message was rejected (server time)",
    "topic": "Kafka topic the message was read from", "partition": "its partition", "offset": "its offset",
    "parts_rows": "count of source rows folded into this row (python -m warehouse.maintain compares it)",
    # events_raw
    "event_id": "the event's id (de-duplication key)", "event_type": "the event's type (events-v1.md)",
    "event_time": "the event's time, UTC, to the second", "event_time_us": "its microseconds",
    "event_ts": "the event's time as Unix seconds with fraction",
    "app_id": "the app that sent it", "user_id": "the user ('' when the event has none)",
    "title_id": "the title ('' when the event has none)",
    "payload": "the original JSON text, byte for byte (an ALIAS: rebuilt from payload_packed)",
    "payload_packed": "the JSON text without the values the row's columns hold (warehouse/payload.py)",
    "episode": "episode number", "session_id": "viewing session", "channel": "acquisition channel",
    "campaign_id": "acquisition campaign", "cost_usd": "teaser impression cost, US$",
    "watch_ms": "teaser watch time, ms", "startup_ms": "episode start-up time, ms",
    "watch_s": "seconds watched (episode_complete)", "position_s": "position at exit, s (episode_exit)",
    "rebuffer_ms": "rebuffering, ms", "method": "unlock method: coins, subscription, rewarded_ad",
    "coins_spent": "coins spent on the unlock", "product": "purchased product", "amount_usd": "purchase amount, US$",
    "coins": "coins bought", "placement": "ad placement", "revenue_usd": "ad or title revenue, US$",
    "stars": "rating, 1 to 5", "gender": "segment: gender", "age_band": "segment: age band",
    "country": "segment: country (ISO 3166-1 alpha-2; ZZ unknown)",
    # rejected
    "reason": "the reason code (events-v1.md, Bad input)", "detail": "what was wrong, in words",
    "raw": "the original bytes, as text (the first 64 KiB of a larger message)",
    # the audit of forgotten users
    "requested_at": "when the user was forgotten (UTC)", "user_hash": "SHA-256 of the forgotten user's id, in hex",
    "rows_affected": "rows removed from the tables that held the user's id",
    "tables": "the rows removed, per table", "rebuilt_days": "the days of metrics rebuilt without the user",
    # parts and rollups
    "window_start": "start of the window (UTC): the minute, hour or day",
    "viewer": "1 on a (window, segment, user) row of a viewer", "payer": "1 on a row of a payer",
    "viewers": "distinct users with episode_start", "payers": "distinct users with purchase",
    "users": "distinct users with any accepted event",
    "starts": "count of episode_start", "completes": "count of episode_complete", "exits": "count of episode_exit",
    "unlocks": "count of episode_unlocked, all methods", "first_view_ts": "earliest episode_start, Unix seconds",
    "events_in": "messages processed", "accepted": "accepted first sightings", "duplicates": "duplicates dropped",
    "rejected": "messages rejected", "late": "accepted events too late for a window",
    "max_event_lag_s": "largest processing time − event time, s",
    # titles and the loop
    "title_name": "the title as audiences see it (the title_id when not sent)", "trope": "story trope",
    "genre": "genre", "origin": "ai, human or hybrid", "adaptation": "native, localized or western",
    "parent_title_id": "the title this one derives from ('' when original)",
    "signal_id": "the re-create signal behind it ('' when none)",
    "production_cost_usd": "production cost, real-world US$", "virtual_actors": "1 when made with virtual actors",
    "audience_scale": "the share of the audience its titles are made for that the events cover (1: all of it; "
                      "the simulator's sample sends sim_audience_scale)",
    "revenue_full_audience_usd": "revenue_usd ÷ audience_scale: the revenue at the audience the title is made for",
    "episodes_total": "episodes the title launched with", "free_episodes": "free episodes before the paywall",
    "score": "feedback score of the minute that fired",
    "emitted_at": "when the signal was emitted, in event time: the latest feedback of the surging minute",
    "detected_at": "when the worker's rule fired, by its wall clock",
    "emitted_ts": "the same, Unix seconds", "window_end": "end of the feedback window",
    "as_of": "the last (closed) day of the window", "days": "the window's length in days: 1, 7 or 30",
    "source_rows": "the rollup's countMerge(parts_rows) over the window when computed (stale when it differs)",
    "computed_at": "when warehouse.maintain computed the row",
    "version": "migration file name", "applied_at": "when it was applied", "checksum": "sha256 of the file",
    # KPI views
    "day": "the day (UTC)", "hook_rate": "hook_views ÷ teaser_impressions", "teaser_ctr": "teaser_clicks ÷ impressions",
    "cpi_usd": "ad_spend_usd ÷ installs", "completion_rate": "episode completes ÷ starts",
    "paywall_conversion": "unlocks ÷ paywalls shown", "paid_unlock_share": "coin and subscription unlocks ÷ unlocks",
    "roas": "(IAP + ad revenue) ÷ ad spend", "mean_startup_ms": "startup_ms_sum ÷ episode_starts",
    "rebuffer_ratio": "rebuffer ms ÷ (watch ms + rebuffer ms)", "iap_usd": "IAP revenue, US$",
    "ad_usd": "ad revenue, US$", "spend_usd": "ad spend, US$", "payer_rate": "payers ÷ viewers",
    "arppu_usd": "IAP revenue ÷ payers", "roi": "revenue_full_audience_usd ÷ production_cost_usd",
    "completion_rate_discount": "1 − completion rate(native) ÷ completion rate(localized)",
    "payer_rate_discount": "1 − payer rate(native) ÷ payer rate(localized)",
    "script_created_at": "first script_created time", "launched_at": "first title_launched (null before)",
    "episodes_released": "distinct episodes released",
    "virtual_actor_episodes": "released episodes with virtual actors",
    "signal_time": "when the signal was emitted (its emitted_at, event time)",
    "script_created_time": "when the derived script was created",
    "launched_time": "when it launched", "first_view_time": "its first episode_start",
    "signal_to_script_s": "seconds from signal to script", "script_to_launch_s": "seconds from script to launch",
    "launch_to_first_view_s": "seconds from launch to first view",
}

METRICS = {m.name: metric_meaning(m) for m in TITLE_METRICS}


def contract_meanings(text: str) -> dict[str, str]:
    """Column → definition from the contract's tables (`| stage | `col`, `col2` | definition |`)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.lstrip().startswith("|"):
            continue
        names = [c for cell in cells[:-1] for c in re.findall(r"`(\w+)`", cell)]
        definition = cells[-1]
        if names and definition and not set(definition) <= set("-: "):
            for name in names:
                found.setdefault(name, definition.replace("|", "/"))
    return found


def objects() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(name, engine, [(column, type)]) of every table and view the migrations make, from chdb."""
    from chdb import session
    with tempfile.TemporaryDirectory() as path:
        s = session.Session(path)
        try:
            s.query("CREATE DATABASE drama")
            s.query("USE drama")
            for migration in sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql")):
                for statement in statements(migration.read_text()):
                    s.query(statement.rstrip(";"))
            s.query("CREATE TABLE IF NOT EXISTS schema_migrations (version String, applied_at DateTime DEFAULT now(), "
                    "checksum String DEFAULT '') ENGINE = MergeTree() ORDER BY version")
            listed = s.query("SELECT name, engine FROM system.tables WHERE database = 'drama' ORDER BY name", "TSV")
            tables = [line.split("\t") for line in listed.data().split("\n") if line]
            columns: dict = {}
            for line in s.query("SELECT table, name, type FROM system.columns WHERE database = 'drama' "
                                "ORDER BY table, position", "TSV").data().split("\n"):
                if line:
                    table, name, kind = line.split("\t")
                    columns.setdefault(table, []).append((name, kind))
        finally:
            s.close()
    return [(name, engine, columns.get(name, [])) for name, engine in tables]


def render() -> str:
    contract = contract_meanings(CONTRACT.read_text()) if CONTRACT.exists() else {}
    lines, missing = [], []
    kinds = {"View": "view", "MaterializedView": "materialized view"}
    for name, engine, columns in objects():
        grain = GRAIN.get(name)
        if grain is None:
            missing.append(name)
        lines += [f"### `{name}` ({kinds.get(engine, engine)})", "", grain or "?", ""]
        if engine == "MaterializedView":
            continue
        lines += ["| column | type | meaning |", "|---|---|---|"]
        for column, kind in columns:
            meaning = contract.get(column) or METRICS.get(column) or MEANINGS.get(column)
            if meaning is None:
                missing.append(f"{name}.{column}")
            lines.append(f"| `{column}` | `{kind}` | {meaning or '?'} |")
        lines.append("")
    if missing:
        raise ValueError(f"no meaning for: {', '.join(missing)} (add them to warehouse/dictionary.py)")
    return "\n".join(lines).rstrip() + "\n"


def block(readme: str) -> tuple[int, int]:
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"warehouse/README.md lacks the markers {START} … {END}")
    return start + len(START), end


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    readme = README.read_text()
    start, end = block(readme)
    wanted = "\n\n" + render() + "\n"
    if "--check" in argv:
        if readme[start:end] != wanted:
            print("warehouse/README.md's data dictionary is stale: run python -m warehouse.dictionary", file=sys.stderr)
            return 1
        return 0
    README.write_text(readme[:start] + wanted + readme[end:])
    print(f"wrote the data dictionary into {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
