-- The hit's lifetime return (the study: US$200,000 to make, US$25 million earned, 125×), from a
-- long horizon of sampled days (`python -m simulator lifetime`): the revenue the hit (the title
-- with the most revenue) earned from each day's newcomers over their whole life, by that day's
-- age in days since the first. In a steady state, what a day's newcomers spend over their life is
-- what a day earns, so the report integrates these rows over the year (trapezoids between the
-- sampled ages) and divides by audience_scale and the hit's real production cost. A user's day
-- is the date of their first user_profile; every day with newcomers has a row, 0 when the hit
-- earned nothing from them.
SELECT toUInt32(cohort_day - first_day) AS age_days, hit_revenue_usd, hit_cost_usd, audience_scale, hit_title_id
FROM
(
    SELECT 1 AS one, cohort_day, hit_revenue_usd, hit_cost_usd, audience_scale, hit_title_id
    FROM
    (
        SELECT cohort_day, sum(usd) AS hit_revenue_usd, any(cost) AS hit_cost_usd, any(scale) AS audience_scale,
               any(title_id) AS hit_title_id
        FROM
        (
            SELECT user_id, title_id, amount_usd + revenue_usd AS usd, cost, scale
            FROM events_raw
            ANY JOIN
            (
                SELECT argMax(title_id, revenue_usd) AS title_id, argMax(production_cost_usd, revenue_usd) AS cost,
                       argMax(audience_scale, revenue_usd) AS scale
                FROM title_roi
            ) AS hit USING title_id
            WHERE event_type IN ('purchase', 'ad_impression')
        ) AS earned
        ANY JOIN
        (
            SELECT user_id, toDate(min(event_time)) AS cohort_day
            FROM events_raw
            WHERE event_type = 'user_profile'
            GROUP BY user_id
        ) AS cohorts USING user_id
        GROUP BY cohort_day
    ) AS by_day
    ANY RIGHT JOIN
    (
        SELECT DISTINCT toDate(min(event_time)) AS cohort_day
        FROM events_raw
        WHERE event_type = 'user_profile'
        GROUP BY user_id
    ) AS days USING cohort_day
) AS earned_by_day
ANY JOIN
(
    SELECT 1 AS one, min(toDate(event_time)) AS first_day FROM events_raw WHERE event_type = 'user_profile'
) AS start USING one
ORDER BY age_days
