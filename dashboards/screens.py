"""The six dashboards: what each shows, in the order of the loop (create → distribute →
feedback → re-create). Datasets and their metrics are in dashboards/datasets.py; how a chart
becomes Superset's form data and SQL is in dashboards/layout.py."""
from __future__ import annotations

from dashboards import datasets as d
from dashboards.layout import Chart, Dashboard

LAST_60_MINUTES = 'DATEADD(DATETIME("now"), -60, minute) : now'
LAST_7_DAYS = 'DATEADD(DATETIME("now"), -7, day) : now'   # Superset's "Last week" ends at midnight: no today

LOOP_HEALTH = Dashboard(
    slug="loop-health", title="Loop health (live)", time_range=LAST_60_MINUTES, grain="PT1M", refresh_s=10,
    description="The loop as it turns: the last 60 minutes, refreshed every 10 s. Read it row by row. "
                "**Distribute**: teaser impressions and the hook rate (viewers who stay 3 s). **Feedback**: "
                "starts, completion, rebuffering, paywall conversion, and revenue. **Re-create**: the latest "
                "signals, and how long each step of the loop took. **Pipeline**: events in, rejects, and lag. "
                "Freshness over 60 s, or over 1% rejected, raises an alert.",
    rows=(
        (Chart("live_teaser_impressions", "Distribute · teaser impressions per minute", d.LIVE_TITLES, "bar",
               ("teaser_impressions",), width=3),
         Chart("live_hook_rate", "Hook rate", d.LIVE_TITLES, "number", ("hook_rate",), width=3),
         Chart("live_starts_top", "Feedback · episode starts per minute, top 8 titles and others", d.LIVE_TITLES,
               "stacked", ("starts",), groupby=("title_top",), width=6)),
        # Ratios over the window (sums first): a minute's ratio is noise at a few events a minute.
        (Chart("live_completion", "Completion", d.LIVE_TITLES, "number", ("completion_rate",),
               width=3),
         Chart("live_rebuffer", "Rebuffering", d.LIVE_TITLES, "number", ("rebuffer_ratio",), width=3),
         Chart("live_paywall_conversion", "Paywall conversion", d.LIVE_TITLES, "number",
               ("paywall_conversion",), width=3),
         Chart("live_revenue", "Feedback · revenue per minute, IAP and ads", d.LIVE_TITLES, "stacked",
               ("iap_usd", "ad_usd"), width=3)),
        # A signal comes every few hours, not every minute: the latest ones over a week.
        (Chart("live_signals", "Re-create · latest signals (7 days)", d.SIGNALS, "raw", (),
               columns=("emitted_at", "title_name", "trope", "reason", "score"), order_by="emitted_at",
               row_limit=20, width=6, time_range=LAST_7_DAYS),
         Chart("live_cycle_times", "Re-create · loop cycle times (mean, s)", d.LOOP, "table",
               ("derived_titles", "signal_to_script_s", "script_to_launch_s", "launch_to_first_view_s"),
               groupby=("parent_title_name",), row_limit=20, width=6)),
        (Chart("live_events_in", "Pipeline · events in, duplicates, late per minute", d.PIPELINE, "line",
               ("events_in", "duplicates", "late"), width=3),
         Chart("live_rejected", "Pipeline · rejected by reason", d.REJECTS, "stacked", ("rejected",),
               groupby=("reason",), width=3),
         Chart("live_event_lag", "Event lag, max (s)", d.PIPELINE, "line", ("max_event_lag_s",),
               width=3),
         Chart("live_freshness", "Freshness (s)", d.FRESHNESS, "number", ("freshness_s",), width=3)),
    ))

MONETIZATION = Dashboard(
    slug="monetization", title="Monetization", time_range=LAST_7_DAYS,
    description="Where the money comes from, over the last 7 days. First, the unlock funnel per episode: "
                "the paywall follows the free episodes. Then how episodes are unlocked: coins, subscription, "
                "or a rewarded ad. Then who pays (ARPPU and payer rate by segment), and what acquisition "
                "returns (ROAS and CPI by channel and campaign; ROAS D0, D7 and D30 by install cohort, N/A until "
                "a cohort is that old). Last, whether rewarded ads take payments away. Money is in US dollars. "
                "Every rate is a ratio of sums.",
    rows=(
        (Chart("money_funnel", "Unlock funnel per episode position", d.EPISODES, "bar",
               ("starts", "paywalls_shown", "unlocks"), x_axis="episode", width=6),
         Chart("money_pay_through", "Pay-through rate per episode position", d.EPISODES, "line",
               ("pay_through_rate",), x_axis="episode", width=6)),
        (Chart("money_unlocks_by_method", "Unlocks by method per day", d.COIN_ECONOMY, "stacked",
               ("unlocks_coins", "unlocks_subscription", "unlocks_rewarded_ad"), width=6),
         Chart("money_coin_economy", "Coin economy: bought and spent per day", d.COIN_ECONOMY, "bar",
               ("coins_bought", "coins_spent"), width=6)),
        (Chart("money_segments", "ARPPU and payer rate by segment", d.SEGMENTS, "table",
               ("arppu_usd", "payer_rate", "payers", "viewers", "iap_usd"), groupby=("gender", "age_band", "country"),
               row_limit=200, width=7),
         Chart("money_revenue_split", "Revenue per day, IAP and ads", d.TITLES_DAILY, "stacked",
               ("iap_usd", "ad_usd"), width=5)),
        (Chart("money_campaigns", "ROAS and CPI by channel and campaign", d.CAMPAIGNS, "table",
               ("roas_d7", "roas_d0", "cpi_usd", "spend_usd", "installs"), groupby=("channel", "campaign_id"),
               row_limit=200, width=12),),
        # What RevenueCat and the ad networks open with: does a day's spend come back, and when.
        (Chart("money_cohort_roas", "ROAS D0, D7 and D30 by install cohort", d.COHORT_ROAS, "table",
               ("roas_d0", "roas_d7", "roas_d30", "spend_usd", "installs"), groupby=("cohort",), row_limit=60,
               width=8),
         Chart("money_ad_cannibalisation", "Rewarded ads: do ad unlockers pay less?", d.CANNIBALISATION, "table",
               ("pay_rate", "payers", "viewers"), groupby=("viewers_who",), width=4)),
    ))

CONTENT = Dashboard(
    slug="content", title="Content and re-create", time_range=LAST_7_DAYS,
    description="What the studio makes and what it earns. Titles by trope and origin (AI, human, "
                "hybrid). ROI is revenue at the full audience divided by production cost. The drop-off "
                "curve shows where viewers leave. The last row shows the derived titles that the re-create "
                "signals asked for, against their parents.",
    rows=(
        (Chart("content_titles_by_trope", "Titles by trope and origin", d.CATALOG, "stacked", ("titles",),
               x_axis="trope", groupby=("origin",), width=6),
         Chart("content_roi_by_origin", "ROI by origin (revenue at the full audience ÷ cost)", d.CATALOG, "bar",
               ("roi",), x_axis="origin", width=6)),
        (Chart("content_cost_revenue", "Production cost against revenue, per title", d.CATALOG, "table",
               ("production_cost_usd", "revenue_full_audience_usd", "roi"),
               groupby=("title_name", "trope", "origin", "lineage"), row_limit=100, width=6),
         Chart("content_dropoff", "Drop-off curve: starts per episode, top 8 titles", d.EPISODES, "line",
               ("starts",), x_axis="episode", groupby=("title_name",), series_limit=8, width=6)),
        (Chart("content_derived", "Derived titles against their parents", d.LOOP, "table",
               ("revenue_usd", "parent_revenue_usd", "revenue_vs_parent", "signal_to_script_s"),
               groupby=("title_name", "parent_title_name", "signal_id"), row_limit=100, width=7),
         Chart("content_signals", "Signals behind them", d.SIGNALS, "raw", (),
               columns=("emitted_at", "title_name", "trope", "reason", "score"), order_by="emitted_at",
               row_limit=50, width=5)),
    ))

STUDY = Dashboard(
    slug="study-model", title="The study's model", time_range=LAST_7_DAYS,
    description="The US market study's three levers, measured. **Localization**: KPIs by adaptation, "
                "and the cultural discount over 30 closed days. **Technology**: AI, human and hybrid titles, "
                "and their cost per episode. **Co-creation**: derived titles against originals, and the "
                "re-create signals behind them. Source: short-dramas-us-market-study.txt.",
    rows=(
        (Chart("study_adaptation_kpis", "Localization · KPIs by adaptation", d.TITLES_DAILY, "table",
               ("completion_rate", "hook_rate", "paywall_conversion", "starts", "revenue_usd"),
               groupby=("adaptation",), width=6),
         Chart("study_cultural_discount", "Localization · completion and payer rate by adaptation (30 closed days)",
               d.ADAPTATION, "table", ("completion_rate", "payer_rate"), groupby=("adaptation",), width=6)),
        (Chart("study_origin_kpis", "Technology · AI, human and hybrid titles", d.TITLES_DAILY, "table",
               ("hook_rate", "completion_rate", "paywall_conversion", "revenue_usd", "titles"),
               groupby=("origin",), width=6),
         Chart("study_origin_cost", "Technology · cost per episode and virtual-actor episodes", d.CATALOG, "table",
               ("cost_per_episode_usd", "virtual_actor_share", "titles", "roi"), groupby=("origin",), width=6)),
        (Chart("study_lineage", "Co-creation · derived titles against originals", d.TITLES_DAILY, "table",
               ("titles", "revenue_usd", "completion_rate", "paywall_conversion"), groupby=("lineage",), width=6),
         Chart("study_signals_per_day", "Co-creation · re-create signals per day", d.SIGNALS, "bar", ("signals",),
               width=6)),
    ))

DISTRIBUTION = Dashboard(
    slug="distribution", title="Distribution", time_range=LAST_7_DAYS,
    description="How teasers buy the audience, over the last 7 days. The hook rate is viewers who watch "
                "3 s or more; the CTR is clicks on a teaser. Both are shown per channel, then per campaign "
                "with the cost per install. Retention is D1, D7 and D30 by install day and channel. The "
                "launch window covers each title's first 7 days.",
    rows=(
        (Chart("dist_hook_by_channel", "Hook rate (golden three seconds) by channel", d.DISTRIBUTION, "line",
               ("hook_rate",), groupby=("channel",), width=6),
         Chart("dist_ctr_by_channel", "Teaser CTR by channel", d.DISTRIBUTION, "line", ("teaser_ctr",),
               groupby=("channel",), width=6)),
        (Chart("dist_campaigns", "Hook rate, CTR and cost per install by channel and campaign", d.DISTRIBUTION,
               "table", ("hook_rate", "teaser_ctr", "cpi_usd", "installs", "spend_usd", "teaser_impressions"),
               groupby=("channel", "campaign_id"), row_limit=200, width=12),),
        (Chart("dist_retention", "Retention D1, D7 and D30 by install day and channel", d.RETENTION, "table",
               ("installs", "d1_rate", "d7_rate", "d30_rate"), groupby=("cohort", "channel"), row_limit=300,
               width=12),),
        (Chart("dist_launch_window", "Launch window: each title's first 7 days", d.TITLES_DAILY, "table",
               ("starts", "hook_rate", "completion_rate", "revenue_usd"), groupby=("title_name", "days_since_launch"),
               where="days_since_launch BETWEEN 0 AND 6", row_limit=300, width=12),),
    ))

HIT_WATCH = Dashboard(
    slug="hit-watch", title="Hit watch", time_range=LAST_7_DAYS, grain="PT1H",
    description="Which new titles will pay back. Every original title is scored every 10 minutes of its "
                "first 7 days by the hit forecast (docs/forecast.md): **P(pays back)** is the chance that its "
                "first 30 days' revenue covers its production cost and its teaser spend; **P(hit)**, 10× that "
                "(empty while the model has no hit to learn from). First each title's P(pays back) over time, "
                "then the titles in their first week now with what the scores come from, then the forecast "
                "made at 24 hours against what happened: *right* or *miss* once the 30 days are known, *open* "
                "before.",
    rows=(
        (Chart("hit_titles", "New titles watched", d.HIT_WATCH, "number", ("titles",), width=3),
         Chart("hit_signals", "hit_forecast signals sent", d.HIT_WATCH, "number", ("hit_signals",), width=3),
         Chart("hit_known", "Outcomes known (30 days)", d.HIT_OUTCOMES, "number", ("known",), width=3),
         Chart("hit_right", "Forecast right, of outcomes known", d.HIT_OUTCOMES, "number", ("right_share",),
               width=3)),
        (Chart("hit_p_payback", "P(pays back) of each new title by hour, first 7 days", d.HIT_WATCH, "line",
               ("p_payback",), groupby=("title_name",), series_limit=15, width=12),),
        (Chart("hit_now", "New titles now: scores, and what they come from so far", d.HIT_WATCH, "raw", (),
               columns=("title_name", "origin", "hours_since_launch", "p_payback", "p_hit", "viewers",
                        "revenue_usd", "hook_rate", "completion", "pay_through"),
               order_by="p_payback", where="latest = 1", row_limit=50, width=12),),
        (Chart("hit_outcomes", "The 24-hour forecast against the first 30 days", d.HIT_OUTCOMES, "raw", (),
               columns=("launched_at", "title_name", "origin", "p_payback_24h", "forecast_pays_back",
                        "revenue_full_usd", "cost_usd", "spend_full_usd", "paid_back", "verdict"),
               order_by="launched_at", row_limit=100, width=12),),
    ))

ALL = (LOOP_HEALTH, MONETIZATION, CONTENT, STUDY, DISTRIBUTION, HIT_WATCH)
