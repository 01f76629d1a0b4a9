-- DAU, WAU and MAU by app as of the newest closed day, finalized by warehouse.maintain
-- (app_reach_latest): the dashboard's version of active_users.sql, one row per app and window.
SELECT app_id, any(as_of) AS as_of,
       sumIf(users, days = 1) AS dau, sumIf(users, days = 7) AS wau, sumIf(users, days = 30) AS mau
FROM app_reach_latest
GROUP BY app_id
ORDER BY app_id
