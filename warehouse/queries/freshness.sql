-- Freshness: seconds from the newest accepted event's time to now, over the last hour (3600 when
-- nothing arrived in the hour). The event lag (pipeline_1m.sql) is how late the worker processes
-- events; freshness is how old the newest data on a dashboard is.
SELECT now() AS checked_at,
       if(count() = 0, 3600, toUnixTimestamp(now()) - toUnixTimestamp(max(event_time))) AS freshness_s
FROM events_raw
WHERE event_time >= now() - 3600 AND event_time <= now() + 60
