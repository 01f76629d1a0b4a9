-- Rejected messages over the last 24 hours, one row each: when, from which topic, and why.
SELECT rejected_at, topic, reason, detail
FROM events_rejected
WHERE rejected_at >= now() - 86400
