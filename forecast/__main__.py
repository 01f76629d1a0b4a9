"""`python -m forecast`: the hit forecast's data, model and evaluation (docs/forecast.md).

    python -m forecast dataset --seeds 101-110        # simulate each seed's slate, load it, read features
    python -m forecast train --seeds 101-110          # forecast/model.json from those seeds
    python -m forecast evaluate --seeds 201-205 --hours 6,12,24,48   # on seeds it never saw

Each seed: `python -m simulator slate` writes a release slate's first 48 hours of events and every
title's 30-day outcome (the truth, read here only); `python -m streams.load` puts the events into
a warehouse of their own (drama_fc<seed>) through the worker's own writes; the features are read
back by warehouse/queries/title_forecast_features.sql at each title's age. Cached per seed in
.state/forecast/seed-<n>/ (delete it to rebuild).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from forecast import features, metrics, seeds
from forecast.model import LABELS, MODEL, Forecast, train
from infra.settings import ROOT, load
from warehouse.client import connect

STATE = ROOT / ".state" / "forecast"
AGES = (3, 6, 12, 24, 48)                 # hours since launch at which each title is read
TRAINING_SEEDS = list(range(101, 113))
EVALUATION_SEEDS = list(range(201, 206))
USERS_PER_DAY = 1000
HIT_THRESHOLD = 0.5                        # p_hit at which the hit_forecast signal is emitted
VERSION = "slate-logit-2"
HOOK_RATE = features.FEATURES.index("hook_rate")


def build(seed: int, say=print) -> Path:
    """The seed's cached data (events loaded, features read, truth kept), built if missing."""
    home = STATE / f"seed-{seed}"
    done = home / "features.json"
    if done.exists():
        return home
    home.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    python = sys.executable
    subprocess.run([python, "-m", "simulator", "slate", "--seed", str(seed), "--users-per-day", str(USERS_PER_DAY),
                    "--hours-seen", str(max(AGES)), "--file", str(home / "events.ndjson"),
                    "--truth", str(home / "truth.json")], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    settings = load(namespace=f"fc{seed}")
    admin = connect(settings, "default")        # a fresh database: the worker's marks would cut a reload
    admin.execute(f"DROP DATABASE IF EXISTS {settings.clickhouse_db}")
    admin.disconnect()
    subprocess.run([python, "-m", "streams.load", str(home / "events.ndjson"), "--namespace", f"fc{seed}"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    client = connect(settings)
    launched = dict(client.execute("SELECT title_id, assumeNotNull(launched_at) FROM titles "
                                   "WHERE launched_at IS NOT NULL AND parent_title_id = ''"))
    rows: dict = {}
    for title_id, at in launched.items():
        for hours in AGES:
            found = [r for r in features.read(client, at + timedelta(hours=hours), hours) if r["title_id"] == title_id]
            if found:
                rows.setdefault(title_id, {})[str(hours)] = {k: v.isoformat() if isinstance(v, datetime) else v
                                                            for k, v in found[0].items()}
    client.disconnect()
    (home / "events.ndjson").unlink()
    done.write_text(json.dumps(rows))
    say(f"seed {seed}: {len(rows)} titles in {time.monotonic() - started:.0f}s")
    return home


def samples(seed_list: list[int], ages=AGES) -> list[dict]:
    """One sample per (title, age): its features, its labels and what the baselines need."""
    out = []
    for seed in seed_list:
        home = build(seed)
        rows = json.loads((home / "features.json").read_text())
        truth = {t["title_id"]: t for t in json.loads((home / "truth.json").read_text())["titles"]}
        for title_id, outcome in truth.items():
            for hours in ages:
                row = rows.get(title_id, {}).get(str(hours))
                if row is None:
                    continue
                vector = features.vector(row)
                out.append({"seed": seed, "title_id": title_id, "hours": hours, "vector": vector,
                            "early_usd": (row["iap_revenue"] or 0) + (row["ad_revenue"] or 0),
                            "hook_rate": vector[HOOK_RATE],
                            "cost_usd": outcome["production_cost_usd"], "final_usd": outcome["revenue_30d_full_usd"],
                            "pays_back": outcome["pays_back"], "hit": outcome["hit"]})
    return out


def command_train(args) -> int:
    data = samples(args.seeds)
    spec = train([s["vector"] for s in data], {label: [s[label] for s in data] for label in LABELS},
                 args.seeds, VERSION, HIT_THRESHOLD)
    MODEL.write_text(json.dumps(spec, indent=1) + "\n")
    titles = {(s["seed"], s["title_id"]) for s in data}
    print(f"{MODEL}: {len(titles)} titles × {len(AGES)} ages from seeds {args.seeds}; positive samples: " + ", ".join(
        f"{label} {spec[label]['positives'] if spec[label] else 'none (not scored)'}" for label in LABELS))
    return 0


def evaluate(train_seeds: list[int], test_seeds: list[int], hours: list[int], forecast: Forecast) -> dict:
    """Every figure of the evaluation, per horizon: the forecast against both baselines."""
    training = samples(train_seeds)
    results: dict = {"horizons": {}, "titles": 0}
    scores_by_hour: dict = {}
    hits: set = set()
    for h in hours:
        test = samples(test_seeds, (h,))
        train_h = [s for s in training if s["hours"] == h]
        if not test:
            continue
        results["titles"] = max(results["titles"], len(test))
        p = forecast.probabilities([s["vector"] for s in test])
        sh = metrics.SzaboHuberman().fit([s["early_usd"] for s in train_h], [s["final_usd"] for s in train_h])
        baseline_sh = sh.probability([s["early_usd"] for s in test], [s["cost_usd"] for s in test])
        row: dict = {}
        for label in LABELS:
            y = [s[label] for s in test]
            if label not in p:
                row[label] = {"positives": int(sum(y)), "unscored": True}
                continue
            hook = metrics.HookRateOnly().fit([s["hook_rate"] for s in train_h], [s[label] for s in train_h])
            candidates = {"forecast": p[label], "szabo_huberman": baseline_sh if label == "pays_back" else
                          sh.probability([s["early_usd"] for s in test], [10 * s["cost_usd"] for s in test]),
                          "hook_rate": hook.probability([s["hook_rate"] for s in test])}
            for name, scores in candidates.items():
                precision, recall = metrics.top_decile(scores, y)
                row.setdefault(label, {})[name] = {
                    "top_decile_precision": precision, "top_decile_recall": recall,
                    "auc": metrics.auc(scores, y) if 0 < sum(y) < len(y) else float("nan"),
                    "brier": metrics.brier(scores, y)}
            row[label]["positives"] = int(sum(y))
        results["horizons"][h] = row
        scores_by_hour[h] = {(s["seed"], s["title_id"]): float(v) for s, v in zip(test, p["pays_back"])}
        hits |= {(s["seed"], s["title_id"]) for s in test if s["hit"]}
        results.setdefault("calibration", {})[h] = {"p": p["pays_back"].tolist(), "y": [s["pays_back"] for s in test]}
    leads = [metrics.lead_time_hours(scores_by_hour, t) for t in sorted(hits)]
    results["lead_time_hours"] = leads
    return results


def render(results: dict) -> str:
    lines = [f"titles per horizon: {results['titles']}"]
    for h, row in results["horizons"].items():
        lines.append(f"\n{h} h after launch")
        for label in LABELS:
            if row[label].get("unscored"):
                lines.append(f"  {label} ({row[label]['positives']} positive): not scored, no training title had it")
                continue
            lines.append(f"  {label} ({row[label]['positives']} positive)   top-10% precision  recall   AUC    Brier")
            for name in ("forecast", "szabo_huberman", "hook_rate"):
                m = row[label][name]
                lines.append(f"    {name:<16} {m['top_decile_precision']:>17.2f} {m['top_decile_recall']:>7.2f} "
                             f"{m['auc']:>6.3f} {m['brier']:>7.4f}")
    leads = results["lead_time_hours"]
    lines.append(f"\nlead time (hours after launch the eventual hit first ranks in the top decile of P(pays back)): "
                 f"{', '.join('never' if x is None else f'{x:g}' for x in leads) or 'no hit among these titles'}")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    """The calibration plot: predicted P(pays back) in bins against the share that paid back, per horizon."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect")
    for h, cal in results["calibration"].items():
        p, y = np.asarray(cal["p"]), np.asarray(cal["y"], dtype=float)
        edges = np.linspace(0, 1, 6)
        idx = np.clip(np.digitize(p, edges) - 1, 0, 4)
        xs = [p[idx == b].mean() for b in range(5) if (idx == b).any()]
        ys = [y[idx == b].mean() for b in range(5) if (idx == b).any()]
        ax.plot(xs, ys, "o-", label=f"{h} h")
    ax.set_xlabel("forecast P(pays back)")
    ax.set_ylabel("share that paid back")
    ax.set_title("Calibration on held-out seeds")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m forecast", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["dataset", "train", "evaluate"])
    p.add_argument("--seeds", type=seeds, default=None, help="e.g. 201-205 or 1,4,9")
    p.add_argument("--train-seeds", type=seeds, default=TRAINING_SEEDS, help="evaluate: the baselines' training seeds")
    p.add_argument("--hours", default="6,12,24,48", help="evaluate: horizons, hours after launch")
    p.add_argument("--plot", help="evaluate: write the calibration plot (PNG) here")
    p.add_argument("--json", help="evaluate: write every figure here")
    args = p.parse_args(argv)
    if args.command == "dataset":
        for seed in args.seeds or TRAINING_SEEDS + EVALUATION_SEEDS:
            build(seed)
        return 0
    if args.command == "train":
        args.seeds = args.seeds or TRAINING_SEEDS
        return command_train(args)
    forecast = Forecast.load()
    test = args.seeds or EVALUATION_SEEDS
    if set(test) & set(forecast.spec["training_seeds"]):
        raise SystemExit(f"seeds {sorted(set(test) & set(forecast.spec['training_seeds']))} trained the model: "
                         f"evaluate on others")
    results = evaluate(args.train_seeds, test, [int(h) for h in args.hours.split(",")], forecast)
    print(render(results))
    if args.plot:
        plot(results, Path(args.plot))
    if args.json:
        Path(args.json).write_text(json.dumps({k: v for k, v in results.items() if k != "calibration"}, indent=1,
                                              default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
