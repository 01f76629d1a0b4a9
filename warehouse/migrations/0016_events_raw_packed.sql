-- events_raw, smaller (issue 21; warehouse/README.md, "Storage"). Three changes, one table swap:
--
-- 1. The payload is stored packed: `payload_packed` is the message's JSON text without the values
--    of event_id, event_time and user_id, which the row's own columns hold (each replaced
--    by a NUL byte after its key and colon; warehouse/payload.py packs, in the worker). `payload` is now an
--    ALIAS that puts them back, byte for byte: the replay, the profile restore and analysts read it
--    as before. Rows written before this migration are copied whole (no NUL in them: the ALIAS
--    returns them as they are). `SELECT *` now shows payload_packed; name `payload` to see the JSON.
-- 2. Typed columns no documented query reads (session_id, startup_ms, watch_s, position_s,
--    rebuffer_ms, product, placement, stars) are ALIAS, computed when read; the others stay
--    MATERIALIZED. All of them now read payload_packed, which holds every field they extract.
-- 3. The distinct-user rollups fed by events_raw (title_users_1d_rollup, active_users_1d_rollup)
--    keep uniqExact states of sipHash64(user_id), 8 bytes a user, where uniqExact of a String keeps
--    a 16-byte hash: half the size. A collision between two of a day's users (under 1e-7 at 2M
--    users) would count them once. They are rebuilt from events_raw here.
--
-- Run with the workers stopped (`make up` migrates before it starts them).
CREATE TABLE IF NOT EXISTS events_raw_packed (
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
    payload_packed String,
    ingested_at DateTime DEFAULT now(),
    payload String ALIAS arrayStringConcat(arrayMap((piece, id, at, user) -> concat(piece, multiIf(
            endsWith(piece, '"event_id":') OR endsWith(piece, '"event_id": '), concat('"', id, '"'),
            endsWith(piece, '"event_time":') OR endsWith(piece, '"event_time": '), concat('"', at, '"'),
            endsWith(piece, '"user_id":') OR endsWith(piece, '"user_id": '), concat('"', user, '"'), '')),
        splitByChar('\0', payload_packed), replicate(event_id, splitByChar('\0', payload_packed)),
        replicate(concat(replaceOne(toString(event_time, 'UTC'), ' ', 'T'), '.',
                         substring(toString(1000 + intDiv(event_time_us, 1000)), 2, 3), 'Z'), splitByChar('\0', payload_packed)),
        replicate(user_id, splitByChar('\0', payload_packed)))),
    episode UInt32 MATERIALIZED visitParamExtractUInt(payload_packed, 'episode'),
    session_id String ALIAS visitParamExtractString(payload_packed, 'session_id'),
    channel String MATERIALIZED visitParamExtractString(payload_packed, 'channel'),
    campaign_id String MATERIALIZED visitParamExtractString(payload_packed, 'campaign_id'),
    cost_usd Float64 MATERIALIZED visitParamExtractFloat(payload_packed, 'cost_usd'),
    watch_ms UInt32 MATERIALIZED visitParamExtractUInt(payload_packed, 'watch_ms'),
    startup_ms UInt32 ALIAS visitParamExtractUInt(payload_packed, 'startup_ms'),
    watch_s Float64 ALIAS visitParamExtractFloat(payload_packed, 'watch_s'),
    position_s Float64 ALIAS visitParamExtractFloat(payload_packed, 'position_s'),
    rebuffer_ms UInt32 ALIAS visitParamExtractUInt(payload_packed, 'rebuffer_ms'),
    method String MATERIALIZED visitParamExtractString(payload_packed, 'method'),
    coins_spent UInt32 MATERIALIZED visitParamExtractUInt(payload_packed, 'coins_spent'),
    product String ALIAS visitParamExtractString(payload_packed, 'product'),
    amount_usd Float64 MATERIALIZED visitParamExtractFloat(payload_packed, 'amount_usd'),
    coins UInt32 MATERIALIZED visitParamExtractUInt(payload_packed, 'coins'),
    placement String ALIAS visitParamExtractString(payload_packed, 'placement'),
    revenue_usd Float64 MATERIALIZED visitParamExtractFloat(payload_packed, 'revenue_usd'),
    stars UInt8 ALIAS toUInt8(visitParamExtractUInt(payload_packed, 'stars')),
    gender String MATERIALIZED visitParamExtractString(payload_packed, 'gender'),
    age_band String MATERIALIZED visitParamExtractString(payload_packed, 'age_band'),
    country String MATERIALIZED visitParamExtractString(payload_packed, 'country')
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (event_type, event_time, event_id);

INSERT INTO events_raw_packed (event_id, event_type, event_time, event_time_us, app_id, user_id, title_id, topic,
                               partition, offset, payload_packed, ingested_at)
SELECT event_id, event_type, event_time, event_time_us, app_id, user_id, title_id, topic, partition, offset, payload,
       ingested_at
FROM events_raw;

DROP TABLE IF EXISTS title_users_1d_rollup_mv;
DROP TABLE IF EXISTS active_users_1d_rollup_mv;
RENAME TABLE events_raw TO events_raw_unpacked, events_raw_packed TO events_raw;
DROP TABLE events_raw_unpacked;

DROP TABLE IF EXISTS events_raw_probe;
CREATE TABLE IF NOT EXISTS events_raw_probe AS events_raw ENGINE = Null;

-- the distinct-user rollups, on 8-byte hashes ------------------------------------------------------
CREATE TABLE IF NOT EXISTS title_users_1d_rollup_hashed (
    window_start DateTime,
    title_id String,
    parts_rows AggregateFunction(count),
    viewers AggregateFunction(uniqExactIf, UInt64, UInt8),
    payers AggregateFunction(uniqExactIf, UInt64, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id);

INSERT INTO title_users_1d_rollup_hashed
SELECT toStartOfDay(event_time) AS window_start, title_id,
    countState() AS parts_rows,
    uniqExactIfState(sipHash64(user_id), event_type = 'episode_start') AS viewers,
    uniqExactIfState(sipHash64(user_id), event_type = 'purchase') AS payers
FROM events_raw
GROUP BY window_start, title_id;

RENAME TABLE title_users_1d_rollup TO title_users_1d_rollup_strings, title_users_1d_rollup_hashed TO title_users_1d_rollup;
DROP TABLE title_users_1d_rollup_strings;

CREATE MATERIALIZED VIEW IF NOT EXISTS title_users_1d_rollup_mv TO title_users_1d_rollup AS
SELECT toStartOfDay(event_time) AS window_start, title_id,
    countState() AS parts_rows,
    uniqExactIfState(sipHash64(user_id), event_type = 'episode_start') AS viewers,
    uniqExactIfState(sipHash64(user_id), event_type = 'purchase') AS payers
FROM events_raw
GROUP BY window_start, title_id;

CREATE TABLE IF NOT EXISTS active_users_1d_rollup_hashed (
    window_start DateTime,
    app_id String,
    parts_rows AggregateFunction(count),
    users AggregateFunction(uniqExactIf, UInt64, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, app_id);

INSERT INTO active_users_1d_rollup_hashed
SELECT toStartOfDay(event_time) AS window_start, app_id,
    countState() AS parts_rows,
    uniqExactIfState(sipHash64(user_id), user_id != '') AS users
FROM events_raw
GROUP BY window_start, app_id;

RENAME TABLE active_users_1d_rollup TO active_users_1d_rollup_strings, active_users_1d_rollup_hashed TO active_users_1d_rollup;
DROP TABLE active_users_1d_rollup_strings;

CREATE MATERIALIZED VIEW IF NOT EXISTS active_users_1d_rollup_mv TO active_users_1d_rollup AS
SELECT toStartOfDay(event_time) AS window_start, app_id,
    countState() AS parts_rows,
    uniqExactIfState(sipHash64(user_id), user_id != '') AS users
FROM events_raw
GROUP BY window_start, app_id;
