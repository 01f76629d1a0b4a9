-- "White women aged 45 and older emerged as the primary paying group, with a notable 50% payment
-- rate": the second reading, per segment group. The cohort is the users first seen in the data's
-- first day who reached a paywall; `paid_7d` is the share of them with a purchase within seven
-- days of their first event. `observed_days` is how many days the data spans, at most seven (the
-- report checks the rate only when the data spans a week). Segments are each user's latest user_profile.
SELECT if(gender = 'female' AND age_band IN ('45-54', '55+'), 'women 45+', 'everyone else') AS segment_group,
       count() AS reached_paywall, countIf(paid) AS paid_7d_users, paid_7d_users / count() AS paid_7d,
       any(observed_days) AS observed_days
FROM
(
    SELECT user_id, first_seen, paywall, purchase_at < first_seen + 7 * 86400 AND purchase_at > 0 AS paid,
           least(7, (data_last - data_first) / 86400) AS observed_days
    FROM
    (
        SELECT user_id, toUInt32(min(event_time)) AS first_seen, countIf(event_type = 'paywall_shown') > 0 AS paywall,
               toUInt32(minIf(event_time, event_type = 'purchase')) AS purchase_at,
               1 AS one
        FROM events_raw
        WHERE user_id != ''
        GROUP BY user_id
    ) AS users
    ANY JOIN
    (
        SELECT 1 AS one, toUInt32(min(event_time)) AS data_first, toUInt32(max(event_time)) AS data_last
        FROM events_raw
        WHERE event_type NOT IN ('script_created', 'episode_released', 'title_launched')
    ) AS bounds USING one
    WHERE paywall AND first_seen < data_first + 86400
) AS cohort
ANY LEFT JOIN
(
    SELECT user_id, argMax(gender, event_time) AS gender, argMax(age_band, event_time) AS age_band
    FROM events_raw
    WHERE event_type = 'user_profile'
    GROUP BY user_id
) AS profiles USING user_id
GROUP BY segment_group
ORDER BY segment_group DESC
