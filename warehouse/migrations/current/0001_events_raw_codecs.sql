-- events_raw's layout on current ClickHouse (docker-compose's release; never on 18.16, which has
-- neither per-column codecs nor LowCardinality). Measured by `python -m bench.codecs` on the same
-- 10M events loaded into both servers (warehouse/README.md, "Storage"): 33.8 → 21.9 B/event.
--   - LowCardinality for the few-valued strings (type, app, title, topic, channel, campaign);
--   - DoubleDelta for times, which the sort key (event_type, event_time, event_id) keeps near in order;
--   - T64 for small integers (µs, partition, offset) before ZSTD;
--   - ZSTD(3) for ids and ZSTD(6) for the packed payload, where LZ4 leaves most of the gain.
ALTER TABLE events_raw
    MODIFY COLUMN event_type LowCardinality(String),
    MODIFY COLUMN event_time DateTime CODEC(DoubleDelta, ZSTD(1)),
    MODIFY COLUMN event_id String CODEC(ZSTD(3)),
    MODIFY COLUMN event_time_us UInt32 CODEC(T64, ZSTD(1)),
    MODIFY COLUMN app_id LowCardinality(String),
    MODIFY COLUMN user_id String CODEC(ZSTD(3)),
    MODIFY COLUMN title_id LowCardinality(String),
    MODIFY COLUMN topic LowCardinality(String),
    MODIFY COLUMN partition UInt32 CODEC(T64, ZSTD(1)),
    MODIFY COLUMN offset UInt64 CODEC(T64, ZSTD(1)),
    MODIFY COLUMN payload_packed String CODEC(ZSTD(6)),
    MODIFY COLUMN ingested_at DateTime DEFAULT now() CODEC(DoubleDelta, ZSTD(1)),
    MODIFY COLUMN channel LowCardinality(String) MATERIALIZED visitParamExtractString(payload_packed, 'channel'),
    MODIFY COLUMN campaign_id LowCardinality(String) MATERIALIZED visitParamExtractString(payload_packed, 'campaign_id'),
    MODIFY COLUMN cost_usd Float64 MATERIALIZED visitParamExtractFloat(payload_packed, 'cost_usd') CODEC(ZSTD(3));

DROP TABLE IF EXISTS events_raw_probe;
CREATE TABLE IF NOT EXISTS events_raw_probe AS events_raw ENGINE = Null;
