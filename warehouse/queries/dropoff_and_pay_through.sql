-- The episode drop-off curve and the pay-through rate at the paywall, per title (all time).
-- reach: the share of episode 1's starts that reached this episode; pay_through_rate: unlocks
-- (any method) per paywall shown, on the episodes where the paywall was shown. title_name: the
-- name script_created gave the title (its title_id when none).
SELECT title_id, episode, starts, completes, paywalls_shown, unlocks,
       starts / nullIf(first_starts, 0) AS reach,
       completes / nullIf(starts, 0) AS completion_rate,
       unlocks / nullIf(paywalls_shown, 0) AS pay_through_rate,
       if(name = '', title_id, name) AS title_name
FROM
(
    SELECT *
    FROM
    (
        SELECT title_id, episode, sumMerge(starts) AS starts, sumMerge(completes) AS completes,
               sumMerge(paywalls_shown) AS paywalls_shown, sumMerge(unlocks) AS unlocks
        FROM episode_metrics_1d_rollup
        GROUP BY title_id, episode
    ) AS sums
    ANY LEFT JOIN (SELECT title_id, title_name AS name FROM titles) AS named USING title_id
) AS per_episode
ANY LEFT JOIN
(
    SELECT title_id, sumMerge(starts) AS first_starts
    FROM episode_metrics_1d_rollup
    WHERE episode = 1
    GROUP BY title_id
) AS first_episode USING title_id
ORDER BY title_id, episode
