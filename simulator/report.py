"""The calibration report: simulated figures beside the reference ones, each with its tolerance.

`figures(events)` is pure (any iterable of event dicts); `from_warehouse(settings)` reads the
accepted events of a run back from ClickHouse (`events_raw.payload`) and feeds the same function,
so a report on the warehouse shows what the pipeline made of the stream.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import orjson

from simulator import calibration as cal


def figures(events: Iterable[dict]) -> dict[str, float | None]:
    profile: dict[str, tuple] = {}
    revenue_by_country: dict[str, float] = defaultdict(float)
    payers: set = set()
    spend = 0.0
    first, last = None, None
    production, scale = 0.0, None
    virtual_costs, human_costs, hit_cost = [], [], 0.0
    hit_titles, origins, free, paywall_episodes = set(), [], set(), []
    money_events = []
    for e in events:
        etype = e["event_type"]
        if etype == "user_profile":
            profile[e["user_id"]] = (e["gender"], e["age_band"], e["country"])
            continue
        if etype == "script_created":
            origins.append(e["origin"])
            scale = e.get("sim_money_scale", scale)
            if e.get("sim_hit"):
                hit_titles.add(e["title_id"])
            continue
        if etype == "episode_released":
            production += e["production_cost_usd"]
            (virtual_costs if e["virtual_actors"] else human_costs).append((e["title_id"], e["production_cost_usd"]))
            continue
        if etype == "title_launched":
            free.add(e["free_episodes"])
            continue
        moment = e["event_time"]
        first = moment if first is None or moment < first else first
        last = moment if last is None or moment > last else last
        if etype == "teaser_impression":
            spend += e["cost_usd"]
        elif etype == "paywall_shown":
            paywall_episodes.append(e["episode"])
        elif etype in ("purchase", "ad_impression"):
            money_events.append(e)
    for e in money_events:  # after every profile is known
        country = profile.get(e["user_id"], ("unknown", "unknown", "ZZ"))[2]
        revenue_by_country[country] += e.get("amount_usd", 0.0) + e.get("revenue_usd", 0.0)
        if e["event_type"] == "purchase":
            payers.add(e["user_id"])
    total_revenue = sum(revenue_by_country.values())
    female_45 = sum(1 for u in payers if profile.get(u, ("",))[0] == "female" and profile[u][1] in ("45-54", "55+"))
    days = _days(first, last)
    amortized = production * days / cal.AMORTIZATION_DAYS
    hit_cost = sum(c for t, c in virtual_costs + human_costs if t in hit_titles)
    human_non_hit = [c for t, c in human_costs if t not in hit_titles]
    s = scale or 1.0
    return {
        "us_revenue_share": revenue_by_country["US"] / total_revenue if total_revenue else None,
        "female_45plus_payer_share": female_45 / len(payers) if payers else None,
        "free_episodes": min(free) if len(free) == 1 else None,
        "first_paywall_episode": min(paywall_episodes) if paywall_episodes else None,
        "marketing_share": spend / (spend + amortized) if spend + amortized else None,
        "ai_script_share": origins.count("ai") / len(origins) if origins else None,
        "virtual_actor_episode_cost_usd": (sum(c for _, c in virtual_costs) / len(virtual_costs) / s
                                           if virtual_costs else None),
        "hit_title_cost_usd": hit_cost / s if hit_titles else None,
        "actor_day_rate_usd": ((sum(human_non_hit) / len(human_non_hit) / s - cal.HUMAN_EPISODE_OTHER_USD)
                               / (cal.HUMAN_EPISODE_CAST * cal.HUMAN_EPISODE_ACTOR_DAYS) if human_non_hit else None),
        "payers": len(payers),
        "days": days,
    }


def _days(first: str | None, last: str | None) -> float:
    from schemas.validate import parse_event_time
    if not first or not last:
        return 0.0
    # string comparison above is only used for RFC 3339 times the simulator writes in UTC ("Z")
    return (parse_event_time(last) - parse_event_time(first)).total_seconds() / 86400


def check(found: dict) -> list[tuple[cal.Reference, float | None, bool]]:
    rows = []
    for ref in cal.REFERENCE:
        value = found.get(ref.name)
        rows.append((ref, value, value is not None and abs(value - ref.value) <= ref.tolerance))
    return rows


def render(found: dict) -> str:
    lines = [f"{'figure':<32} {'simulated':>14} {'reference':>12} {'tolerance':>10}  ok   where it applies"]
    for ref, value, ok in check(found):
        shown = "—" if value is None else (f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}")
        lines.append(f"{ref.name:<32} {shown:>14} {ref.value:>12,.3f} {'±' + format(ref.tolerance, 'g'):>10}  "
                     f"{'yes' if ok else 'NO ':<4} {ref.where}")
    lines.append(f"({found.get('payers', 0)} payers over {found.get('days', 0):.2f} simulated days)")
    return "\n".join(lines)


def from_warehouse(settings, app_id: str | None = None) -> dict:
    """Figures from the accepted events in ClickHouse (optionally one app's)."""
    from warehouse.client import connect
    where = "WHERE app_id = %(app)s" if app_id else ""
    rows = connect(settings).execute_iter(f"SELECT payload FROM events_raw {where} ORDER BY event_time, event_time_us",
                                          {"app": app_id}, settings={"max_block_size": 100_000})
    return figures(orjson.loads(payload) for (payload,) in rows)
