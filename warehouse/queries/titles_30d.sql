-- Titles at a glance over the last 30 closed days: exact distinct viewers (title_reach_latest,
-- finalized by warehouse.maintain), with the starts and revenue of the same 30 days (day rollup).
SELECT title_id, if(title_name = '', title_id, title_name) AS title_name, as_of, viewers, starts, revenue_usd
FROM
(
    SELECT title_id, as_of, viewers, starts, revenue_usd
    FROM (SELECT title_id, as_of, viewers FROM title_reach_latest WHERE days = 30) AS reach
    ANY LEFT JOIN
    (
        SELECT title_id, sumMerge(episode_starts) AS starts,
               sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd) AS revenue_usd
        FROM title_metrics_1d_rollup
        WHERE toDate(window_start) > (SELECT max(as_of) FROM title_reach_latest WHERE days = 30) - 30
          AND toDate(window_start) <= (SELECT max(as_of) FROM title_reach_latest WHERE days = 30)
        GROUP BY title_id
    ) AS sums USING title_id
) AS per_title
ANY LEFT JOIN (SELECT title_id, title_name FROM titles) AS names USING title_id
ORDER BY starts DESC, title_id
LIMIT 50
