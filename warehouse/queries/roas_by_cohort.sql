-- ROAS D0, D7 and D30 by install cohort (the day a teaser was paid for and a user installed) and
-- channel. Spend is that day's teaser impressions' cost_usd on the channel; installs and revenue
-- are those of the users whose first install was that day on that channel; revenue (IAP amount
-- and ad revenue) counts at D0 when earned within 24 h of the install, at D7 within 7 days, at D30
-- within 30. A cohort younger than 7 (30) days has no D7 (D30) yet: NULL, not a partial sum.
SELECT cohort, channel, spend_usd, installs, earned_d0 AS revenue_d0_usd,
       if(cohort <= today() - 7, earned_d7, NULL) AS revenue_d7_usd,
       if(cohort <= today() - 30, earned_d30, NULL) AS revenue_d30_usd
FROM
(
    SELECT cohort, channel, spend_usd, installs
    FROM
    (
        SELECT toDate(event_time) AS cohort, channel, sum(cost_usd) AS spend_usd
        FROM events_raw
        WHERE event_type = 'teaser_impression'
        GROUP BY cohort, channel
    ) AS spend
    ANY LEFT JOIN
    (
        SELECT cohort, channel, count() AS installs
        FROM
        (
            SELECT user_id, toDate(min(event_time)) AS cohort, argMin(channel, event_time) AS channel
            FROM events_raw
            WHERE event_type = 'install'
            GROUP BY user_id
        ) AS first_installs
        GROUP BY cohort, channel
    ) AS installed USING cohort, channel
) AS acquisition
ANY LEFT JOIN
(
    SELECT cohort, channel,
           sumIf(amount, event_time < installed + 86400) AS earned_d0,
           sumIf(amount, event_time < installed + 7 * 86400) AS earned_d7,
           sumIf(amount, event_time < installed + 30 * 86400) AS earned_d30
    FROM
    (
        SELECT user_id, event_time, amount_usd + revenue_usd AS amount
        FROM events_raw
        WHERE event_type IN ('purchase', 'ad_impression')
    ) AS revenue
    ANY JOIN
    (
        SELECT user_id, min(event_time) AS installed, toDate(min(event_time)) AS cohort,
               argMin(channel, event_time) AS channel
        FROM events_raw
        WHERE event_type = 'install'
        GROUP BY user_id
    ) AS installs USING user_id
    WHERE event_time >= installed
    GROUP BY cohort, channel
) AS returns USING cohort, channel
ORDER BY cohort, channel
