-- events_raw for SQL (issue 8): the common fields of the payload as typed columns, so analysts
-- rarely parse JSON. MATERIALIZED: ClickHouse computes them from `payload` on insert (the worker
-- writes the same columns as before and pays nothing), older parts compute them on read, and
-- `SELECT *` leaves them out (name them). A field an event does not carry is 0 or ''. The
-- extraction is visitParamExtract*, which reads the first `"name":` in the text: events-v1's
-- fields are top level, but an extra field that nests an object with the same key before the
-- real one would be read instead (the payload itself is always the truth).
ALTER TABLE events_raw
    ADD COLUMN episode UInt32 MATERIALIZED visitParamExtractUInt(payload, 'episode'),
    ADD COLUMN session_id String MATERIALIZED visitParamExtractString(payload, 'session_id'),
    ADD COLUMN channel String MATERIALIZED visitParamExtractString(payload, 'channel'),
    ADD COLUMN campaign_id String MATERIALIZED visitParamExtractString(payload, 'campaign_id'),
    ADD COLUMN cost_usd Float64 MATERIALIZED visitParamExtractFloat(payload, 'cost_usd'),
    ADD COLUMN watch_ms UInt32 MATERIALIZED visitParamExtractUInt(payload, 'watch_ms'),
    ADD COLUMN startup_ms UInt32 MATERIALIZED visitParamExtractUInt(payload, 'startup_ms'),
    ADD COLUMN watch_s Float64 MATERIALIZED visitParamExtractFloat(payload, 'watch_s'),
    ADD COLUMN position_s Float64 MATERIALIZED visitParamExtractFloat(payload, 'position_s'),
    ADD COLUMN rebuffer_ms UInt32 MATERIALIZED visitParamExtractUInt(payload, 'rebuffer_ms'),
    ADD COLUMN method String MATERIALIZED visitParamExtractString(payload, 'method'),
    ADD COLUMN coins_spent UInt32 MATERIALIZED visitParamExtractUInt(payload, 'coins_spent'),
    ADD COLUMN product String MATERIALIZED visitParamExtractString(payload, 'product'),
    ADD COLUMN amount_usd Float64 MATERIALIZED visitParamExtractFloat(payload, 'amount_usd'),
    ADD COLUMN coins UInt32 MATERIALIZED visitParamExtractUInt(payload, 'coins'),
    ADD COLUMN placement String MATERIALIZED visitParamExtractString(payload, 'placement'),
    ADD COLUMN revenue_usd Float64 MATERIALIZED visitParamExtractFloat(payload, 'revenue_usd'),
    ADD COLUMN stars UInt8 MATERIALIZED toUInt8(visitParamExtractUInt(payload, 'stars')),
    ADD COLUMN gender String MATERIALIZED visitParamExtractString(payload, 'gender'),
    ADD COLUMN age_band String MATERIALIZED visitParamExtractString(payload, 'age_band'),
    ADD COLUMN country String MATERIALIZED visitParamExtractString(payload, 'country');
