-- Loop health: per (minute, title) over the last 24 hours, with the title's name (its title_id
-- when script_created sent none), trope, origin and adaptation, and `title_top`: the name of
-- each of the 8 titles with the most starts in the last 60 minutes, 'others' for the rest, so a
-- per-title series stays readable at hundreds of titles. Metrics are ratios of sums of the
-- columns (dashboards/datasets.py).
SELECT window_start, title_id, if(name = '', title_id, name) AS title_name,
       if(trope_of = '', 'unknown', trope_of) AS trope, if(origin_of = '', 'unknown', origin_of) AS origin,
       if(adaptation_of = '', 'unknown', adaptation_of) AS adaptation,
       if(title_id IN (SELECT title_id FROM title_metrics_1m WHERE window_start >= now() - 3600
                       GROUP BY title_id ORDER BY sum(episode_starts) DESC, title_id LIMIT 8),
          if(name = '', title_id, name), 'others') AS title_top,
       teaser_impressions, teaser_views, hook_views, teaser_clicks, installs, ad_spend_usd,
       episode_starts, episode_completes, episode_exits, watch_seconds, startup_ms_sum, rebuffer_ms_sum,
       paywalls_shown, unlocks_coins, unlocks_subscription, unlocks_rewarded_ad, coins_spent, purchases,
       iap_revenue_usd, ad_impressions, ad_clicks, ad_revenue_usd
FROM title_metrics_1m
ANY LEFT JOIN
(
    SELECT title_id, title_name AS name, trope AS trope_of, origin AS origin_of, adaptation AS adaptation_of
    FROM titles
) AS named USING title_id
WHERE window_start >= now() - 86400
