-- D1, D7 and D30 retention by install cohort (the day of a user's first install) and its
-- channel: users of the cohort with any accepted event 1, 7 and 30 days later (retention).
SELECT cohort, install_channel AS channel, count() AS installs, sum(r[2]) AS d1, sum(r[3]) AS d7, sum(r[4]) AS d30,
       sum(r[2]) / count() AS d1_rate, sum(r[3]) / count() AS d7_rate, sum(r[4]) / count() AS d30_rate
FROM
(
    SELECT user_id, cohort, install_channel,
           retention(toDate(event_time) = cohort, toDate(event_time) = cohort + 1,
                     toDate(event_time) = cohort + 7, toDate(event_time) = cohort + 30) AS r
    FROM events_raw
    ANY JOIN
    (
        SELECT user_id, toDate(min(event_time)) AS cohort,
               argMin(channel, event_time) AS install_channel
        FROM events_raw
        WHERE event_type = 'install'
        GROUP BY user_id
    ) AS installs USING user_id
    WHERE user_id != ''
    GROUP BY user_id, cohort, install_channel
) AS per_user
GROUP BY cohort, install_channel
ORDER BY cohort, install_channel
