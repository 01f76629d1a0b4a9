-- Completion and payer rate by adaptation (native, localized, western) over the last 30 closed
-- days: the payer rate from adaptation_reach_latest (exact distinct users, finalized by
-- warehouse.maintain), completion from the day rollup over the same days. The cultural discount
-- is 1 - native / localized of either rate. adaptation_kpis is the same over all time.
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
) AS completion USING adaptation
ORDER BY adaptation
