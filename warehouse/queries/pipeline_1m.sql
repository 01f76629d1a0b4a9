-- Pipeline health per minute of processing time over the last 24 hours: messages in, accepted,
-- duplicates, rejected, late, and the largest event lag (processing time − event time).
SELECT window_start, events_in, accepted, duplicates, rejected, late, max_event_lag_s
FROM pipeline_health_1m
WHERE window_start >= now() - 86400
