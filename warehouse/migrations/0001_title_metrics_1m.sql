-- title_metrics_1m (metrics-v1.md): per title and one-minute event-time window.
-- The workers insert partial counts, each row stamped with the Kafka range it covers;
-- the view sums them, so a reader gets one row per key with a plain SELECT.
CREATE TABLE IF NOT EXISTS title_metrics_1m_parts (
    window_start DateTime,
    title_id String,
    episode_starts UInt64,
    src_topic String,
    src_partition UInt32,
    src_first_offset UInt64,
    src_last_offset UInt64,
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(window_start)
ORDER BY (window_start, title_id);

CREATE VIEW IF NOT EXISTS title_metrics_1m AS
SELECT
    window_start,
    title_id,
    sum(episode_starts) AS episode_starts
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;
