-- The hit forecast's inputs (forecast/features.py, docs/forecast.md): per original title launched
-- in the 7 days before %(as_of)s, what the warehouse holds of its first hours, from its launch up
-- to %(as_of)s or to %(hours)s hours after its launch, whichever comes first (`cutoff`). The live
-- scorer asks with as_of = now and hours = 168; the evaluation with a far as_of and hours = 6, 12,
-- 24 or 48, so that every title is seen at the same age. Sums and distinct counts only, plus the
-- second half of the span apart (`*_late`: how fast each is changing); the rates are computed in
-- forecast/features.py. Contract fields only: nothing a simulator adds (sim_*) is read. The rollups
-- are cut to the 8 days before as_of, and to the columns read, before the join (18.16 reads every
-- column of the whole table otherwise): the live scorer runs this every 10 minutes of event time.
SELECT title_id, launched, cutoff, origin_of AS origin, episodes, free, production_cost,
       dateDiff('second', launched, cutoff) / 3600 AS hours_since_launch,
       impressions, views, hooks, clicks, installs, ad_spend, starts, completes, exits, watch_seconds,
       startup_ms, rebuffer_ms, paywalls, purchases, iap_revenue, ad_revenue, likes, shares, comments,
       viewers, starts_late, installs_late, revenue_late, viewers_late,
       first_starts, free_completes, paywall_shown_first, paywall_unlocks_first
FROM
(
SELECT *
FROM
(
    SELECT title_id, assumeNotNull(launched_at) AS launched, origin AS origin_of, episodes_total AS episodes,
           free_episodes AS free, production_cost_usd AS production_cost,
           least(toDateTime(%(as_of)s), assumeNotNull(launched_at) + toUInt32(%(hours)s * 3600)) AS cutoff
    FROM titles
    WHERE parent_title_id = '' AND launched_at IS NOT NULL
      AND assumeNotNull(launched_at) <= toDateTime(%(as_of)s)
      AND assumeNotNull(launched_at) > toDateTime(%(as_of)s) - 7 * 86400
) AS t
ANY LEFT JOIN
(
    SELECT title_id,
           sumMerge(teaser_impressions) AS impressions, sumMerge(teaser_views) AS views,
           sumMerge(hook_views) AS hooks, sumMerge(teaser_clicks) AS clicks, sumMerge(installs) AS installs,
           sumMerge(ad_spend_usd) AS ad_spend, sumMerge(episode_starts) AS starts,
           sumMerge(episode_completes) AS completes, sumMerge(episode_exits) AS exits,
           sumMerge(watch_seconds) AS watch_seconds, sumMerge(startup_ms_sum) AS startup_ms,
           sumMerge(rebuffer_ms_sum) AS rebuffer_ms, sumMerge(paywalls_shown) AS paywalls,
           sumMerge(purchases) AS purchases, sumMerge(iap_revenue_usd) AS iap_revenue,
           sumMerge(ad_revenue_usd) AS ad_revenue, sumMerge(likes) AS likes, sumMerge(shares) AS shares,
           sumMerge(comments) AS comments, uniqExactIfMerge(unique_viewers) AS viewers,
           sumMergeIf(episode_starts, late) AS starts_late, sumMergeIf(installs_state, late) AS installs_late,
           sumMergeIf(iap_revenue_usd, late) + sumMergeIf(ad_revenue_usd, late) AS revenue_late,
           uniqExactIfMergeIf(unique_viewers, late) AS viewers_late
    FROM
    (
        SELECT *, installs AS installs_state,
               window_start >= launched + intDiv(dateDiff('second', launched, cutoff), 2) AS late
        FROM
        (
            SELECT title_id, window_start, teaser_impressions, teaser_views, hook_views, teaser_clicks, installs,
                   ad_spend_usd, episode_starts, episode_completes, episode_exits, watch_seconds, startup_ms_sum,
                   rebuffer_ms_sum, paywalls_shown, purchases, iap_revenue_usd, ad_revenue_usd, likes, shares,
                   comments, unique_viewers
            FROM title_metrics_1m_rollup
            WHERE window_start >= toDateTime(%(as_of)s) - 8 * 86400 AND window_start < toDateTime(%(as_of)s)
        ) AS recent
        ANY JOIN
        (
            SELECT title_id, assumeNotNull(launched_at) AS launched,
                   least(toDateTime(%(as_of)s), assumeNotNull(launched_at) + toUInt32(%(hours)s * 3600)) AS cutoff
            FROM titles
            WHERE parent_title_id = '' AND launched_at IS NOT NULL
              AND assumeNotNull(launched_at) <= toDateTime(%(as_of)s)
              AND assumeNotNull(launched_at) > toDateTime(%(as_of)s) - 7 * 86400
        ) AS spans USING title_id
        WHERE window_start >= toDateTime(%(as_of)s) - 8 * 86400 AND window_start < cutoff
    ) AS minutes
    GROUP BY title_id
) AS metrics USING title_id
) AS seen
ANY LEFT JOIN
(
    SELECT title_id,
           sumMergeIf(starts, episode = 1) AS first_starts,
           sumMergeIf(completes, episode = free_of) AS free_completes,
           sumMergeIf(paywalls_shown, episode = free_of + 1) AS paywall_shown_first,
           sumMergeIf(unlocks, episode = free_of + 1) AS paywall_unlocks_first
    FROM
    (
        SELECT title_id, window_start, episode, starts, completes, paywalls_shown, unlocks
        FROM episode_metrics_1m_rollup
        WHERE window_start >= toDateTime(%(as_of)s) - 8 * 86400 AND window_start < toDateTime(%(as_of)s)
    ) AS recent_episodes
    ANY JOIN
    (
        SELECT title_id, free_episodes AS free_of,
               least(toDateTime(%(as_of)s), assumeNotNull(launched_at) + toUInt32(%(hours)s * 3600)) AS cutoff
        FROM titles
        WHERE parent_title_id = '' AND launched_at IS NOT NULL
          AND assumeNotNull(launched_at) <= toDateTime(%(as_of)s)
          AND assumeNotNull(launched_at) > toDateTime(%(as_of)s) - 7 * 86400
    ) AS spans USING title_id
    WHERE window_start >= toDateTime(%(as_of)s) - 8 * 86400 AND window_start < cutoff
    GROUP BY title_id
) AS episodes_of USING title_id
ORDER BY launched, title_id
