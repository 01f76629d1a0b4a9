-- The KPIs of metrics-v1.md, each a ratio of sums taken at the grain of the view, never an
-- average of ratios. For another grain, sum the same columns and divide (Superset's dataset
-- metrics do exactly that, see dashboards/assets/datasets/). ClickHouse aliases are global, so a
-- sum is never aliased to the name of the column it sums when another expression reads that column.

CREATE VIEW IF NOT EXISTS title_kpis_1d AS
SELECT
    toDate(window_start) AS day, title_id,
    sum(hook_views) / nullIf(sum(teaser_impressions), 0) AS hook_rate,
    sum(teaser_clicks) / nullIf(sum(teaser_impressions), 0) AS teaser_ctr,
    sum(ad_spend_usd) / nullIf(sum(installs), 0) AS cpi_usd,
    sum(episode_completes) / nullIf(sum(episode_starts), 0) AS completion_rate,
    (sum(unlocks_coins) + sum(unlocks_subscription) + sum(unlocks_rewarded_ad)) / nullIf(sum(paywalls_shown), 0)
        AS paywall_conversion,
    (sum(unlocks_coins) + sum(unlocks_subscription))
        / nullIf(sum(unlocks_coins) + sum(unlocks_subscription) + sum(unlocks_rewarded_ad), 0) AS paid_unlock_share,
    (sum(iap_revenue_usd) + sum(ad_revenue_usd)) / nullIf(sum(ad_spend_usd), 0) AS roas,
    sum(startup_ms_sum) / nullIf(sum(episode_starts), 0) AS mean_startup_ms,
    sum(rebuffer_ms_sum) / nullIf(1000 * sum(watch_seconds) + sum(rebuffer_ms_sum), 0) AS rebuffer_ratio,
    sum(episode_starts) AS starts, sum(iap_revenue_usd) AS iap_usd, sum(ad_revenue_usd) AS ad_usd,
    sum(ad_spend_usd) AS spend_usd
FROM title_metrics_1m
GROUP BY day, title_id;

-- Payer rate and ARPPU need distinct users over the day, so they come from the per-user rows.
CREATE VIEW IF NOT EXISTS kpis_1d AS
SELECT
    toDate(window_start) AS day,
    uniqExactIf(user_id, viewer = 1) AS viewers,
    uniqExactIf(user_id, payer = 1) AS payers,
    sum(iap_revenue_usd) AS iap_usd,
    sum(ad_revenue_usd) AS ad_usd,
    uniqExactIf(user_id, payer = 1) / nullIf(uniqExactIf(user_id, viewer = 1), 0) AS payer_rate,
    sum(iap_revenue_usd) / nullIf(uniqExactIf(user_id, payer = 1), 0) AS arppu_usd
FROM segment_metrics_1m_parts
GROUP BY day;

-- Lifetime return on production: all revenue a title ever earned over what it cost to make.
CREATE VIEW IF NOT EXISTS title_roi AS
SELECT title_id, trope, adaptation, origin, production_cost_usd, revenue_usd,
       revenue_usd / nullIf(production_cost_usd, 0) AS roi
FROM titles
ANY LEFT JOIN
(
    SELECT title_id, sum(iap_revenue_usd) + sum(ad_revenue_usd) AS revenue_usd
    FROM title_metrics_1m
    GROUP BY title_id
) AS right_2 USING title_id;

-- Cultural discount of native tropes: 1 − KPI(native) ÷ KPI(localized), for completion rate and
-- payer rate (payers ÷ viewers among each adaptation's audience), from the accepted events.
CREATE VIEW IF NOT EXISTS adaptation_kpis AS
SELECT adaptation,
       sum(completes) / nullIf(sum(starts), 0) AS completion_rate,
       uniqExactIf(user_id, payer = 1) / nullIf(uniqExactIf(user_id, viewer = 1), 0) AS payer_rate
FROM
(
    SELECT title_id, user_id,
           countIf(event_type = 'episode_start') AS starts,
           countIf(event_type = 'episode_complete') AS completes,
           max(event_type = 'episode_start') AS viewer,
           max(event_type = 'purchase') AS payer
    FROM events_raw
    WHERE event_type IN ('episode_start', 'episode_complete', 'purchase')
    GROUP BY title_id, user_id
) AS left_1
ANY INNER JOIN
(
    SELECT title_id, adaptation FROM titles
) AS right_3 USING title_id
GROUP BY adaptation;

CREATE VIEW IF NOT EXISTS cultural_discount AS
SELECT
    1 - anyIf(completion_rate, adaptation = 'native') / nullIf(anyIf(completion_rate, adaptation = 'localized'), 0)
        AS completion_rate_discount,
    1 - anyIf(payer_rate, adaptation = 'native') / nullIf(anyIf(payer_rate, adaptation = 'localized'), 0)
        AS payer_rate_discount
FROM adaptation_kpis;
