"""`python -m bench.studio --seeds 201-205`: what the hit forecast is worth to a studio that spends by it
(issue 23, docs/forecast.md "The studio spends by it").

Each seed's release slate is run twice over its 30-day outcomes, the same slate both times (the
simulator draws the slate from a generator of its own):

    off: the studio buys teasers for every title by its draw (the simulator's calibrated behaviour)
    on:  every hour of simulated time, the slate titles' first 24 hours of events go into a warehouse
         of their own through the worker's writes (streams.load); a title 24 hours old is scored there
         by the live scorer's query and model (forecast.features, forecast/model.json), and the studio
         sets its teaser budget by the score (simulator.world.studio_marketing: none under P(pays back)
         0.1, 3× from 0.5 or a likely hit); the paid installs it no longer buys go to the other
         titles by their draw × budget, so the budget stays the same

and it compares, at the full audience: the app's ROAS (all revenue ÷ all teaser spend), the slate's
ROAS, how many slate titles paid back, and the teaser money spent on slate titles that never did.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

from forecast import features, seeds
from forecast.model import Forecast
from infra.settings import load
from simulator import calibration as cal
from simulator.world import World
from streams.load import load_file
from warehouse.client import connect
from warehouse.migrate import migrate

START = datetime(2026, 1, 5, tzinfo=timezone.utc)
SLATE_DAYS, SLATE_PER_DAY, USERS_PER_DAY = 8.0, 3.0, 1000.0     # python -m forecast's slates
DECIDE_AT = timedelta(hours=24)                                  # the studio acts on the 24-hour score
STEP = timedelta(hours=1)                                        # how often it looks


def run(seed: int, forecast: Forecast | None, say=print) -> dict:
    """One slate over its 30 days, with the forecast on (`forecast`) or off (None)."""
    world = World(seed=seed, start=START, users_per_day=USERS_PER_DAY, slate_per_day=SLATE_PER_DAY,
                  slate_until=START + timedelta(days=SLATE_DAYS))
    until = START + timedelta(days=SLATE_DAYS + cal.TRUTH_DAYS + 1)
    decisions: dict[str, dict] = {}
    started = time.monotonic()
    if forecast is None:
        for _ in world.stream(until):
            pass
    else:
        settings = load(namespace=f"studio{seed}")
        admin = connect(settings, "default")
        admin.execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")
        admin.disconnect()
        migrate(settings)
        client = connect(settings)
        offsets: dict = {}
        with tempfile.TemporaryDirectory() as home:
            chunk = Path(home) / "chunk.ndjson"
            out = open(chunk, "wb")
            look = START + STEP
            deciding = True
            for emission in world.stream(until):
                if deciding and emission.emit_time >= look:
                    out.close()
                    asyncio.run(load_file(str(chunk), settings, say=lambda *a, **k: None, offsets=offsets))
                    decide(world, client, forecast, look, decisions)
                    deciding = (look < START + timedelta(days=SLATE_DAYS) + DECIDE_AT + STEP
                                or len(decisions) < len(world.slate_titles))
                    look += STEP
                    out = open(chunk, "wb")
                if not deciding or not emission.event_type:
                    continue
                event = orjson.loads(emission.value)
                title = world.slate_titles.get(event.get("title_id", ""))
                if title is None or datetime.fromisoformat(event["event_time"].replace("Z", "+00:00")) >= \
                        title.launched_at + DECIDE_AT:
                    continue
                out.write(emission.line())
            out.close()
        client.disconnect()
        admin = connect(settings, "default")
        admin.execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")
        admin.disconnect()
    truth = world.truth(until)
    revenue, spend = (x / world.audience_scale for x in world.app_money)
    result = {"seed": seed, "forecast": forecast is not None, "titles": len(truth),
              "paid_back": sum(t["pays_back"] for t in truth),
              "slate_revenue_usd": sum(t["revenue_30d_full_usd"] for t in truth),
              "slate_spend_usd": sum(t["teaser_spend_full_usd"] for t in truth),
              "spend_on_titles_never_paid_back_usd": sum(t["teaser_spend_full_usd"] for t in truth
                                                         if not t["pays_back"]),
              "app_revenue_usd": revenue, "app_spend_usd": spend,
              "stopped": sum(d["budget"] == 0 for d in decisions.values()),
              "boosted": sum(d["budget"] > 1 for d in decisions.values()),
              "seconds": round(time.monotonic() - started)}
    say(f"seed {seed} forecast {'on ' if forecast else 'off'}: {result['paid_back']}/{result['titles']} paid back, "
        f"app ROAS {revenue / spend:.3f}, {result['stopped']} stopped, {result['boosted']} boosted "
        f"({result['seconds']} s)")
    return result


def decide(world: World, client, forecast: Forecast, now: datetime, decisions: dict) -> None:
    """Every slate title that turned 24 hours old by `now`: scored at that age, its budget set."""
    for title_id, title in world.slate_titles.items():
        at = title.launched_at + DECIDE_AT
        if title_id in decisions or at > now:
            continue
        rows = [r for r in features.read(client, at.replace(tzinfo=None), DECIDE_AT.total_seconds() / 3600)
                if r["title_id"] == title_id]
        if not rows:
            decisions[title_id] = {"budget": 1.0, "p_payback": None}
            continue
        [(p_payback, p_hit)] = forecast.scores([features.vector(rows[0])])
        budget = world.answer_forecast(title_id, p_payback, p_hit, forecast.threshold)
        decisions[title_id] = {"budget": budget, "p_payback": p_payback}


def summary(results: list[dict]) -> dict:
    out = {}
    for on in (False, True):
        rs = [r for r in results if r["forecast"] is on]
        total = {k: sum(r[k] for r in rs) for k in ("titles", "paid_back", "slate_revenue_usd", "slate_spend_usd",
                                                  "spend_on_titles_never_paid_back_usd", "app_revenue_usd",
                                                  "app_spend_usd", "stopped", "boosted")}
        total["app_roas"] = total["app_revenue_usd"] / total["app_spend_usd"]
        total["slate_roas"] = total["slate_revenue_usd"] / total["slate_spend_usd"]
        out["on" if on else "off"] = total
    return out


def render(s: dict) -> str:
    rows = [("app ROAS (all revenue ÷ all teaser spend)", "app_roas", "{:.3f}"),
            ("slate ROAS", "slate_roas", "{:.3f}"),
            ("slate titles that paid back", "paid_back", "{:d}"),
            ("teaser spend on slate titles that never paid back (US$)", "spend_on_titles_never_paid_back_usd",
             "{:,.0f}"),
            ("slate teaser spend (US$)", "slate_spend_usd", "{:,.0f}"),
            ("app revenue (US$)", "app_revenue_usd", "{:,.0f}"),
            ("titles stopped / boosted", None, None)]
    lines = [f"{'':<58} {'forecast off':>14} {'forecast on':>14}"]
    for label, key, fmt in rows:
        if key is None:
            lines.append(f"{label:<58} {'-':>14} {str(s['on']['stopped']) + ' / ' + str(s['on']['boosted']):>14}")
            continue
        lines.append(f"{label:<58} {fmt.format(s['off'][key]):>14} {fmt.format(s['on'][key]):>14}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.studio", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=seeds, default=seeds("201-205"))
    p.add_argument("--json", help="write every run's figures here")
    args = p.parse_args(argv)
    forecast = Forecast.load()
    results = []
    for seed in args.seeds:
        results += [run(seed, None), run(seed, forecast)]
    s = summary(results)
    print(render(s))
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": results, "summary": s}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
