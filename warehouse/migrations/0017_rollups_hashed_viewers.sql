-- The distinct-viewer states of the title and segment rollups, on 8-byte hashes (issue 21;
-- warehouse/README.md, "Storage"). uniqExact of a String keeps a 16-byte hash of each user id
-- (sipHash128); these rollups now keep uniqExact states of its first 8 bytes,
-- reinterpretAsUInt64(sipHash128(user_id)): half the bytes, as 0016 did for the rollups fed by events_raw.
-- A collision between two users of one window (under 1e-7 at 2M users) would count them once.
--
-- The states already stored are converted, not recomputed: the minute-level parts they were folded
-- from keep only 7 days. A String state, read as a String (CAST), is its number of hashes (varint)
-- and then the hashes, 16 bytes each; the first 8 bytes of each become the UInt64 the new views
-- fold, so an old state and a new one of the same user merge into one (tests/warehouse/test_storage.py).
--
-- Each rollup: its view dropped, the table copied with the viewers converted, swapped, the view
-- re-created on the hash. The title_metrics_* views read the rollups by name and need no change.
-- Run with the workers stopped (`make up` migrates before it starts them).

-- title_metrics_1m_rollup
DROP TABLE IF EXISTS title_metrics_1m_rollup_mv;
CREATE TABLE IF NOT EXISTS title_metrics_1m_rollup_hashed (
    window_start DateTime,
    title_id String,
    parts_rows AggregateFunction(count),
    teaser_impressions AggregateFunction(sum, UInt64),
    teaser_views AggregateFunction(sum, UInt64),
    hook_views AggregateFunction(sum, UInt64),
    teaser_clicks AggregateFunction(sum, UInt64),
    installs AggregateFunction(sum, UInt64),
    ad_spend_usd AggregateFunction(sum, Float64),
    episode_starts AggregateFunction(sum, UInt64),
    episode_completes AggregateFunction(sum, UInt64),
    episode_exits AggregateFunction(sum, UInt64),
    watch_seconds AggregateFunction(sum, Float64),
    startup_ms_sum AggregateFunction(sum, UInt64),
    rebuffer_ms_sum AggregateFunction(sum, UInt64),
    paywalls_shown AggregateFunction(sum, UInt64),
    unlocks_coins AggregateFunction(sum, UInt64),
    unlocks_subscription AggregateFunction(sum, UInt64),
    unlocks_rewarded_ad AggregateFunction(sum, UInt64),
    coins_spent AggregateFunction(sum, UInt64),
    purchases AggregateFunction(sum, UInt64),
    iap_revenue_usd AggregateFunction(sum, Float64),
    ad_impressions AggregateFunction(sum, UInt64),
    ad_clicks AggregateFunction(sum, UInt64),
    ad_revenue_usd AggregateFunction(sum, Float64),
    likes AggregateFunction(sum, UInt64),
    shares AggregateFunction(sum, UInt64),
    comments AggregateFunction(sum, UInt64),
    ratings AggregateFunction(sum, UInt64),
    rating_stars_sum AggregateFunction(sum, UInt64),
    unique_viewers AggregateFunction(uniqExactIf, UInt64, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id);
INSERT INTO title_metrics_1m_rollup_hashed
SELECT window_start, title_id, parts_rows, teaser_impressions, teaser_views, hook_views, teaser_clicks, installs, ad_spend_usd, episode_starts, episode_completes, episode_exits, watch_seconds, startup_ms_sum, rebuffer_ms_sum, paywalls_shown, unlocks_coins, unlocks_subscription, unlocks_rewarded_ad, coins_spent, purchases, iap_revenue_usd, ad_impressions, ad_clicks, ad_revenue_usd, likes, shares, comments, ratings, rating_stars_sum,
    arrayReduce('uniqExactIfState',
        arrayMap((i, s, o) -> reinterpretAsUInt64(substring(s, o + 16 * i, 8)), range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16))),
                 replicate(CAST(unique_viewers AS String), range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16)))),
                 replicate(length(CAST(unique_viewers AS String)) - 16 * intDiv(length(CAST(unique_viewers AS String)) - 1, 16) + 1,
                           range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16))))),
        arrayMap(i -> toUInt8(1), range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16))))) AS unique_viewers_hashed
FROM title_metrics_1m_rollup;
RENAME TABLE title_metrics_1m_rollup TO title_metrics_1m_rollup_strings, title_metrics_1m_rollup_hashed TO title_metrics_1m_rollup;
DROP TABLE title_metrics_1m_rollup_strings;
CREATE MATERIALIZED VIEW IF NOT EXISTS title_metrics_1m_rollup_mv TO title_metrics_1m_rollup AS
SELECT window_start, title_id,
    countState() AS parts_rows,
    sumState(teaser_impressions) AS teaser_impressions,
    sumState(teaser_views) AS teaser_views,
    sumState(hook_views) AS hook_views,
    sumState(teaser_clicks) AS teaser_clicks,
    sumState(installs) AS installs,
    sumState(ad_spend_usd) AS ad_spend_usd,
    sumState(episode_starts) AS episode_starts,
    sumState(episode_completes) AS episode_completes,
    sumState(episode_exits) AS episode_exits,
    sumState(watch_seconds) AS watch_seconds,
    sumState(startup_ms_sum) AS startup_ms_sum,
    sumState(rebuffer_ms_sum) AS rebuffer_ms_sum,
    sumState(paywalls_shown) AS paywalls_shown,
    sumState(unlocks_coins) AS unlocks_coins,
    sumState(unlocks_subscription) AS unlocks_subscription,
    sumState(unlocks_rewarded_ad) AS unlocks_rewarded_ad,
    sumState(coins_spent) AS coins_spent,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_impressions) AS ad_impressions,
    sumState(ad_clicks) AS ad_clicks,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    sumState(likes) AS likes,
    sumState(shares) AS shares,
    sumState(comments) AS comments,
    sumState(ratings) AS ratings,
    sumState(rating_stars_sum) AS rating_stars_sum,
    uniqExactIfState(reinterpretAsUInt64(sipHash128(user_id)), user_id != '') AS unique_viewers
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;

-- title_metrics_1h_rollup
DROP TABLE IF EXISTS title_metrics_1h_rollup_mv;
CREATE TABLE IF NOT EXISTS title_metrics_1h_rollup_hashed (
    window_start DateTime,
    title_id String,
    parts_rows AggregateFunction(count),
    teaser_impressions AggregateFunction(sum, UInt64),
    teaser_views AggregateFunction(sum, UInt64),
    hook_views AggregateFunction(sum, UInt64),
    teaser_clicks AggregateFunction(sum, UInt64),
    installs AggregateFunction(sum, UInt64),
    ad_spend_usd AggregateFunction(sum, Float64),
    episode_starts AggregateFunction(sum, UInt64),
    episode_completes AggregateFunction(sum, UInt64),
    episode_exits AggregateFunction(sum, UInt64),
    watch_seconds AggregateFunction(sum, Float64),
    startup_ms_sum AggregateFunction(sum, UInt64),
    rebuffer_ms_sum AggregateFunction(sum, UInt64),
    paywalls_shown AggregateFunction(sum, UInt64),
    unlocks_coins AggregateFunction(sum, UInt64),
    unlocks_subscription AggregateFunction(sum, UInt64),
    unlocks_rewarded_ad AggregateFunction(sum, UInt64),
    coins_spent AggregateFunction(sum, UInt64),
    purchases AggregateFunction(sum, UInt64),
    iap_revenue_usd AggregateFunction(sum, Float64),
    ad_impressions AggregateFunction(sum, UInt64),
    ad_clicks AggregateFunction(sum, UInt64),
    ad_revenue_usd AggregateFunction(sum, Float64),
    likes AggregateFunction(sum, UInt64),
    shares AggregateFunction(sum, UInt64),
    comments AggregateFunction(sum, UInt64),
    ratings AggregateFunction(sum, UInt64),
    rating_stars_sum AggregateFunction(sum, UInt64),
    unique_viewers AggregateFunction(uniqExactIf, UInt64, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id);
INSERT INTO title_metrics_1h_rollup_hashed
SELECT window_start, title_id, parts_rows, teaser_impressions, teaser_views, hook_views, teaser_clicks, installs, ad_spend_usd, episode_starts, episode_completes, episode_exits, watch_seconds, startup_ms_sum, rebuffer_ms_sum, paywalls_shown, unlocks_coins, unlocks_subscription, unlocks_rewarded_ad, coins_spent, purchases, iap_revenue_usd, ad_impressions, ad_clicks, ad_revenue_usd, likes, shares, comments, ratings, rating_stars_sum,
    arrayReduce('uniqExactIfState',
        arrayMap((i, s, o) -> reinterpretAsUInt64(substring(s, o + 16 * i, 8)), range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16))),
                 replicate(CAST(unique_viewers AS String), range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16)))),
                 replicate(length(CAST(unique_viewers AS String)) - 16 * intDiv(length(CAST(unique_viewers AS String)) - 1, 16) + 1,
                           range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16))))),
        arrayMap(i -> toUInt8(1), range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16))))) AS unique_viewers_hashed
FROM title_metrics_1h_rollup;
RENAME TABLE title_metrics_1h_rollup TO title_metrics_1h_rollup_strings, title_metrics_1h_rollup_hashed TO title_metrics_1h_rollup;
DROP TABLE title_metrics_1h_rollup_strings;
CREATE MATERIALIZED VIEW IF NOT EXISTS title_metrics_1h_rollup_mv TO title_metrics_1h_rollup AS
SELECT toStartOfHour(window_start) AS window_start, title_id,
    countState() AS parts_rows,
    sumState(teaser_impressions) AS teaser_impressions,
    sumState(teaser_views) AS teaser_views,
    sumState(hook_views) AS hook_views,
    sumState(teaser_clicks) AS teaser_clicks,
    sumState(installs) AS installs,
    sumState(ad_spend_usd) AS ad_spend_usd,
    sumState(episode_starts) AS episode_starts,
    sumState(episode_completes) AS episode_completes,
    sumState(episode_exits) AS episode_exits,
    sumState(watch_seconds) AS watch_seconds,
    sumState(startup_ms_sum) AS startup_ms_sum,
    sumState(rebuffer_ms_sum) AS rebuffer_ms_sum,
    sumState(paywalls_shown) AS paywalls_shown,
    sumState(unlocks_coins) AS unlocks_coins,
    sumState(unlocks_subscription) AS unlocks_subscription,
    sumState(unlocks_rewarded_ad) AS unlocks_rewarded_ad,
    sumState(coins_spent) AS coins_spent,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_impressions) AS ad_impressions,
    sumState(ad_clicks) AS ad_clicks,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    sumState(likes) AS likes,
    sumState(shares) AS shares,
    sumState(comments) AS comments,
    sumState(ratings) AS ratings,
    sumState(rating_stars_sum) AS rating_stars_sum,
    uniqExactIfState(reinterpretAsUInt64(sipHash128(user_id)), user_id != '') AS unique_viewers
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;

-- title_metrics_1d_rollup
DROP TABLE IF EXISTS title_metrics_1d_rollup_mv;
CREATE TABLE IF NOT EXISTS title_metrics_1d_rollup_hashed (
    window_start DateTime,
    title_id String,
    parts_rows AggregateFunction(count),
    teaser_impressions AggregateFunction(sum, UInt64),
    teaser_views AggregateFunction(sum, UInt64),
    hook_views AggregateFunction(sum, UInt64),
    teaser_clicks AggregateFunction(sum, UInt64),
    installs AggregateFunction(sum, UInt64),
    ad_spend_usd AggregateFunction(sum, Float64),
    episode_starts AggregateFunction(sum, UInt64),
    episode_completes AggregateFunction(sum, UInt64),
    episode_exits AggregateFunction(sum, UInt64),
    watch_seconds AggregateFunction(sum, Float64),
    startup_ms_sum AggregateFunction(sum, UInt64),
    rebuffer_ms_sum AggregateFunction(sum, UInt64),
    paywalls_shown AggregateFunction(sum, UInt64),
    unlocks_coins AggregateFunction(sum, UInt64),
    unlocks_subscription AggregateFunction(sum, UInt64),
    unlocks_rewarded_ad AggregateFunction(sum, UInt64),
    coins_spent AggregateFunction(sum, UInt64),
    purchases AggregateFunction(sum, UInt64),
    iap_revenue_usd AggregateFunction(sum, Float64),
    ad_impressions AggregateFunction(sum, UInt64),
    ad_clicks AggregateFunction(sum, UInt64),
    ad_revenue_usd AggregateFunction(sum, Float64),
    likes AggregateFunction(sum, UInt64),
    shares AggregateFunction(sum, UInt64),
    comments AggregateFunction(sum, UInt64),
    ratings AggregateFunction(sum, UInt64),
    rating_stars_sum AggregateFunction(sum, UInt64),
    unique_viewers AggregateFunction(uniqExactIf, UInt64, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id);
INSERT INTO title_metrics_1d_rollup_hashed
SELECT window_start, title_id, parts_rows, teaser_impressions, teaser_views, hook_views, teaser_clicks, installs, ad_spend_usd, episode_starts, episode_completes, episode_exits, watch_seconds, startup_ms_sum, rebuffer_ms_sum, paywalls_shown, unlocks_coins, unlocks_subscription, unlocks_rewarded_ad, coins_spent, purchases, iap_revenue_usd, ad_impressions, ad_clicks, ad_revenue_usd, likes, shares, comments, ratings, rating_stars_sum,
    arrayReduce('uniqExactIfState',
        arrayMap((i, s, o) -> reinterpretAsUInt64(substring(s, o + 16 * i, 8)), range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16))),
                 replicate(CAST(unique_viewers AS String), range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16)))),
                 replicate(length(CAST(unique_viewers AS String)) - 16 * intDiv(length(CAST(unique_viewers AS String)) - 1, 16) + 1,
                           range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16))))),
        arrayMap(i -> toUInt8(1), range(toUInt32(intDiv(length(CAST(unique_viewers AS String)) - 1, 16))))) AS unique_viewers_hashed
FROM title_metrics_1d_rollup;
RENAME TABLE title_metrics_1d_rollup TO title_metrics_1d_rollup_strings, title_metrics_1d_rollup_hashed TO title_metrics_1d_rollup;
DROP TABLE title_metrics_1d_rollup_strings;
CREATE MATERIALIZED VIEW IF NOT EXISTS title_metrics_1d_rollup_mv TO title_metrics_1d_rollup AS
SELECT toStartOfDay(window_start) AS window_start, title_id,
    countState() AS parts_rows,
    sumState(teaser_impressions) AS teaser_impressions,
    sumState(teaser_views) AS teaser_views,
    sumState(hook_views) AS hook_views,
    sumState(teaser_clicks) AS teaser_clicks,
    sumState(installs) AS installs,
    sumState(ad_spend_usd) AS ad_spend_usd,
    sumState(episode_starts) AS episode_starts,
    sumState(episode_completes) AS episode_completes,
    sumState(episode_exits) AS episode_exits,
    sumState(watch_seconds) AS watch_seconds,
    sumState(startup_ms_sum) AS startup_ms_sum,
    sumState(rebuffer_ms_sum) AS rebuffer_ms_sum,
    sumState(paywalls_shown) AS paywalls_shown,
    sumState(unlocks_coins) AS unlocks_coins,
    sumState(unlocks_subscription) AS unlocks_subscription,
    sumState(unlocks_rewarded_ad) AS unlocks_rewarded_ad,
    sumState(coins_spent) AS coins_spent,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_impressions) AS ad_impressions,
    sumState(ad_clicks) AS ad_clicks,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    sumState(likes) AS likes,
    sumState(shares) AS shares,
    sumState(comments) AS comments,
    sumState(ratings) AS ratings,
    sumState(rating_stars_sum) AS rating_stars_sum,
    uniqExactIfState(reinterpretAsUInt64(sipHash128(user_id)), user_id != '') AS unique_viewers
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;

-- segment_metrics_1m_rollup
DROP TABLE IF EXISTS segment_metrics_1m_rollup_mv;
CREATE TABLE IF NOT EXISTS segment_metrics_1m_rollup_hashed (
    window_start DateTime,
    gender String,
    age_band String,
    country String,
    parts_rows AggregateFunction(count),
    purchases AggregateFunction(sum, UInt64),
    iap_revenue_usd AggregateFunction(sum, Float64),
    ad_revenue_usd AggregateFunction(sum, Float64),
    viewers AggregateFunction(uniqExactIf, UInt64, UInt8),
    payers AggregateFunction(uniqExactIf, UInt64, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, gender, age_band, country);
INSERT INTO segment_metrics_1m_rollup_hashed
SELECT window_start, gender, age_band, country, parts_rows, purchases, iap_revenue_usd, ad_revenue_usd,
    arrayReduce('uniqExactIfState',
        arrayMap((i, s, o) -> reinterpretAsUInt64(substring(s, o + 16 * i, 8)), range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16))),
                 replicate(CAST(viewers AS String), range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16)))),
                 replicate(length(CAST(viewers AS String)) - 16 * intDiv(length(CAST(viewers AS String)) - 1, 16) + 1,
                           range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16))))),
        arrayMap(i -> toUInt8(1), range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16))))) AS viewers_hashed,
    arrayReduce('uniqExactIfState',
        arrayMap((i, s, o) -> reinterpretAsUInt64(substring(s, o + 16 * i, 8)), range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16))),
                 replicate(CAST(payers AS String), range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16)))),
                 replicate(length(CAST(payers AS String)) - 16 * intDiv(length(CAST(payers AS String)) - 1, 16) + 1,
                           range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16))))),
        arrayMap(i -> toUInt8(1), range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16))))) AS payers_hashed
FROM segment_metrics_1m_rollup;
RENAME TABLE segment_metrics_1m_rollup TO segment_metrics_1m_rollup_strings, segment_metrics_1m_rollup_hashed TO segment_metrics_1m_rollup;
DROP TABLE segment_metrics_1m_rollup_strings;
CREATE MATERIALIZED VIEW IF NOT EXISTS segment_metrics_1m_rollup_mv TO segment_metrics_1m_rollup AS
SELECT window_start, gender, age_band, country,
    countState() AS parts_rows,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    uniqExactIfState(reinterpretAsUInt64(sipHash128(user_id)), viewer = 1) AS viewers,
    uniqExactIfState(reinterpretAsUInt64(sipHash128(user_id)), payer = 1) AS payers
FROM segment_metrics_1m_parts
GROUP BY window_start, gender, age_band, country;

-- segment_metrics_1h_rollup
DROP TABLE IF EXISTS segment_metrics_1h_rollup_mv;
CREATE TABLE IF NOT EXISTS segment_metrics_1h_rollup_hashed (
    window_start DateTime,
    gender String,
    age_band String,
    country String,
    parts_rows AggregateFunction(count),
    purchases AggregateFunction(sum, UInt64),
    iap_revenue_usd AggregateFunction(sum, Float64),
    ad_revenue_usd AggregateFunction(sum, Float64),
    viewers AggregateFunction(uniqExactIf, UInt64, UInt8),
    payers AggregateFunction(uniqExactIf, UInt64, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, gender, age_band, country);
INSERT INTO segment_metrics_1h_rollup_hashed
SELECT window_start, gender, age_band, country, parts_rows, purchases, iap_revenue_usd, ad_revenue_usd,
    arrayReduce('uniqExactIfState',
        arrayMap((i, s, o) -> reinterpretAsUInt64(substring(s, o + 16 * i, 8)), range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16))),
                 replicate(CAST(viewers AS String), range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16)))),
                 replicate(length(CAST(viewers AS String)) - 16 * intDiv(length(CAST(viewers AS String)) - 1, 16) + 1,
                           range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16))))),
        arrayMap(i -> toUInt8(1), range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16))))) AS viewers_hashed,
    arrayReduce('uniqExactIfState',
        arrayMap((i, s, o) -> reinterpretAsUInt64(substring(s, o + 16 * i, 8)), range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16))),
                 replicate(CAST(payers AS String), range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16)))),
                 replicate(length(CAST(payers AS String)) - 16 * intDiv(length(CAST(payers AS String)) - 1, 16) + 1,
                           range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16))))),
        arrayMap(i -> toUInt8(1), range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16))))) AS payers_hashed
FROM segment_metrics_1h_rollup;
RENAME TABLE segment_metrics_1h_rollup TO segment_metrics_1h_rollup_strings, segment_metrics_1h_rollup_hashed TO segment_metrics_1h_rollup;
DROP TABLE segment_metrics_1h_rollup_strings;
CREATE MATERIALIZED VIEW IF NOT EXISTS segment_metrics_1h_rollup_mv TO segment_metrics_1h_rollup AS
SELECT toStartOfHour(window_start) AS window_start, gender, age_band, country,
    countState() AS parts_rows,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    uniqExactIfState(reinterpretAsUInt64(sipHash128(user_id)), viewer = 1) AS viewers,
    uniqExactIfState(reinterpretAsUInt64(sipHash128(user_id)), payer = 1) AS payers
FROM segment_metrics_1m_parts
GROUP BY window_start, gender, age_band, country;

-- segment_metrics_1d_rollup
DROP TABLE IF EXISTS segment_metrics_1d_rollup_mv;
CREATE TABLE IF NOT EXISTS segment_metrics_1d_rollup_hashed (
    window_start DateTime,
    gender String,
    age_band String,
    country String,
    parts_rows AggregateFunction(count),
    purchases AggregateFunction(sum, UInt64),
    iap_revenue_usd AggregateFunction(sum, Float64),
    ad_revenue_usd AggregateFunction(sum, Float64),
    viewers AggregateFunction(uniqExactIf, UInt64, UInt8),
    payers AggregateFunction(uniqExactIf, UInt64, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, gender, age_band, country);
INSERT INTO segment_metrics_1d_rollup_hashed
SELECT window_start, gender, age_band, country, parts_rows, purchases, iap_revenue_usd, ad_revenue_usd,
    arrayReduce('uniqExactIfState',
        arrayMap((i, s, o) -> reinterpretAsUInt64(substring(s, o + 16 * i, 8)), range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16))),
                 replicate(CAST(viewers AS String), range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16)))),
                 replicate(length(CAST(viewers AS String)) - 16 * intDiv(length(CAST(viewers AS String)) - 1, 16) + 1,
                           range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16))))),
        arrayMap(i -> toUInt8(1), range(toUInt32(intDiv(length(CAST(viewers AS String)) - 1, 16))))) AS viewers_hashed,
    arrayReduce('uniqExactIfState',
        arrayMap((i, s, o) -> reinterpretAsUInt64(substring(s, o + 16 * i, 8)), range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16))),
                 replicate(CAST(payers AS String), range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16)))),
                 replicate(length(CAST(payers AS String)) - 16 * intDiv(length(CAST(payers AS String)) - 1, 16) + 1,
                           range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16))))),
        arrayMap(i -> toUInt8(1), range(toUInt32(intDiv(length(CAST(payers AS String)) - 1, 16))))) AS payers_hashed
FROM segment_metrics_1d_rollup;
RENAME TABLE segment_metrics_1d_rollup TO segment_metrics_1d_rollup_strings, segment_metrics_1d_rollup_hashed TO segment_metrics_1d_rollup;
DROP TABLE segment_metrics_1d_rollup_strings;
CREATE MATERIALIZED VIEW IF NOT EXISTS segment_metrics_1d_rollup_mv TO segment_metrics_1d_rollup AS
SELECT toStartOfDay(window_start) AS window_start, gender, age_band, country,
    countState() AS parts_rows,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    uniqExactIfState(reinterpretAsUInt64(sipHash128(user_id)), viewer = 1) AS viewers,
    uniqExactIfState(reinterpretAsUInt64(sipHash128(user_id)), payer = 1) AS payers
FROM segment_metrics_1m_parts
GROUP BY window_start, gender, age_band, country;
