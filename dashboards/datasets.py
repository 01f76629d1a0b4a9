"""The datasets the dashboards read: each is a documented warehouse query (warehouse/queries/),
and its metrics are defined here once, as ratios of sums, so a chart never averages a ratio.

A dataset's columns are not declared here: `provision` reads them from ClickHouse (the query's
result columns), so the warehouse stays the one place that declares them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

QUERIES = Path(__file__).resolve().parents[1] / "warehouse" / "queries"

PERCENT, MONEY, COUNT, SECONDS, RATIO = ",.1%", "$,.2f", ",d", ",.0f", ",.2f"
MULTIPLE = ",.1f"     # a multiple (ROI): d3-format has no suffix, so its label says ×


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    expression: str
    format: str = COUNT


@dataclass(frozen=True)
class Dataset:
    name: str            # the Superset dataset's name, and warehouse/queries/<query>.sql
    query: str
    time_column: str | None
    metrics: tuple[Metric, ...]

    @property
    def sql(self) -> str:
        """The query's text without its leading comment (Superset shows it as the dataset's SQL)."""
        lines = (QUERIES / f"{self.query}.sql").read_text().splitlines()
        return "\n".join(line for line in lines if not line.startswith("--")).strip().rstrip(";")

    @property
    def description(self) -> str:
        lines = (QUERIES / f"{self.query}.sql").read_text().splitlines()
        return " ".join(line[2:].strip() for line in lines if line.startswith("--"))

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"dataset {self.name} has no metric {name!r}; it has {[m.name for m in self.metrics]}")


def ratio(numerator: str, denominator: str) -> str:
    """A ratio of sums; NULL where the denominator is 0 (a chart shows no point, not infinity)."""
    return f"({numerator}) / nullIf({denominator}, 0)"


def pick(metrics: tuple[Metric, ...], *names: str) -> tuple[Metric, ...]:
    """Metrics of another dataset with the same columns, so each definition is written once."""
    by_name = {metric.name: metric for metric in metrics}
    return tuple(by_name[name] for name in names)


UNLOCKS = "SUM(unlocks_coins) + SUM(unlocks_subscription) + SUM(unlocks_rewarded_ad)"

# The title rollup's metrics (metrics-v1.md's KPI definitions), for the minute and the day datasets.
TITLE_METRICS = (
    Metric("teaser_impressions", "Teaser impressions", "SUM(teaser_impressions)"),
    Metric("hook_rate", "Hook rate (≥3 s)", ratio("SUM(hook_views)", "SUM(teaser_impressions)"), PERCENT),
    Metric("teaser_ctr", "Teaser CTR", ratio("SUM(teaser_clicks)", "SUM(teaser_impressions)"), PERCENT),
    Metric("installs", "Installs", "SUM(installs)"),
    Metric("spend_usd", "Teaser spend", "SUM(ad_spend_usd)", MONEY),
    Metric("cpi_usd", "CPI", ratio("SUM(ad_spend_usd)", "SUM(installs)"), MONEY),
    Metric("starts", "Episode starts", "SUM(episode_starts)"),
    Metric("completion_rate", "Completion rate", ratio("SUM(episode_completes)", "SUM(episode_starts)"), PERCENT),
    Metric("rebuffer_ratio", "Rebuffer ratio",
           ratio("SUM(rebuffer_ms_sum)", "1000 * SUM(watch_seconds) + SUM(rebuffer_ms_sum)"), ",.2%"),
    Metric("paywalls_shown", "Paywalls shown", "SUM(paywalls_shown)"),
    Metric("unlocks", "Unlocks", UNLOCKS),
    Metric("paywall_conversion", "Paywall conversion", ratio(UNLOCKS, "SUM(paywalls_shown)"), PERCENT),
    Metric("unlocks_coins", "Unlocked with coins", "SUM(unlocks_coins)"),
    Metric("unlocks_subscription", "Unlocked by subscription", "SUM(unlocks_subscription)"),
    Metric("unlocks_rewarded_ad", "Unlocked by a rewarded ad", "SUM(unlocks_rewarded_ad)"),
    Metric("coins_spent", "Coins spent", "SUM(coins_spent)"),
    Metric("iap_usd", "IAP revenue", "SUM(iap_revenue_usd)", MONEY),
    Metric("ad_usd", "Ad revenue", "SUM(ad_revenue_usd)", MONEY),
    Metric("revenue_usd", "Revenue", "SUM(iap_revenue_usd) + SUM(ad_revenue_usd)", MONEY),
    Metric("roas", "ROAS", ratio("SUM(iap_revenue_usd) + SUM(ad_revenue_usd)", "SUM(ad_spend_usd)"), RATIO),
)

LIVE_TITLES = Dataset("live_titles_1m", "live_titles_1m", "window_start", TITLE_METRICS)
TITLES_DAILY = Dataset("titles_1d", "titles_1d", "window_start", TITLE_METRICS + (
    Metric("titles", "Titles", "COUNT(DISTINCT title_id)"),))
PIPELINE = Dataset("pipeline_1m", "pipeline_1m", "window_start", (
    Metric("events_in", "Events in", "SUM(events_in)"),
    Metric("accepted", "Accepted", "SUM(accepted)"),
    Metric("duplicates", "Duplicates", "SUM(duplicates)"),
    Metric("rejected", "Rejected", "SUM(rejected)"),
    Metric("late", "Late", "SUM(late)"),
    Metric("rejected_share", "Rejected share", ratio("SUM(rejected)", "SUM(events_in)"), ",.2%"),
    Metric("max_event_lag_s", "Event lag, max (s)", "MAX(max_event_lag_s)", ",.1f"),
))
REJECTS = Dataset("rejects_24h", "rejects_24h", "rejected_at", (
    Metric("rejected", "Rejected", "COUNT(*)"),))
FRESHNESS = Dataset("freshness", "freshness", None, (
    Metric("freshness_s", "Freshness (s)", "MAX(freshness_s)", SECONDS),))
SIGNALS = Dataset("signals_named", "signals_named", "emitted_at", (
    Metric("signals", "Re-create signals", "COUNT(*)"),
    Metric("mean_score", "Score, mean", ratio("SUM(score)", "COUNT(*)"), ",.1f"),))
LOOP = Dataset("recreate_loop", "recreate_loop", None, (
    Metric("derived_titles", "Derived titles", "COUNT(*)"),
    Metric("signal_to_script_s", "Signal → script (s)",
           ratio("SUM(signal_to_script_s)", "COUNT(signal_to_script_s)"), SECONDS),
    Metric("script_to_launch_s", "Script → launch (s)",
           ratio("SUM(script_to_launch_s)", "COUNT(script_to_launch_s)"), SECONDS),
    Metric("launch_to_first_view_s", "Launch → first view (s)",
           ratio("SUM(launch_to_first_view_s)", "COUNT(launch_to_first_view_s)"), SECONDS),
    Metric("revenue_usd", "Derived titles' revenue", "SUM(revenue_usd)", MONEY),
    Metric("parent_revenue_usd", "Their parents' revenue", "SUM(parent_revenue_usd)", MONEY),
    Metric("revenue_vs_parent", "Revenue ÷ parent's", ratio("SUM(revenue_usd)", "SUM(parent_revenue_usd)"), RATIO),
))
EPISODES = Dataset("dropoff_and_pay_through", "dropoff_and_pay_through", None, (
    Metric("starts", "Starts", "SUM(starts)"),
    Metric("completes", "Completions", "SUM(completes)"),
    Metric("paywalls_shown", "Paywalls shown", "SUM(paywalls_shown)"),
    Metric("unlocks", "Unlocks", "SUM(unlocks)"),
    Metric("pay_through_rate", "Pay-through rate", ratio("SUM(unlocks)", "SUM(paywalls_shown)"), PERCENT),
))
COIN_ECONOMY = Dataset("unlocks_by_method", "unlocks_by_method", "window_start", pick(
    TITLE_METRICS, "unlocks_coins", "unlocks_subscription", "unlocks_rewarded_ad", "coins_spent") + (
    Metric("coins_bought", "Coins bought", "SUM(coins_bought)"),))
SEGMENTS = Dataset("payers_by_segment", "payers_by_segment", None, (
    Metric("viewers", "Viewers", "SUM(viewers)"),
    Metric("payers", "Payers", "SUM(payers)"),
    Metric("iap_usd", "IAP revenue", "SUM(iap_usd)", MONEY),
    Metric("payer_rate", "Payer rate", ratio("SUM(payers)", "SUM(viewers)"), PERCENT),
    Metric("arppu_usd", "ARPPU", ratio("SUM(iap_usd)", "SUM(payers)"), MONEY),
))
CAMPAIGNS = Dataset("roas_cpi_by_campaign", "roas_cpi_by_campaign", None, (
    Metric("spend_usd", "Spend", "SUM(spend_usd)", MONEY),
    Metric("installs", "Installs", "SUM(installs)"),
    Metric("cpi_usd", "CPI", ratio("SUM(spend_usd)", "SUM(installs)"), MONEY),
    Metric("roas_d0", "ROAS D0", ratio("SUM(revenue_d0_usd)", "SUM(spend_usd)"), RATIO),
    Metric("roas_d7", "ROAS D7", ratio("SUM(revenue_d7_usd)", "SUM(spend_usd)"), RATIO),
))
DISTRIBUTION = Dataset("distribution_1d", "distribution_1d", "window_start", pick(
    TITLE_METRICS, "teaser_impressions", "hook_rate", "teaser_ctr", "installs") + (
    Metric("spend_usd", "Spend", "SUM(spend_usd)", MONEY),
    Metric("cpi_usd", "Cost per install", ratio("SUM(spend_usd)", "SUM(installs)"), MONEY),
))
CATALOG = Dataset("titles_catalog", "titles_catalog", None, (
    Metric("titles", "Titles", "SUM(titles)"),
    Metric("production_cost_usd", "Production cost", "SUM(production_cost_usd)", MONEY),
    Metric("revenue_full_audience_usd", "Revenue at the full audience", "SUM(revenue_full_audience_usd)", MONEY),
    Metric("roi", "ROI (×)", ratio("SUM(revenue_full_audience_usd)", "SUM(production_cost_usd)"), MULTIPLE),
    Metric("cost_per_episode_usd", "Cost per episode", ratio("SUM(production_cost_usd)", "SUM(episodes_total)"),
           MONEY),
    Metric("virtual_actor_share", "Virtual-actor episodes",
           ratio("SUM(virtual_actor_episodes)", "SUM(episodes_total)"), PERCENT),
))
ADAPTATION = Dataset("adaptation_30d", "adaptation_30d", None, (
    Metric("completion_rate", "Completion rate (30 closed days)", "MAX(completion_rate)", PERCENT),
    Metric("payer_rate", "Payer rate (30 closed days)", "MAX(payer_rate)", PERCENT),
))

# Users of an install cohort (day and channel) active again 1, 7 and 30 days later, as shares of its installs.
COHORT_ROAS = Dataset("roas_by_cohort", "roas_by_cohort", None, (
    Metric("spend_usd", "Spend", "SUM(spend_usd)", MONEY),
    Metric("installs", "Installs", "SUM(installs)"),
    Metric("roas_d0", "ROAS D0", ratio("SUM(revenue_d0_usd)", "SUM(spend_usd)"), PERCENT),
    Metric("roas_d7", "ROAS D7", ratio("SUM(revenue_d7_usd)", "SUM(spend_usd)"), PERCENT),
    Metric("roas_d30", "ROAS D30", ratio("SUM(revenue_d30_usd)", "SUM(spend_usd)"), PERCENT),
))
CANNIBALISATION = Dataset("rewarded_ad_cannibalisation", "rewarded_ad_cannibalisation", None, (
    Metric("viewers", "Viewers at a paywall", "SUM(viewers)"),
    Metric("payers", "Paid (after the first ad unlock)", "SUM(payers)"),
    Metric("pay_rate", "Pay rate", ratio("SUM(payers)", "SUM(viewers)"), PERCENT),
))
RETENTION = Dataset("retention_by_cohort", "retention_by_cohort", None, (
    Metric("installs", "Installs", "SUM(installs)"),
    Metric("d1_rate", "D1 retention", ratio("SUM(d1)", "SUM(installs)"), PERCENT),
    Metric("d7_rate", "D7 retention", ratio("SUM(d7)", "SUM(installs)"), PERCENT),
    Metric("d30_rate", "D30 retention", ratio("SUM(d30)", "SUM(installs)"), PERCENT),
))

# The hit forecast (title_forecasts): scores over time, and the 24-hour forecast against the outcome.
HIT_WATCH = Dataset("hit_watch", "hit_watch", "as_of", (
    Metric("p_payback", "P(pays back)", "MAX(p_payback)", PERCENT),
    Metric("titles", "New titles watched", "COUNT(DISTINCT title_id)"),
    Metric("hit_signals", "hit_forecast signals", "SUM(hit_signal)"),
))
HIT_OUTCOMES = Dataset("hit_outcomes", "hit_outcomes", None, (
    Metric("titles", "Titles", "COUNT(*)"),
    Metric("known", "Outcomes known (30 days)", "SUM(outcome_known)"),
    Metric("right_share", "Forecast right, of outcomes known",
           ratio("countIf(verdict = 'right')", "SUM(outcome_known)"), PERCENT),
))

ALL = (LIVE_TITLES, TITLES_DAILY, PIPELINE, REJECTS, FRESHNESS, SIGNALS, LOOP, EPISODES, COIN_ECONOMY, SEGMENTS,
       CAMPAIGNS, DISTRIBUTION, CATALOG, ADAPTATION, RETENTION, COHORT_ROAS, CANNIBALISATION, HIT_WATCH, HIT_OUTCOMES)
