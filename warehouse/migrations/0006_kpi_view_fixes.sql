-- Two KPI views of 0005, corrected (found by the strict golden test):
-- adaptation_kpis.completion_rate counted late events (it read events_raw); metrics-v1 builds
-- every KPI from the windowed sums, which leave late events out: it now reads
-- title_metrics_1m_parts. cultural_discount said 1.0 when there was no native (or no localized)
-- title to compare; it is now NULL then.
DROP TABLE IF EXISTS cultural_discount;
DROP TABLE IF EXISTS adaptation_kpis;
CREATE VIEW IF NOT EXISTS adaptation_kpis AS
SELECT adaptation, completion_rate, payer_rate
FROM
(
    SELECT adaptation, sum(completes) / nullIf(sum(starts), 0) AS completion_rate
    FROM
    (
        SELECT title_id, sum(episode_completes) AS completes, sum(episode_starts) AS starts
        FROM title_metrics_1m_parts
        GROUP BY title_id
    ) AS left_11
    ANY INNER JOIN
    (
        SELECT title_id, adaptation FROM titles
    ) AS right_13 USING title_id
    GROUP BY adaptation
) AS left_1
ANY LEFT JOIN
(
    SELECT adaptation,
           uniqExactIf(user_id, payer = 1) / nullIf(uniqExactIf(user_id, viewer = 1), 0) AS payer_rate
    FROM
    (
        SELECT title_id, user_id,
               max(event_type = 'episode_start') AS viewer,
               max(event_type = 'purchase') AS payer
        FROM events_raw
        WHERE event_type IN ('episode_start', 'purchase')
        GROUP BY title_id, user_id
    ) AS left_12
    ANY INNER JOIN
    (
        SELECT title_id, adaptation FROM titles
    ) AS right_14 USING title_id
    GROUP BY adaptation
) AS right_2 USING adaptation;
CREATE VIEW IF NOT EXISTS cultural_discount AS
SELECT
    if(countIf(adaptation = 'native') = 0, NULL,
       1 - anyIf(completion_rate, adaptation = 'native') / nullIf(anyIf(completion_rate, adaptation = 'localized'), 0))
        AS completion_rate_discount,
    if(countIf(adaptation = 'native') = 0, NULL,
       1 - anyIf(payer_rate, adaptation = 'native') / nullIf(anyIf(payer_rate, adaptation = 'localized'), 0))
        AS payer_rate_discount
FROM adaptation_kpis;
