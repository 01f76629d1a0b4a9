-- The last hour's rejected messages by reason and source topic.
SELECT topic, reason, count() AS rejected, max(rejected_at) AS last_rejected_at
FROM events_rejected
WHERE rejected_at >= now() - 3600
GROUP BY topic, reason
ORDER BY rejected DESC, topic, reason
