-- Rollups (issue 8): every metric at minute, hour and day grain, exact and mergeable, so a
-- dashboard reads at most one row per key and grain instead of re-aggregating every part.
--
--   *_parts ──MV (same INSERT)──► <metric>_{1m,1h,1d}_rollup  (AggregatingMergeTree: sumState,
--                                   uniqExactState, and parts_rows = countState of the source rows)
--   events_raw ──MV──► title_users_1d_rollup, active_users_1d_rollup
--
-- The views keep their metrics-v1 names and answers and read the rollups with -Merge. Distinct
-- counts are uniqExact states, merged across any range, never sums of per-minute counts.
-- parts_rows lets `python -m warehouse.maintain` find a rollup that missed a block (the server
-- died between the parts block and the view's block) and rebuild that partition from the parts
-- (warehouse/README.md). Every rollup is partitioned by day, the unit of that rebuild.


-- title_metrics -----------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS title_metrics_1m_rollup (
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
    unique_viewers AggregateFunction(uniqExactIf, String, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id);

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
    uniqExactIfState(user_id, user_id != '') AS unique_viewers
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;

INSERT INTO title_metrics_1m_rollup
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
    uniqExactIfState(user_id, user_id != '') AS unique_viewers
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;

CREATE TABLE IF NOT EXISTS title_metrics_1h_rollup (
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
    unique_viewers AggregateFunction(uniqExactIf, String, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id);

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
    uniqExactIfState(user_id, user_id != '') AS unique_viewers
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;

INSERT INTO title_metrics_1h_rollup
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
    uniqExactIfState(user_id, user_id != '') AS unique_viewers
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;

CREATE TABLE IF NOT EXISTS title_metrics_1d_rollup (
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
    unique_viewers AggregateFunction(uniqExactIf, String, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id);

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
    uniqExactIfState(user_id, user_id != '') AS unique_viewers
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;

INSERT INTO title_metrics_1d_rollup
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
    uniqExactIfState(user_id, user_id != '') AS unique_viewers
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;

DROP TABLE IF EXISTS title_metrics_1m;
CREATE VIEW IF NOT EXISTS title_metrics_1m AS
SELECT window_start, title_id,
    sumMerge(teaser_impressions) AS teaser_impressions,
    sumMerge(teaser_views) AS teaser_views,
    sumMerge(hook_views) AS hook_views,
    sumMerge(teaser_clicks) AS teaser_clicks,
    sumMerge(installs) AS installs,
    sumMerge(ad_spend_usd) AS ad_spend_usd,
    sumMerge(episode_starts) AS episode_starts,
    sumMerge(episode_completes) AS episode_completes,
    sumMerge(episode_exits) AS episode_exits,
    sumMerge(watch_seconds) AS watch_seconds,
    sumMerge(startup_ms_sum) AS startup_ms_sum,
    sumMerge(rebuffer_ms_sum) AS rebuffer_ms_sum,
    uniqExactIfMerge(unique_viewers) AS unique_viewers,
    sumMerge(paywalls_shown) AS paywalls_shown,
    sumMerge(unlocks_coins) AS unlocks_coins,
    sumMerge(unlocks_subscription) AS unlocks_subscription,
    sumMerge(unlocks_rewarded_ad) AS unlocks_rewarded_ad,
    sumMerge(coins_spent) AS coins_spent,
    sumMerge(purchases) AS purchases,
    sumMerge(iap_revenue_usd) AS iap_revenue_usd,
    sumMerge(ad_impressions) AS ad_impressions,
    sumMerge(ad_clicks) AS ad_clicks,
    sumMerge(ad_revenue_usd) AS ad_revenue_usd,
    sumMerge(likes) AS likes,
    sumMerge(shares) AS shares,
    sumMerge(comments) AS comments,
    sumMerge(ratings) AS ratings,
    sumMerge(rating_stars_sum) AS rating_stars_sum
FROM title_metrics_1m_rollup
GROUP BY window_start, title_id;

CREATE VIEW IF NOT EXISTS title_metrics_1h AS
SELECT window_start, title_id,
    sumMerge(teaser_impressions) AS teaser_impressions,
    sumMerge(teaser_views) AS teaser_views,
    sumMerge(hook_views) AS hook_views,
    sumMerge(teaser_clicks) AS teaser_clicks,
    sumMerge(installs) AS installs,
    sumMerge(ad_spend_usd) AS ad_spend_usd,
    sumMerge(episode_starts) AS episode_starts,
    sumMerge(episode_completes) AS episode_completes,
    sumMerge(episode_exits) AS episode_exits,
    sumMerge(watch_seconds) AS watch_seconds,
    sumMerge(startup_ms_sum) AS startup_ms_sum,
    sumMerge(rebuffer_ms_sum) AS rebuffer_ms_sum,
    uniqExactIfMerge(unique_viewers) AS unique_viewers,
    sumMerge(paywalls_shown) AS paywalls_shown,
    sumMerge(unlocks_coins) AS unlocks_coins,
    sumMerge(unlocks_subscription) AS unlocks_subscription,
    sumMerge(unlocks_rewarded_ad) AS unlocks_rewarded_ad,
    sumMerge(coins_spent) AS coins_spent,
    sumMerge(purchases) AS purchases,
    sumMerge(iap_revenue_usd) AS iap_revenue_usd,
    sumMerge(ad_impressions) AS ad_impressions,
    sumMerge(ad_clicks) AS ad_clicks,
    sumMerge(ad_revenue_usd) AS ad_revenue_usd,
    sumMerge(likes) AS likes,
    sumMerge(shares) AS shares,
    sumMerge(comments) AS comments,
    sumMerge(ratings) AS ratings,
    sumMerge(rating_stars_sum) AS rating_stars_sum
FROM title_metrics_1h_rollup
GROUP BY window_start, title_id;

CREATE VIEW IF NOT EXISTS title_metrics_1d AS
SELECT window_start, title_id,
    sumMerge(teaser_impressions) AS teaser_impressions,
    sumMerge(teaser_views) AS teaser_views,
    sumMerge(hook_views) AS hook_views,
    sumMerge(teaser_clicks) AS teaser_clicks,
    sumMerge(installs) AS installs,
    sumMerge(ad_spend_usd) AS ad_spend_usd,
    sumMerge(episode_starts) AS episode_starts,
    sumMerge(episode_completes) AS episode_completes,
    sumMerge(episode_exits) AS episode_exits,
    sumMerge(watch_seconds) AS watch_seconds,
    sumMerge(startup_ms_sum) AS startup_ms_sum,
    sumMerge(rebuffer_ms_sum) AS rebuffer_ms_sum,
    uniqExactIfMerge(unique_viewers) AS unique_viewers,
    sumMerge(paywalls_shown) AS paywalls_shown,
    sumMerge(unlocks_coins) AS unlocks_coins,
    sumMerge(unlocks_subscription) AS unlocks_subscription,
    sumMerge(unlocks_rewarded_ad) AS unlocks_rewarded_ad,
    sumMerge(coins_spent) AS coins_spent,
    sumMerge(purchases) AS purchases,
    sumMerge(iap_revenue_usd) AS iap_revenue_usd,
    sumMerge(ad_impressions) AS ad_impressions,
    sumMerge(ad_clicks) AS ad_clicks,
    sumMerge(ad_revenue_usd) AS ad_revenue_usd,
    sumMerge(likes) AS likes,
    sumMerge(shares) AS shares,
    sumMerge(comments) AS comments,
    sumMerge(ratings) AS ratings,
    sumMerge(rating_stars_sum) AS rating_stars_sum
FROM title_metrics_1d_rollup
GROUP BY window_start, title_id;


-- episode_metrics ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS episode_metrics_1m_rollup (
    window_start DateTime,
    title_id String, episode UInt32,
    parts_rows AggregateFunction(count),
    starts AggregateFunction(sum, UInt64),
    completes AggregateFunction(sum, UInt64),
    exits AggregateFunction(sum, UInt64),
    paywalls_shown AggregateFunction(sum, UInt64),
    unlocks AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id, episode);

CREATE MATERIALIZED VIEW IF NOT EXISTS episode_metrics_1m_rollup_mv TO episode_metrics_1m_rollup AS
SELECT window_start, title_id, episode,
    countState() AS parts_rows,
    sumState(starts) AS starts,
    sumState(completes) AS completes,
    sumState(exits) AS exits,
    sumState(paywalls_shown) AS paywalls_shown,
    sumState(unlocks) AS unlocks
FROM episode_metrics_1m_parts
GROUP BY window_start, title_id, episode;

INSERT INTO episode_metrics_1m_rollup
SELECT window_start, title_id, episode,
    countState() AS parts_rows,
    sumState(starts) AS starts,
    sumState(completes) AS completes,
    sumState(exits) AS exits,
    sumState(paywalls_shown) AS paywalls_shown,
    sumState(unlocks) AS unlocks
FROM episode_metrics_1m_parts
GROUP BY window_start, title_id, episode;

CREATE TABLE IF NOT EXISTS episode_metrics_1h_rollup (
    window_start DateTime,
    title_id String, episode UInt32,
    parts_rows AggregateFunction(count),
    starts AggregateFunction(sum, UInt64),
    completes AggregateFunction(sum, UInt64),
    exits AggregateFunction(sum, UInt64),
    paywalls_shown AggregateFunction(sum, UInt64),
    unlocks AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id, episode);

CREATE MATERIALIZED VIEW IF NOT EXISTS episode_metrics_1h_rollup_mv TO episode_metrics_1h_rollup AS
SELECT toStartOfHour(window_start) AS window_start, title_id, episode,
    countState() AS parts_rows,
    sumState(starts) AS starts,
    sumState(completes) AS completes,
    sumState(exits) AS exits,
    sumState(paywalls_shown) AS paywalls_shown,
    sumState(unlocks) AS unlocks
FROM episode_metrics_1m_parts
GROUP BY window_start, title_id, episode;

INSERT INTO episode_metrics_1h_rollup
SELECT toStartOfHour(window_start) AS window_start, title_id, episode,
    countState() AS parts_rows,
    sumState(starts) AS starts,
    sumState(completes) AS completes,
    sumState(exits) AS exits,
    sumState(paywalls_shown) AS paywalls_shown,
    sumState(unlocks) AS unlocks
FROM episode_metrics_1m_parts
GROUP BY window_start, title_id, episode;

CREATE TABLE IF NOT EXISTS episode_metrics_1d_rollup (
    window_start DateTime,
    title_id String, episode UInt32,
    parts_rows AggregateFunction(count),
    starts AggregateFunction(sum, UInt64),
    completes AggregateFunction(sum, UInt64),
    exits AggregateFunction(sum, UInt64),
    paywalls_shown AggregateFunction(sum, UInt64),
    unlocks AggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id, episode);

CREATE MATERIALIZED VIEW IF NOT EXISTS episode_metrics_1d_rollup_mv TO episode_metrics_1d_rollup AS
SELECT toStartOfDay(window_start) AS window_start, title_id, episode,
    countState() AS parts_rows,
    sumState(starts) AS starts,
    sumState(completes) AS completes,
    sumState(exits) AS exits,
    sumState(paywalls_shown) AS paywalls_shown,
    sumState(unlocks) AS unlocks
FROM episode_metrics_1m_parts
GROUP BY window_start, title_id, episode;

INSERT INTO episode_metrics_1d_rollup
SELECT toStartOfDay(window_start) AS window_start, title_id, episode,
    countState() AS parts_rows,
    sumState(starts) AS starts,
    sumState(completes) AS completes,
    sumState(exits) AS exits,
    sumState(paywalls_shown) AS paywalls_shown,
    sumState(unlocks) AS unlocks
FROM episode_metrics_1m_parts
GROUP BY window_start, title_id, episode;

DROP TABLE IF EXISTS episode_metrics_1m;
CREATE VIEW IF NOT EXISTS episode_metrics_1m AS
SELECT window_start, title_id, episode,
    sumMerge(starts) AS starts,
    sumMerge(completes) AS completes,
    sumMerge(exits) AS exits,
    sumMerge(paywalls_shown) AS paywalls_shown,
    sumMerge(unlocks) AS unlocks
FROM episode_metrics_1m_rollup
GROUP BY window_start, title_id, episode;

CREATE VIEW IF NOT EXISTS episode_metrics_1h AS
SELECT window_start, title_id, episode,
    sumMerge(starts) AS starts,
    sumMerge(completes) AS completes,
    sumMerge(exits) AS exits,
    sumMerge(paywalls_shown) AS paywalls_shown,
    sumMerge(unlocks) AS unlocks
FROM episode_metrics_1h_rollup
GROUP BY window_start, title_id, episode;

CREATE VIEW IF NOT EXISTS episode_metrics_1d AS
SELECT window_start, title_id, episode,
    sumMerge(starts) AS starts,
    sumMerge(completes) AS completes,
    sumMerge(exits) AS exits,
    sumMerge(paywalls_shown) AS paywalls_shown,
    sumMerge(unlocks) AS unlocks
FROM episode_metrics_1d_rollup
GROUP BY window_start, title_id, episode;


-- segment_metrics ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS segment_metrics_1m_rollup (
    window_start DateTime,
    gender String, age_band String, country String,
    parts_rows AggregateFunction(count),
    purchases AggregateFunction(sum, UInt64),
    iap_revenue_usd AggregateFunction(sum, Float64),
    ad_revenue_usd AggregateFunction(sum, Float64),
    viewers AggregateFunction(uniqExactIf, String, UInt8),
    payers AggregateFunction(uniqExactIf, String, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, gender, age_band, country);

CREATE MATERIALIZED VIEW IF NOT EXISTS segment_metrics_1m_rollup_mv TO segment_metrics_1m_rollup AS
SELECT window_start, gender, age_band, country,
    countState() AS parts_rows,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    uniqExactIfState(user_id, viewer = 1) AS viewers,
    uniqExactIfState(user_id, payer = 1) AS payers
FROM segment_metrics_1m_parts
GROUP BY window_start, gender, age_band, country;

INSERT INTO segment_metrics_1m_rollup
SELECT window_start, gender, age_band, country,
    countState() AS parts_rows,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    uniqExactIfState(user_id, viewer = 1) AS viewers,
    uniqExactIfState(user_id, payer = 1) AS payers
FROM segment_metrics_1m_parts
GROUP BY window_start, gender, age_band, country;

CREATE TABLE IF NOT EXISTS segment_metrics_1h_rollup (
    window_start DateTime,
    gender String, age_band String, country String,
    parts_rows AggregateFunction(count),
    purchases AggregateFunction(sum, UInt64),
    iap_revenue_usd AggregateFunction(sum, Float64),
    ad_revenue_usd AggregateFunction(sum, Float64),
    viewers AggregateFunction(uniqExactIf, String, UInt8),
    payers AggregateFunction(uniqExactIf, String, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, gender, age_band, country);

CREATE MATERIALIZED VIEW IF NOT EXISTS segment_metrics_1h_rollup_mv TO segment_metrics_1h_rollup AS
SELECT toStartOfHour(window_start) AS window_start, gender, age_band, country,
    countState() AS parts_rows,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    uniqExactIfState(user_id, viewer = 1) AS viewers,
    uniqExactIfState(user_id, payer = 1) AS payers
FROM segment_metrics_1m_parts
GROUP BY window_start, gender, age_band, country;

INSERT INTO segment_metrics_1h_rollup
SELECT toStartOfHour(window_start) AS window_start, gender, age_band, country,
    countState() AS parts_rows,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    uniqExactIfState(user_id, viewer = 1) AS viewers,
    uniqExactIfState(user_id, payer = 1) AS payers
FROM segment_metrics_1m_parts
GROUP BY window_start, gender, age_band, country;

CREATE TABLE IF NOT EXISTS segment_metrics_1d_rollup (
    window_start DateTime,
    gender String, age_band String, country String,
    parts_rows AggregateFunction(count),
    purchases AggregateFunction(sum, UInt64),
    iap_revenue_usd AggregateFunction(sum, Float64),
    ad_revenue_usd AggregateFunction(sum, Float64),
    viewers AggregateFunction(uniqExactIf, String, UInt8),
    payers AggregateFunction(uniqExactIf, String, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, gender, age_band, country);

CREATE MATERIALIZED VIEW IF NOT EXISTS segment_metrics_1d_rollup_mv TO segment_metrics_1d_rollup AS
SELECT toStartOfDay(window_start) AS window_start, gender, age_band, country,
    countState() AS parts_rows,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    uniqExactIfState(user_id, viewer = 1) AS viewers,
    uniqExactIfState(user_id, payer = 1) AS payers
FROM segment_metrics_1m_parts
GROUP BY window_start, gender, age_band, country;

INSERT INTO segment_metrics_1d_rollup
SELECT toStartOfDay(window_start) AS window_start, gender, age_band, country,
    countState() AS parts_rows,
    sumState(purchases) AS purchases,
    sumState(iap_revenue_usd) AS iap_revenue_usd,
    sumState(ad_revenue_usd) AS ad_revenue_usd,
    uniqExactIfState(user_id, viewer = 1) AS viewers,
    uniqExactIfState(user_id, payer = 1) AS payers
FROM segment_metrics_1m_parts
GROUP BY window_start, gender, age_band, country;

DROP TABLE IF EXISTS segment_metrics_1m;
CREATE VIEW IF NOT EXISTS segment_metrics_1m AS
SELECT window_start, gender, age_band, country,
    uniqExactIfMerge(viewers) AS viewers,
    uniqExactIfMerge(payers) AS payers,
    sumMerge(purchases) AS purchases,
    sumMerge(iap_revenue_usd) AS iap_revenue_usd,
    sumMerge(ad_revenue_usd) AS ad_revenue_usd
FROM segment_metrics_1m_rollup
GROUP BY window_start, gender, age_band, country;

CREATE VIEW IF NOT EXISTS segment_metrics_1h AS
SELECT window_start, gender, age_band, country,
    uniqExactIfMerge(viewers) AS viewers,
    uniqExactIfMerge(payers) AS payers,
    sumMerge(purchases) AS purchases,
    sumMerge(iap_revenue_usd) AS iap_revenue_usd,
    sumMerge(ad_revenue_usd) AS ad_revenue_usd
FROM segment_metrics_1h_rollup
GROUP BY window_start, gender, age_band, country;

CREATE VIEW IF NOT EXISTS segment_metrics_1d AS
SELECT window_start, gender, age_band, country,
    uniqExactIfMerge(viewers) AS viewers,
    uniqExactIfMerge(payers) AS payers,
    sumMerge(purchases) AS purchases,
    sumMerge(iap_revenue_usd) AS iap_revenue_usd,
    sumMerge(ad_revenue_usd) AS ad_revenue_usd
FROM segment_metrics_1d_rollup
GROUP BY window_start, gender, age_band, country;

-- users: from events_raw, by day ---------------------------------------------------------------
-- title_users_1d_rollup: per title, the distinct viewers and payers (adaptation_kpis merges them
-- across an adaptation's titles). active_users_1d_rollup: per app, the distinct users with any
-- accepted event; DAU is one day, WAU and MAU merge seven and thirty (warehouse/queries/).
CREATE TABLE IF NOT EXISTS title_users_1d_rollup (
    window_start DateTime,
    title_id String,
    parts_rows AggregateFunction(count),
    viewers AggregateFunction(uniqExactIf, String, UInt8),
    payers AggregateFunction(uniqExactIf, String, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, title_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS title_users_1d_rollup_mv TO title_users_1d_rollup AS
SELECT toStartOfDay(event_time) AS window_start, title_id,
    countState() AS parts_rows,
    uniqExactIfState(user_id, event_type = 'episode_start') AS viewers,
    uniqExactIfState(user_id, event_type = 'purchase') AS payers
FROM events_raw
GROUP BY window_start, title_id;

INSERT INTO title_users_1d_rollup
SELECT toStartOfDay(event_time) AS window_start, title_id,
    countState() AS parts_rows,
    uniqExactIfState(user_id, event_type = 'episode_start') AS viewers,
    uniqExactIfState(user_id, event_type = 'purchase') AS payers
FROM events_raw
GROUP BY window_start, title_id;

CREATE TABLE IF NOT EXISTS active_users_1d_rollup (
    window_start DateTime,
    app_id String,
    parts_rows AggregateFunction(count),
    users AggregateFunction(uniqExactIf, String, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_start, app_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS active_users_1d_rollup_mv TO active_users_1d_rollup AS
SELECT toStartOfDay(event_time) AS window_start, app_id,
    countState() AS parts_rows,
    uniqExactIfState(user_id, user_id != '') AS users
FROM events_raw
GROUP BY window_start, app_id;

INSERT INTO active_users_1d_rollup
SELECT toStartOfDay(event_time) AS window_start, app_id,
    countState() AS parts_rows,
    uniqExactIfState(user_id, user_id != '') AS users
FROM events_raw
GROUP BY window_start, app_id;

CREATE VIEW IF NOT EXISTS active_users_1d AS
SELECT window_start, app_id, uniqExactIfMerge(users) AS users
FROM active_users_1d_rollup
GROUP BY window_start, app_id;

-- the KPI views, now on the day rollups ----------------------------------------------------------
DROP TABLE IF EXISTS title_kpis_1d;
CREATE VIEW IF NOT EXISTS title_kpis_1d AS
SELECT
    toDate(window_start) AS day, title_id,
    hook_views / nullIf(teaser_impressions, 0) AS hook_rate,
    teaser_clicks / nullIf(teaser_impressions, 0) AS teaser_ctr,
    ad_spend_usd / nullIf(installs, 0) AS cpi_usd,
    episode_completes / nullIf(episode_starts, 0) AS completion_rate,
    (unlocks_coins + unlocks_subscription + unlocks_rewarded_ad) / nullIf(paywalls_shown, 0) AS paywall_conversion,
    (unlocks_coins + unlocks_subscription)
        / nullIf(unlocks_coins + unlocks_subscription + unlocks_rewarded_ad, 0) AS paid_unlock_share,
    (iap_revenue_usd + ad_revenue_usd) / nullIf(ad_spend_usd, 0) AS roas,
    startup_ms_sum / nullIf(episode_starts, 0) AS mean_startup_ms,
    rebuffer_ms_sum / nullIf(1000 * watch_seconds + rebuffer_ms_sum, 0) AS rebuffer_ratio,
    episode_starts AS starts, iap_revenue_usd AS iap_usd, ad_revenue_usd AS ad_usd, ad_spend_usd AS spend_usd
FROM title_metrics_1d;

DROP TABLE IF EXISTS kpis_1d;
CREATE VIEW IF NOT EXISTS kpis_1d AS
SELECT
    toDate(window_start) AS day, viewers, payers, iap_usd, ad_usd,
    payers / nullIf(viewers, 0) AS payer_rate,
    iap_usd / nullIf(payers, 0) AS arppu_usd
FROM
(
    SELECT window_start,
           uniqExactIfMerge(viewers) AS viewers, uniqExactIfMerge(payers) AS payers,
           sumMerge(iap_revenue_usd) AS iap_usd, sumMerge(ad_revenue_usd) AS ad_usd
    FROM segment_metrics_1d_rollup
    GROUP BY window_start
);

DROP TABLE IF EXISTS title_roi;
CREATE VIEW IF NOT EXISTS title_roi AS
SELECT title_id, trope, adaptation, origin, production_cost_usd, revenue_usd,
       revenue_usd / nullIf(production_cost_usd, 0) AS roi
FROM titles
ANY LEFT JOIN
(
    SELECT title_id, sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd) AS revenue_usd
    FROM title_metrics_1d_rollup
    GROUP BY title_id
) AS right_2 USING title_id;

DROP TABLE IF EXISTS cultural_discount;
DROP TABLE IF EXISTS adaptation_kpis;
CREATE VIEW IF NOT EXISTS adaptation_kpis AS
SELECT adaptation, completion_rate, payer_rate
FROM
(
    SELECT adaptation, sum(completes) / nullIf(sum(starts), 0) AS completion_rate
    FROM
    (
        SELECT title_id, sumMerge(episode_completes) AS completes, sumMerge(episode_starts) AS starts
        FROM title_metrics_1d_rollup
        GROUP BY title_id
    ) AS left_11
    ANY INNER JOIN
    (
        SELECT title_id, adaptation FROM titles
    ) AS right_13 USING title_id
    GROUP BY adaptation
) AS left_1
ANY LEFT JOIN
(
    SELECT adaptation, uniqExactIfMerge(payers) / nullIf(uniqExactIfMerge(viewers), 0) AS payer_rate
    FROM
    (
        SELECT title_id, viewers, payers FROM title_users_1d_rollup
    ) AS left_12
    ANY INNER JOIN
    (
        SELECT title_id, adaptation FROM titles
    ) AS right_14 USING title_id
    GROUP BY adaptation
) AS right_3 USING adaptation;

CREATE VIEW IF NOT EXISTS cultural_discount AS
SELECT
    if(countIf(adaptation = 'native') = 0, NULL,
       1 - anyIf(completion_rate, adaptation = 'native') / nullIf(anyIf(completion_rate, adaptation = 'localized'), 0))
        AS completion_rate_discount,
    if(countIf(adaptation = 'native') = 0, NULL,
       1 - anyIf(payer_rate, adaptation = 'native') / nullIf(anyIf(payer_rate, adaptation = 'localized'), 0))
        AS payer_rate_discount
FROM adaptation_kpis;
