-- Unlocks by method and the coin economy, per day: coins spent on unlocks, coins bought.
-- window_start: the day as a DateTime (its midnight, UTC), which dashboards filter on.
SELECT day, unlocks_coins, unlocks_subscription, unlocks_rewarded_ad, coins_spent, coins_bought,
       toDateTime(day) AS window_start
FROM
(
    SELECT toDate(window_start) AS day, sumMerge(unlocks_coins) AS unlocks_coins,
           sumMerge(unlocks_subscription) AS unlocks_subscription,
           sumMerge(unlocks_rewarded_ad) AS unlocks_rewarded_ad, sumMerge(coins_spent) AS coins_spent
    FROM title_metrics_1d_rollup
    GROUP BY day
) AS unlocks
ANY LEFT JOIN
(
    SELECT toDate(event_time) AS day, sum(coins) AS coins_bought
    FROM events_raw
    WHERE event_type = 'purchase'
    GROUP BY day
) AS purchases USING day
ORDER BY day
