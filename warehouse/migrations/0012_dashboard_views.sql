-- Views behind the long-range dashboard screens (the SQL of warehouse/queries/titles_30d.sql and
-- adaptation_30d.sql lives here): Superset's SQL parser does not read 18.16's ANY JOIN, so a chart
-- reads a view by name instead of a virtual dataset holding the join.

CREATE VIEW IF NOT EXISTS titles_30d AS
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
ANY LEFT JOIN (SELECT title_id, title_name FROM titles) AS names USING title_id;

CREATE VIEW IF NOT EXISTS adaptation_30d AS
SELECT adaptation, as_of, completion_rate, payer_rate
FROM
(
    SELECT adaptation, as_of, payers / nullIf(viewers, 0) AS payer_rate
    FROM adaptation_reach_latest
    WHERE days = 30
) AS reach
ANY LEFT JOIN
(
    SELECT adaptation, sum(completes) / nullIf(sum(starts), 0) AS completion_rate
    FROM
    (
        SELECT title_id, sumMerge(episode_completes) AS completes, sumMerge(episode_starts) AS starts
        FROM title_metrics_1d_rollup
        WHERE toDate(window_start) > (SELECT max(as_of) FROM adaptation_reach_latest WHERE days = 30) - 30
          AND toDate(window_start) <= (SELECT max(as_of) FROM adaptation_reach_latest WHERE days = 30)
        GROUP BY title_id
    ) AS per_title
    ANY INNER JOIN (SELECT title_id, adaptation FROM titles) AS title_adaptation USING title_id
    GROUP BY adaptation
) AS completion USING adaptation;
