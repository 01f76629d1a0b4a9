-- DAU, WAU and MAU by app, as of today (exact: merged uniqExact states of the day rollup).
SELECT app_id,
       uniqExactIfMergeIf(users, window_start >= toStartOfDay(now())) AS dau,
       uniqExactIfMergeIf(users, window_start >= toStartOfDay(now()) - 6 * 86400) AS wau,
       uniqExactIfMerge(users) AS mau
FROM active_users_1d_rollup
WHERE window_start >= toStartOfDay(now()) - 29 * 86400
GROUP BY app_id
ORDER BY app_id
