"""The calibration report: simulated figures beside the study's, each with its tolerance.

`from_warehouse(settings)` reads the figures with the documented queries an analyst (and the
study's-model dashboard) runs on the warehouse: warehouse/queries/study_*.sql. `figures(events)`
computes the same definitions in Python from an iterable of event dicts; it calibrates the
simulator without a stack and cross-checks the SQL (tests/simulator/test_cli.py).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Iterable

from simulator import calibration as cal

QUERIES = Path(__file__).resolve().parents[1] / "warehouse" / "queries"
CONTENT = ("script_created", "episode_released", "title_launched")
WOMEN_45PLUS = (("female", "45-54"), ("female", "55+"))
DAY_S = 86400


def _seconds(text: str) -> int:
    from schemas.validate import parse_event_time
    from datetime import timezone
    return int(parse_event_time(text).replace(tzinfo=timezone.utc).timestamp())


def figures(events: Iterable[dict]) -> dict:
    """The report's figures over these events, by the definitions of warehouse/queries/study_*.sql."""
    segment_of: dict[str, tuple] = {}                      # user → (gender, age_band, country), the latest profile
    profiled_at: dict[str, int] = {}                       # user → when that profile was sent
    revenue_by_country: dict[str, float] = defaultdict(float)
    revenue_by_title: dict[str, float] = defaultdict(float)
    spent_by_user: dict[str, float] = defaultdict(float)
    payers: set = set()
    first_seen: dict[str, int] = {}
    paywall: set = set()
    first_purchase: dict[str, int] = {}
    titles: dict[str, dict] = {}
    spend, scale, paywall_episodes = 0.0, 1.0, []
    first = last = None
    for e in events:
        etype = e["event_type"]
        moment = _seconds(e["event_time"])
        if etype in CONTENT:
            t = titles.setdefault(e["title_id"], {"cost": 0.0, "episodes": set(), "free": None})
            if etype == "script_created":
                t.update(origin=e["origin"], parent=e.get("parent_title_id") or "", created=moment)
                scale = e.get("sim_audience_scale", scale)
            elif etype == "episode_released":
                t["cost"] += e["production_cost_usd"]
                t["episodes"].add(e["episode"])
            else:
                t["free"] = e["free_episodes"]
            continue
        first = moment if first is None or moment < first else first
        last = moment if last is None or moment > last else last
        user = e["user_id"]
        first_seen[user] = min(first_seen.get(user, moment), moment)
        if etype == "user_profile" and moment >= profiled_at.get(user, -1):
            segment_of[user] = (e["gender"], e["age_band"], e["country"])
            profiled_at[user] = moment
        elif etype == "teaser_impression":
            spend += e["cost_usd"]
        elif etype == "paywall_shown":
            paywall.add(user)
            paywall_episodes.append(e["episode"])
        elif etype in ("purchase", "ad_impression"):
            usd = e.get("amount_usd", 0.0) + e.get("revenue_usd", 0.0)
            revenue_by_title[e["title_id"]] += usd
            spent_by_user[user] += usd
            if etype == "purchase":
                payers.add(user)
                first_purchase[user] = min(first_purchase.get(user, moment), moment)
    unknown = ("unknown", "unknown", "ZZ")
    for user, usd in spent_by_user.items():            # each user's latest profile, as study_money.sql
        revenue_by_country[segment_of.get(user, unknown)[2]] += usd
    total = sum(revenue_by_country.values())
    women = sum(1 for u in payers if segment_of.get(u, unknown)[:2] in WOMEN_45PLUS)
    cohort = {u for u in paywall if first is not None and first_seen[u] < first + DAY_S}
    paid = {u for u in cohort if u in first_purchase and first_purchase[u] < first_seen[u] + 7 * DAY_S}
    in_women = {u for u in cohort if segment_of.get(u, unknown)[:2] in WOMEN_45PLUS}
    days = (last - first) / DAY_S if first is not None else 0.0
    us_se = share_se([(usd, segment_of.get(u, unknown)[2] == "US") for u, usd in spent_by_user.items()])
    hit = max(titles, key=lambda t: revenue_by_title.get(t, 0.0)) if titles else None

    def per_episode(origin: str, but: str | None = None) -> float | None:
        chosen = [t for k, t in titles.items() if t.get("origin") == origin and not t.get("parent") and k != but]
        episodes = sum(len(t["episodes"]) for t in chosen)
        return sum(t["cost"] for t in chosen) / episodes if episodes else None

    human = per_episode("human", but=hit)
    amortized = sum(t["cost"] * max(0, min(365 * DAY_S, last - max(t.get("created", 0), first))) / (365 * DAY_S)
                    for t in titles.values()) if first is not None else 0.0
    spend_full = spend / scale
    frees = {t["free"] for t in titles.values() if t["free"] is not None}     # launched titles
    return {
        "us_revenue_share": revenue_by_country["US"] / total if total else None,
        "us_revenue_share_se": us_se,
        "female_45plus_payer_share": women / len(payers) if payers else None,
        "female_45plus_paid_7d": len(paid & in_women) / len(in_women) if in_women else None,
        "everyone_else_paid_7d": (len(paid - in_women) / len(cohort - in_women)) if cohort - in_women else None,
        "free_episodes": min(frees) if len(frees) == 1 else None,
        "first_paywall_episode": min(paywall_episodes) if paywall_episodes else None,
        "marketing_share": spend_full / (spend_full + amortized) if spend_full + amortized else None,
        "ai_script_share": sum(t.get("origin") == "ai" for t in titles.values()) / len(titles) if titles else None,
        "virtual_actor_episode_cost_usd": per_episode("ai"),
        "hit_title_cost_usd": titles[hit]["cost"] if hit else None,
        "actor_day_rate_usd": (human - cal.HUMAN_EPISODE_OTHER_USD) / (cal.HUMAN_EPISODE_CAST
                                                                       * cal.HUMAN_EPISODE_ACTOR_DAYS)
        if human is not None else None,
        "payers": len(payers), "days": days, "titles": len(titles),
        "sequels": sum(bool(t.get("parent")) for t in titles.values()),
    }


def share_se(users: list[tuple[float, bool]]) -> float | None:
    """The standard error of a revenue share as a sample of users: sqrt(Σ (usd × (in − share))²) ÷ Σ usd."""
    total = sum(usd for usd, _ in users)
    if not total:
        return None
    share = sum(usd for usd, inside in users if inside) / total
    return sum((usd * (inside - share)) ** 2 for usd, inside in users) ** 0.5 / total


def hit_lifetime_rows(events: Iterable[dict]) -> list[dict]:
    """study_hit_lifetime.sql in Python: the hit's (most revenue) earnings by its newcomers' first day."""
    first_day: dict[str, str] = {}
    earned: dict[tuple, float] = defaultdict(float)                 # (day, title) → usd
    cost: dict[str, float] = defaultdict(float)
    scale: dict[str, float] = {}
    for e in events:
        etype = e["event_type"]
        if etype == "user_profile":
            first_day[e["user_id"]] = min(first_day.get(e["user_id"], e["event_time"][:10]), e["event_time"][:10])
        elif etype in ("purchase", "ad_impression"):
            earned[(e["user_id"], e["title_id"])] += e.get("amount_usd", 0.0) + e.get("revenue_usd", 0.0)
        elif etype == "episode_released":
            cost[e["title_id"]] += e["production_cost_usd"]
        elif etype == "script_created":
            scale[e["title_id"]] = e.get("sim_audience_scale", 1.0)
    by_title: dict[str, float] = defaultdict(float)
    for (_, title), usd in earned.items():
        by_title[title] += usd
    if not first_day:
        return []
    hit = max(by_title, key=by_title.get) if by_title else ""
    days = sorted(set(first_day.values()))
    by_day = dict.fromkeys(days, 0.0)
    for (user, title), usd in earned.items():
        if title == hit and user in first_day:
            by_day[first_day[user]] += usd
    start = date.fromisoformat(days[0])
    return [{"age_days": (date.fromisoformat(d) - start).days, "hit_revenue_usd": by_day[d],
             "hit_cost_usd": cost.get(hit, 0.0), "audience_scale": scale.get(hit, 1.0)} for d in days]


def lifetime_return(rows: list[dict]) -> float | None:
    """The hit's return over LIFETIME_DAYS from study_hit_lifetime.sql's rows (age_days, hit_revenue_usd,
    hit_cost_usd, audience_scale): trapezoids between the sampled ages, at the full audience, ÷ cost.
    None unless the rows sample a year (at least three ages, the last near LIFETIME_DAYS)."""
    cost = max((r["hit_cost_usd"] for r in rows), default=0)       # ages the hit earned nothing at say 0
    scale = max((r["audience_scale"] for r in rows), default=0)
    if len(rows) < 3 or rows[-1]["age_days"] < 0.8 * cal.LIFETIME_DAYS or not cost or not scale:
        return None
    earned = sum((a["hit_revenue_usd"] + b["hit_revenue_usd"]) / 2 * (b["age_days"] - a["age_days"])
                 for a, b in zip(rows, rows[1:]))
    return earned / scale / cost


def _query(client, name: str) -> list[dict]:
    rows, columns = client.execute((QUERIES / f"{name}.sql").read_text(), with_column_types=True)
    return [dict(zip((c for c, _ in columns), row)) for row in rows]


def from_warehouse(settings) -> dict:
    """The figures, by warehouse/queries/study_*.sql, over everything the settings' database holds."""
    from warehouse.client import connect
    client = connect(settings)
    money = _query(client, "study_money")[0]
    catalog = _query(client, "study_catalog")[0]
    marketing = _query(client, "study_marketing_share")[0]
    paying = {row["segment_group"]: row for row in _query(client, "study_paying_within_7_days")}
    hit_return = lifetime_return(_query(client, "study_hit_lifetime"))
    human = catalog["human_episode_usd"]
    nan_free = lambda v: None if v is None or v != v else v  # noqa: E731  (NaN: no rows)
    return {
        "us_revenue_share": money["us_revenue_share"], "us_revenue_share_se": money["us_revenue_share_se"],
        "female_45plus_payer_share": money["female_45plus_payer_share"],
        "hit_lifetime_return": hit_return, "lifetime": hit_return is not None,
        "female_45plus_paid_7d": paying.get("women 45+", {}).get("paid_7d"),
        "everyone_else_paid_7d": paying.get("everyone else", {}).get("paid_7d"),
        "free_episodes": catalog["free_episodes_min"] if catalog["free_episodes_min"] == catalog["free_episodes_max"]
        and catalog["titles"] else None,
        "first_paywall_episode": catalog["first_paywall_episode"] or None,
        "marketing_share": nan_free(marketing["marketing_share"]),
        "ai_script_share": nan_free(catalog["ai_script_share"]),
        "virtual_actor_episode_cost_usd": catalog["virtual_actor_episode_usd"],
        "hit_title_cost_usd": catalog["hit_cost_usd"] if catalog["titles"] else None,
        "actor_day_rate_usd": (human - cal.HUMAN_EPISODE_OTHER_USD) / (cal.HUMAN_EPISODE_CAST
                                                                       * cal.HUMAN_EPISODE_ACTOR_DAYS)
        if human is not None else None,
        "payers": money["payers"], "days": nan_free(marketing["days"]) or 0.0, "titles": catalog["titles"],
        "sequels": catalog["sequels"],
    }


def check(found: dict) -> list[tuple[cal.Reference, float | None, bool | None, float, str]]:
    """(reference, value, ok, tolerance, why not checked) per figure; ok is None when not checked: a
    run's figure on a sampled year, the year's on a run, or a figure that needs more days. The
    tolerance is the reference's, or two standard errors of the figure where the report has one
    and it is wider (a few heavy spenders among some hundreds of payers)."""
    rows = []
    for ref in cal.REFERENCE:
        value = found.get(ref.name)
        se = found.get(ref.se) if ref.se else None
        tolerance = max(ref.tolerance, 2 * se) if se else ref.tolerance
        if ref.lifetime != bool(found.get("lifetime")):
            why = "a sampled year: python -m simulator lifetime" if ref.lifetime else "a run, not a sampled year"
            rows.append((ref, value, None, tolerance, why))
        elif found.get("days", 0) < ref.min_days:
            rows.append((ref, value, None, tolerance, f"needs {ref.min_days:g} days of data"))
        else:
            rows.append((ref, value, value is not None and abs(value - ref.value) <= tolerance, tolerance, ""))
    return rows


def passed(found: dict) -> bool:
    return all(ok is not False for _, _, ok, _, _ in check(found))


def render(found: dict) -> str:
    lines = [f"{'figure':<32} {'simulated':>14} {'reference':>12} {'tolerance':>10}  ok   where it applies"]
    for ref, value, ok, tolerance, why in check(found):
        shown = "—" if value is None else (f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}")
        verdict = {True: "yes", False: "NO ", None: "n/a"}[ok]
        where = ref.where + (f" [not checked: {why}]" if why else "")
        if tolerance != ref.tolerance:
            where += f" [±{ref.tolerance:g}, widened to 2 standard errors at this sample]"
        bound = f"±{tolerance:,.0f}" if tolerance >= 100 else f"±{tolerance:.3g}"
        lines.append(f"{ref.name:<32} {shown:>14} {ref.value:>12,.3f} {bound:>10}  "
                     f"{verdict:<4} {where}")
    other = found.get("everyone_else_paid_7d")
    lines.append(f"(for comparison: {'—' if other is None else format(other, '.3f')} of everyone else who reached "
                 f"a paywall in the first day paid within 7 days)")
    lines.append(f"({found.get('payers', 0)} payers over {found.get('days', 0):.2f} simulated days; "
                 f"{found.get('titles', 0)} titles, {found.get('sequels', 0)} of them sequels)")
    return "\n".join(lines)
