-- titles.title_name (metrics-v1.md): the optional title_name of script_created, the title_id
-- when it was not sent. The column is last in title_events (warehouse/tables.py says so).
ALTER TABLE title_events ADD COLUMN title_name String DEFAULT '';

DROP TABLE IF EXISTS titles;
CREATE VIEW IF NOT EXISTS titles AS
SELECT
    title_id,
    if(name_sent = '', title_id, name_sent) AS title_name,
    trope, genre, origin, adaptation, parent_title_id, signal_id, script_created_at, launched_at,
    episodes_total, free_episodes, episodes_released, production_cost_usd, virtual_actor_episodes
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
        uniqExactIf(episode, event_type = 'episode_released' AND virtual_actors = 1) AS virtual_actor_episodes
    FROM title_events
    GROUP BY title_id
);
