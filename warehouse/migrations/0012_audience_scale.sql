-- Real-world money beside a sampled audience (issue 9). Production costs are stored as sent, in
-- real US$; a producer whose events cover only a share of the audience its titles are made for
-- (the simulator: `sim_audience_scale` on script_created, an extra field events-v1 allows) says
-- so, and `titles.audience_scale` keeps it (1 when not sent: a real app's whole audience).
-- title_roi puts revenue at the full audience beside the real cost: ROI = revenue ÷ audience_scale
-- ÷ production cost, which is revenue ÷ production cost for a real app. The column is last in
-- title_events (warehouse/tables.py says so).
ALTER TABLE title_events ADD COLUMN audience_scale Float64 DEFAULT 1;

DROP TABLE IF EXISTS titles;
CREATE VIEW IF NOT EXISTS titles AS
SELECT
    title_id,
    if(name_sent = '', title_id, name_sent) AS title_name,
    trope, genre, origin, adaptation, parent_title_id, signal_id, script_created_at, launched_at,
    episodes_total, free_episodes, episodes_released, production_cost_usd, virtual_actor_episodes,
    if(scale_sent > 0, scale_sent, 1.) AS audience_scale
FROM
(
    SELECT
        title_id,
        anyIf(title_name, event_type = 'script_created') AS name_sent,
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
        uniqExactIf(episode, event_type = 'episode_released' AND virtual_actors = 1) AS virtual_actor_episodes,
        anyIf(audience_scale, event_type = 'script_created') AS scale_sent
    FROM title_events
    GROUP BY title_id
);

DROP TABLE IF EXISTS title_roi;
CREATE VIEW IF NOT EXISTS title_roi AS
SELECT title_id, title_name, trope, adaptation, origin, parent_title_id, production_cost_usd, revenue_usd,
       audience_scale, revenue_usd / audience_scale AS revenue_full_audience_usd,
       revenue_full_audience_usd / nullIf(production_cost_usd, 0) AS roi
FROM titles
ANY LEFT JOIN
(
    SELECT title_id, sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd) AS revenue_usd
    FROM title_metrics_1d_rollup
    GROUP BY title_id
) AS right_2 USING title_id;
