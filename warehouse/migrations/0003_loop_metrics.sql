-- The loop's metrics (metrics-v1.md). The workers insert partial aggregates per batch into
-- *_parts tables; every row carries the Kafka range it covers (src_topic, src_partition,
-- src_first_offset, src_last_offset) so a replayed batch is recognised and not written twice.
-- Distinct counts travel as one row per (key, user) with user_id set and the counters at 0;
-- the views count them with uniqExact. Readers use the views: one row per key, plain SELECT.

-- title_metrics_1m ----------------------------------------------------------------------------
DROP TABLE IF EXISTS title_metrics_1m;
ALTER TABLE title_metrics_1m_parts
    ADD COLUMN user_id String DEFAULT '' AFTER title_id,
    ADD COLUMN teaser_impressions UInt64 DEFAULT 0,
    ADD COLUMN teaser_views UInt64 DEFAULT 0,
    ADD COLUMN hook_views UInt64 DEFAULT 0,
    ADD COLUMN teaser_clicks UInt64 DEFAULT 0,
    ADD COLUMN installs UInt64 DEFAULT 0,
    ADD COLUMN ad_spend_usd Float64 DEFAULT 0,
    ADD COLUMN episode_completes UInt64 DEFAULT 0,
    ADD COLUMN episode_exits UInt64 DEFAULT 0,
    ADD COLUMN watch_seconds Float64 DEFAULT 0,
    ADD COLUMN startup_ms_sum UInt64 DEFAULT 0,
    ADD COLUMN rebuffer_ms_sum UInt64 DEFAULT 0,
    ADD COLUMN paywalls_shown UInt64 DEFAULT 0,
    ADD COLUMN unlocks_coins UInt64 DEFAULT 0,
    ADD COLUMN unlocks_subscription UInt64 DEFAULT 0,
    ADD COLUMN unlocks_rewarded_ad UInt64 DEFAULT 0,
    ADD COLUMN coins_spent UInt64 DEFAULT 0,
    ADD COLUMN purchases UInt64 DEFAULT 0,
    ADD COLUMN iap_revenue_usd Float64 DEFAULT 0,
    ADD COLUMN ad_impressions UInt64 DEFAULT 0,
    ADD COLUMN ad_clicks UInt64 DEFAULT 0,
    ADD COLUMN ad_revenue_usd Float64 DEFAULT 0,
    ADD COLUMN likes UInt64 DEFAULT 0,
    ADD COLUMN shares UInt64 DEFAULT 0,
    ADD COLUMN comments UInt64 DEFAULT 0,
    ADD COLUMN ratings UInt64 DEFAULT 0,
    ADD COLUMN rating_stars_sum UInt64 DEFAULT 0;

CREATE VIEW IF NOT EXISTS title_metrics_1m AS
SELECT
    window_start, title_id,
    sum(teaser_impressions) AS teaser_impressions, sum(teaser_views) AS teaser_views,
    sum(hook_views) AS hook_views, sum(teaser_clicks) AS teaser_clicks, sum(installs) AS installs,
    sum(ad_spend_usd) AS ad_spend_usd,
    sum(episode_starts) AS episode_starts, sum(episode_completes) AS episode_completes,
    sum(episode_exits) AS episode_exits, sum(watch_seconds) AS watch_seconds,
    sum(startup_ms_sum) AS startup_ms_sum, sum(rebuffer_ms_sum) AS rebuffer_ms_sum,
    uniqExactIf(user_id, user_id != '') AS unique_viewers,
    sum(paywalls_shown) AS paywalls_shown, sum(unlocks_coins) AS unlocks_coins,
    sum(unlocks_subscription) AS unlocks_subscription, sum(unlocks_rewarded_ad) AS unlocks_rewarded_ad,
    sum(coins_spent) AS coins_spent, sum(purchases) AS purchases, sum(iap_revenue_usd) AS iap_revenue_usd,
    sum(ad_impressions) AS ad_impressions, sum(ad_clicks) AS ad_clicks, sum(ad_revenue_usd) AS ad_revenue_usd,
    sum(likes) AS likes, sum(shares) AS shares, sum(comments) AS comments, sum(ratings) AS ratings,
    sum(rating_stars_sum) AS rating_stars_sum
FROM title_metrics_1m_parts
GROUP BY window_start, title_id;

-- episode_metrics_1m: the drop-off curve and the per-episode paywall --------------------------
CREATE TABLE IF NOT EXISTS episode_metrics_1m_parts (
    window_start DateTime, title_id String, episode UInt32,
    starts UInt64, completes UInt64, exits UInt64, paywalls_shown UInt64, unlocks UInt64,
    src_topic String, src_partition UInt32, src_first_offset UInt64, src_last_offset UInt64,
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY (window_start, title_id, episode);

CREATE VIEW IF NOT EXISTS episode_metrics_1m AS
SELECT window_start, title_id, episode, sum(starts) AS starts, sum(completes) AS completes,
       sum(exits) AS exits, sum(paywalls_shown) AS paywalls_shown, sum(unlocks) AS unlocks
FROM episode_metrics_1m_parts
GROUP BY window_start, title_id, episode;

-- segment_metrics_1m: who watches and who pays -------------------------------------------------
CREATE TABLE IF NOT EXISTS segment_metrics_1m_parts (
    window_start DateTime, gender String, age_band String, country String,
    user_id String, viewer UInt8, payer UInt8,
    purchases UInt64, iap_revenue_usd Float64, ad_revenue_usd Float64,
    src_topic String, src_partition UInt32, src_first_offset UInt64, src_last_offset UInt64,
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY (window_start, gender, age_band, country);

CREATE VIEW IF NOT EXISTS segment_metrics_1m AS
SELECT window_start, gender, age_band, country,
       uniqExactIf(user_id, viewer = 1) AS viewers, uniqExactIf(user_id, payer = 1) AS payers,
       sum(purchases) AS purchases, sum(iap_revenue_usd) AS iap_revenue_usd, sum(ad_revenue_usd) AS ad_revenue_usd
FROM segment_metrics_1m_parts
GROUP BY window_start, gender, age_band, country;

-- titles: the create stage, one row per content event -----------------------------------------
CREATE TABLE IF NOT EXISTS title_events (
    title_id String, event_type String, event_time DateTime, event_ts Float64,
    trope String, genre String, origin String, adaptation String, parent_title_id String, signal_id String,
    episode UInt32, production_cost_usd Float64, virtual_actors UInt8, episodes_total UInt32, free_episodes UInt32,
    topic String, partition UInt32, offset UInt64,
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY (title_id, event_type, event_time);

CREATE VIEW IF NOT EXISTS titles AS
SELECT
    title_id,
    anyIf(trope, event_type = 'script_created') AS trope,
    anyIf(genre, event_type = 'script_created') AS genre,
    anyIf(origin, event_type = 'script_created') AS origin,
    anyIf(adaptation, event_type = 'script_created') AS adaptation,
    anyIf(parent_title_id, event_type = 'script_created') AS parent_title_id,
    anyIf(signal_id, event_type = 'script_created') AS signal_id,
    if(countIf(event_type = 'script_created') = 0, NULL, minIf(event_time, event_type = 'script_created')) AS script_created_at,
    if(countIf(event_type = 'title_launched') = 0, NULL, minIf(event_time, event_type = 'title_launched')) AS launched_at,
    argMaxIf(episodes_total, event_ts, event_type = 'title_launched') AS episodes_total,
    argMaxIf(free_episodes, event_ts, event_type = 'title_launched') AS free_episodes,
    uniqExactIf(episode, event_type = 'episode_released') AS episodes_released,
    sumIf(production_cost_usd, event_type = 'episode_released') AS production_cost_usd,
    uniqExactIf(episode, event_type = 'episode_released' AND virtual_actors = 1) AS virtual_actor_episodes
FROM title_events
GROUP BY title_id;

-- the first view of each title (for loop_cycles) ----------------------------------------------
CREATE TABLE IF NOT EXISTS title_first_views_parts (
    title_id String, first_view_ts Float64,
    src_topic String, src_partition UInt32, src_first_offset UInt64, src_last_offset UInt64,
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY title_id;

-- pipeline_health_1m: by processing time ---------------------------------------------------------
CREATE TABLE IF NOT EXISTS pipeline_health_1m_parts (
    window_start DateTime, events_in UInt64, accepted UInt64, duplicates UInt64, rejected UInt64, late UInt64,
    max_event_lag_s Float64,
    src_topic String, src_partition UInt32, src_first_offset UInt64, src_last_offset UInt64,
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY window_start;

CREATE VIEW IF NOT EXISTS pipeline_health_1m AS
SELECT window_start, sum(events_in) AS events_in, sum(accepted) AS accepted, sum(duplicates) AS duplicates,
       sum(rejected) AS rejected, sum(late) AS late, max(max_event_lag_s) AS max_event_lag_s
FROM pipeline_health_1m_parts
GROUP BY window_start;
