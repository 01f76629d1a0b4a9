-- Per (day, title), all days: the day rollup with the title's name, trope, origin, adaptation,
-- its parent and whether it is derived (a sequel made from a re-create signal), and the day's
-- age in days since the title launched (`days_since_launch`, NULL before launch or unknown).
-- Metrics are ratios of sums of the columns (dashboards/datasets.py).
SELECT window_start, title_id, if(name = '', title_id, name) AS title_name,
       if(trope_of = '', 'unknown', trope_of) AS trope, if(origin_of = '', 'unknown', origin_of) AS origin,
       if(adaptation_of = '', 'unknown', adaptation_of) AS adaptation,
       if(parent = '', 'original', 'derived') AS lineage,
       if(launched IS NULL, NULL, toRelativeDayNum(window_start) - toRelativeDayNum(assumeNotNull(launched)))
           AS days_since_launch,
       teaser_impressions, teaser_views, hook_views, teaser_clicks, installs, ad_spend_usd,
       episode_starts, episode_completes, episode_exits, watch_seconds, startup_ms_sum, rebuffer_ms_sum,
       paywalls_shown, unlocks_coins, unlocks_subscription, unlocks_rewarded_ad, coins_spent, purchases,
       iap_revenue_usd, ad_impressions, ad_clicks, ad_revenue_usd
FROM title_metrics_1d
ANY LEFT JOIN
(
    SELECT title_id, title_name AS name, trope AS trope_of, origin AS origin_of, adaptation AS adaptation_of,
           parent_title_id AS parent, launched_at AS launched
    FROM titles
) AS named USING title_id
