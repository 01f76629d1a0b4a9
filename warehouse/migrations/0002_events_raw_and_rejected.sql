-- events_raw (metrics-v1.md): every accepted event, with its original JSON text and where it
-- was read from. event_time is UTC to the second; event_time_us keeps the microseconds
-- (ClickHouse 18.16 has no DateTime64).
CREATE TABLE IF NOT EXISTS events_raw (
    event_id String,
    event_type String,
    event_time DateTime,
    event_time_us UInt32,
    app_id String,
    user_id String,
    title_id String,
    topic String,
    partition UInt32,
    offset UInt64,
    payload String,
    ingested_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (event_type, event_time, event_id);

-- events_rejected: every message that failed events-v1, with its reason code and its bytes
-- (as text: lossless for valid UTF-8; invalid sequences are replaced, the DLQ keeps the bytes).
CREATE TABLE IF NOT EXISTS events_rejected (
    topic String,
    partition UInt32,
    offset UInt64,
    reason String,
    detail String,
    raw String,
    rejected_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(rejected_at)
ORDER BY (topic, partition, offset);
