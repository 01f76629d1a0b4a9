-- Privacy: one row per `python -m warehouse forget-user` (warehouse/forget.py). The user's id is not
-- kept: only its SHA-256, so a request can be found again by whoever still knows the id, and the
-- rows each table lost.
CREATE TABLE IF NOT EXISTS forget_requests (
    requested_at DateTime,
    user_hash String,
    rows_affected UInt64,
    tables String,
    rebuilt_days String
) ENGINE = MergeTree()
ORDER BY requested_at;
