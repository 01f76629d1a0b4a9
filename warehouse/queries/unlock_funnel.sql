-- The unlock funnel per (user, title): episode_start → paywall_shown → episode_unlocked, each
-- step within a day of the start (windowFunnel): how many (user, title) pairs reached each step.
SELECT countIf(level >= 1) AS started, countIf(level >= 2) AS saw_paywall, countIf(level >= 3) AS unlocked,
       countIf(level >= 3) / nullIf(countIf(level >= 2), 0) AS paywall_conversion
FROM
(
    SELECT user_id, title_id,
           windowFunnel(86400)(event_time, event_type = 'episode_start', event_type = 'paywall_shown',
                               event_type = 'episode_unlocked') AS level
    FROM events_raw
    WHERE event_type IN ('episode_start', 'paywall_shown', 'episode_unlocked') AND user_id != ''
    GROUP BY user_id, title_id
) AS funnel
