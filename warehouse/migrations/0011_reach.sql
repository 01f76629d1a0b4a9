-- Reach (issue 8): exact distinct counts of closed days and of the 7- and 30-day windows that end
-- with them, finalized once by `python -m warehouse.maintain` (warehouse/reach.py), so that a
-- dashboard reads one number per key instead of merging 30 days of uniqExact states (about 3 s
-- at 100M events for the titles, 10 s for MAU).
--
--   <metric>_1d_rollup ──maintain, per closed day and window──► <name>_reach (as_of, days, keys, values)
--
-- A reach row stores `source_rows`: the rollup's countMerge(parts_rows) over its window when it
-- was computed. A late event or a repair changes that count, so a stale row can be told from a
-- current one in SQL. The views below use a reach row only while its window still counts the
-- same rows (else the rollup's own states for that day, or the newest window that is still
-- current), so they are exact at every moment. Maintain recomputes stale rows on its next pass.

-- title_reach: the distinct viewers of each title, with its starts, completes and revenue, over the `days` closed days that end with `as_of`.
CREATE TABLE IF NOT EXISTS title_reach (
    as_of Date,
    days UInt16,
    title_id String,
    viewers UInt64,
    starts UInt64,
    completes UInt64,
    revenue_usd Float64,
    source_rows UInt64,
    computed_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY (toYYYYMMDD(as_of), days)
ORDER BY (title_id);

-- title_reach_latest: for each window length, the newest window whose reach is still current (its
-- stored source rows equal the rollup's now, summed per day over the window).
CREATE VIEW IF NOT EXISTS title_reach_latest AS
SELECT as_of, days, title_id, viewers, starts, completes, revenue_usd
FROM title_reach
WHERE (as_of, days) IN
(
    SELECT max(as_of), days
    FROM
    (
        SELECT as_of, days, sum(source_rows) AS window_rows FROM title_reach GROUP BY as_of, days
    ) AS stored
    ANY INNER JOIN
    (
        SELECT as_of, days, sum(day_rows) AS window_rows
        FROM
        (
            SELECT toDate(window_start) AS day, countMerge(parts_rows) AS day_rows
            FROM title_metrics_1d_rollup AS rollup
            GROUP BY day
        ) AS daily
        CROSS JOIN (SELECT DISTINCT as_of, days FROM title_reach) AS windows
        WHERE day > as_of - days AND day <= as_of
        GROUP BY as_of, days
    ) AS current USING as_of, days, window_rows
    GROUP BY days
);

-- segment_reach: the distinct viewers and payers of each segment, over the `days` closed days that end with `as_of`.
CREATE TABLE IF NOT EXISTS segment_reach (
    as_of Date,
    days UInt16,
    gender String,
    age_band String,
    country String,
    viewers UInt64,
    payers UInt64,
    source_rows UInt64,
    computed_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY (toYYYYMMDD(as_of), days)
ORDER BY (gender, age_band, country);

-- segment_reach_latest: for each window length, the newest window whose reach is still current (its
-- stored source rows equal the rollup's now, summed per day over the window).
CREATE VIEW IF NOT EXISTS segment_reach_latest AS
SELECT as_of, days, gender, age_band, country, viewers, payers
FROM segment_reach
WHERE (as_of, days) IN
(
    SELECT max(as_of), days
    FROM
    (
        SELECT as_of, days, sum(source_rows) AS window_rows FROM segment_reach GROUP BY as_of, days
    ) AS stored
    ANY INNER JOIN
    (
        SELECT as_of, days, sum(day_rows) AS window_rows
        FROM
        (
            SELECT toDate(window_start) AS day, countMerge(parts_rows) AS day_rows
            FROM segment_metrics_1d_rollup AS rollup
            GROUP BY day
        ) AS daily
        CROSS JOIN (SELECT DISTINCT as_of, days FROM segment_reach) AS windows
        WHERE day > as_of - days AND day <= as_of
        GROUP BY as_of, days
    ) AS current USING as_of, days, window_rows
    GROUP BY days
);

-- viewer_reach: the distinct viewers and payers of the app(s), all segments, over the `days` closed days that end with `as_of`.
CREATE TABLE IF NOT EXISTS viewer_reach (
    as_of Date,
    days UInt16,
    viewers UInt64,
    payers UInt64,
    source_rows UInt64,
    computed_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY (toYYYYMMDD(as_of), days)
ORDER BY tuple();

-- viewer_reach_latest: for each window length, the newest window whose reach is still current (its
-- stored source rows equal the rollup's now, summed per day over the window).
CREATE VIEW IF NOT EXISTS viewer_reach_latest AS
SELECT as_of, days, viewers, payers
FROM viewer_reach
WHERE (as_of, days) IN
(
    SELECT max(as_of), days
    FROM
    (
        SELECT as_of, days, sum(source_rows) AS window_rows FROM viewer_reach GROUP BY as_of, days
    ) AS stored
    ANY INNER JOIN
    (
        SELECT as_of, days, sum(day_rows) AS window_rows
        FROM
        (
            SELECT toDate(window_start) AS day, countMerge(parts_rows) AS day_rows
            FROM segment_metrics_1d_rollup AS rollup
            GROUP BY day
        ) AS daily
        CROSS JOIN (SELECT DISTINCT as_of, days FROM viewer_reach) AS windows
        WHERE day > as_of - days AND day <= as_of
        GROUP BY as_of, days
    ) AS current USING as_of, days, window_rows
    GROUP BY days
);

-- app_reach: the distinct active users of each app (DAU, WAU, MAU), over the `days` closed days that end with `as_of`.
CREATE TABLE IF NOT EXISTS app_reach (
    as_of Date,
    days UInt16,
    app_id String,
    users UInt64,
    source_rows UInt64,
    computed_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY (toYYYYMMDD(as_of), days)
ORDER BY (app_id);

-- app_reach_latest: for each window length, the newest window whose reach is still current (its
-- stored source rows equal the rollup's now, summed per day over the window).
CREATE VIEW IF NOT EXISTS app_reach_latest AS
SELECT as_of, days, app_id, users
FROM app_reach
WHERE (as_of, days) IN
(
    SELECT max(as_of), days
    FROM
    (
        SELECT as_of, days, sum(source_rows) AS window_rows FROM app_reach GROUP BY as_of, days
    ) AS stored
    ANY INNER JOIN
    (
        SELECT as_of, days, sum(day_rows) AS window_rows
        FROM
        (
            SELECT toDate(window_start) AS day, countMerge(parts_rows) AS day_rows
            FROM active_users_1d_rollup AS rollup
            GROUP BY day
        ) AS daily
        CROSS JOIN (SELECT DISTINCT as_of, days FROM app_reach) AS windows
        WHERE day > as_of - days AND day <= as_of
        GROUP BY as_of, days
    ) AS current USING as_of, days, window_rows
    GROUP BY days
);

-- adaptation_reach: the distinct viewers and payers of each adaptation (native, localized, western), over the `days` closed days that end with `as_of`.
CREATE TABLE IF NOT EXISTS adaptation_reach (
    as_of Date,
    days UInt16,
    adaptation String,
    viewers UInt64,
    payers UInt64,
    source_rows UInt64,
    computed_at DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY (toYYYYMMDD(as_of), days)
ORDER BY (adaptation);

-- adaptation_reach_latest: for each window length, the newest window whose reach is still current (its
-- stored source rows equal the rollup's now, summed per day over the window).
CREATE VIEW IF NOT EXISTS adaptation_reach_latest AS
SELECT as_of, days, adaptation, viewers, payers
FROM adaptation_reach
WHERE (as_of, days) IN
(
    SELECT max(as_of), days
    FROM
    (
        SELECT as_of, days, sum(source_rows) AS window_rows FROM adaptation_reach GROUP BY as_of, days
    ) AS stored
    ANY INNER JOIN
    (
        SELECT as_of, days, sum(day_rows) AS window_rows
        FROM
        (
            SELECT toDate(window_start) AS day, countMerge(parts_rows) AS day_rows
            FROM (SELECT window_start, parts_rows, viewers, payers, adaptation FROM title_users_1d_rollup ANY INNER JOIN (SELECT title_id, adaptation FROM titles) AS title_adaptation USING title_id) AS rollup
            GROUP BY day
        ) AS daily
        CROSS JOIN (SELECT DISTINCT as_of, days FROM adaptation_reach) AS windows
        WHERE day > as_of - days AND day <= as_of
        GROUP BY as_of, days
    ) AS current USING as_of, days, window_rows
    GROUP BY days
);

-- The daily views read a closed day's reach while it is current, the rollup's states otherwise
-- (today, or a day a late event or a repair changed since its reach was computed).
DROP TABLE IF EXISTS kpis_1d;
CREATE VIEW IF NOT EXISTS kpis_1d AS
SELECT
    day, viewers, payers, iap_usd, ad_usd,
    payers / nullIf(viewers, 0) AS payer_rate,
    iap_usd / nullIf(payers, 0) AS arppu_usd
FROM
(
    SELECT toDate(window_start) AS day, sumMerge(iap_revenue_usd) AS iap_usd, sumMerge(ad_revenue_usd) AS ad_usd
    FROM segment_metrics_1d_rollup
    GROUP BY day
) AS money
ANY LEFT JOIN
(
    SELECT as_of AS day, viewers, payers
    FROM viewer_reach
    WHERE days = 1 AND (as_of, source_rows) IN
        (SELECT toDate(window_start), countMerge(parts_rows) FROM segment_metrics_1d_rollup GROUP BY window_start)
    UNION ALL
    SELECT toDate(window_start) AS day, uniqExactIfMerge(viewers) AS viewers, uniqExactIfMerge(payers) AS payers
    FROM segment_metrics_1d_rollup
    PREWHERE toDate(window_start) NOT IN
    (
        SELECT as_of FROM viewer_reach
        WHERE days = 1 AND (as_of, source_rows) IN
            (SELECT toDate(window_start), countMerge(parts_rows) FROM segment_metrics_1d_rollup GROUP BY window_start)
    )
    GROUP BY day
) AS reach USING day;

DROP TABLE IF EXISTS active_users_1d;
CREATE VIEW IF NOT EXISTS active_users_1d AS
SELECT toDateTime(as_of) AS window_start, app_id, users
FROM app_reach
WHERE days = 1 AND (as_of, app_id, source_rows) IN
    (SELECT toDate(window_start), app_id, countMerge(parts_rows) FROM active_users_1d_rollup GROUP BY window_start, app_id)
UNION ALL
SELECT window_start, app_id, uniqExactIfMerge(users) AS users
FROM active_users_1d_rollup
PREWHERE (toDate(window_start), app_id) NOT IN
(
    SELECT as_of, app_id FROM app_reach
    WHERE days = 1 AND (as_of, app_id, source_rows) IN
        (SELECT toDate(window_start), app_id, countMerge(parts_rows) FROM active_users_1d_rollup
         GROUP BY window_start, app_id)
)
GROUP BY window_start, app_id;

-- Views behind the long-range dashboard screens (warehouse/queries/titles_30d.sql and
-- adaptation_30d.sql read them): Superset's SQL parser does not read 18.16's ANY JOIN, so a chart
-- reads a view by name instead of a virtual dataset holding the join.
CREATE VIEW IF NOT EXISTS titles_30d AS
SELECT title_id, if(title_name = '', title_id, title_name) AS title_name, as_of, viewers, starts, revenue_usd
FROM (SELECT title_id, as_of, viewers, starts, revenue_usd FROM title_reach_latest WHERE days = 30) AS reach
ANY LEFT JOIN (SELECT title_id, title_name FROM titles) AS names USING title_id;

CREATE VIEW IF NOT EXISTS adaptation_30d AS
SELECT adaptation, as_of, completion_rate, payer_rate
FROM
(
    SELECT adaptation, as_of, payers / nullIf(viewers, 0) AS payer_rate
    FROM adaptation_reach_latest
    WHERE days = 30
) AS reach
ANY LEFT JOIN
(
    SELECT adaptation, sum(completes) / nullIf(sum(starts), 0) AS completion_rate
    FROM (SELECT title_id, completes, starts FROM title_reach_latest WHERE days = 30) AS per_title
    ANY INNER JOIN (SELECT title_id, adaptation FROM titles) AS title_adaptation USING title_id
    GROUP BY adaptation
) AS completion USING adaptation;
