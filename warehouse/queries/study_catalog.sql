-- The study's production figures and its freemium rule (simulator/CALIBRATION.md), from `titles`,
-- whose production costs are real-world US$. One row.
--   ai_script_share: titles whose script origin is `ai`; sequels: titles derived from another;
--   virtual_actor_episode_usd: the cost per episode of original AI titles (every episode made
--     with virtual actors; a sequel reuses its parent's cast and costs less);
--   human_episode_usd: the cost per episode of original human-shot titles other than the hit;
--   hit_cost_usd: the cost of the hit, the title with the most revenue;
--   free_episodes_min/max, first_paywall_episode: the freemium rule as launched titles and paywalls
--     show it (a title not launched yet has no free episodes to count).
SELECT titles, ai_script_share, sequels, virtual_actor_episode_usd, human_episode_usd, hit_title_id, hit_cost_usd,
       free_episodes_min, free_episodes_max, first_paywall_episode
FROM
(
    SELECT 1 AS one, count() AS titles, countIf(origin = 'ai') / count() AS ai_script_share,
           countIf(parent_title_id != '') AS sequels,
           sumIf(production_cost_usd, origin = 'ai' AND parent_title_id = '')
               / nullIf(sumIf(episodes_released, origin = 'ai' AND parent_title_id = ''), 0) AS virtual_actor_episode_usd,
           sumIf(production_cost_usd, origin = 'human' AND parent_title_id = '' AND title_id != hit_id)
               / nullIf(sumIf(episodes_released, origin = 'human' AND parent_title_id = '' AND title_id != hit_id), 0)
               AS human_episode_usd,
           any(hit_id) AS hit_title_id, sumIf(production_cost_usd, title_id = hit_id) AS hit_cost_usd,
           minIf(free_episodes, launched) AS free_episodes_min, maxIf(free_episodes, launched) AS free_episodes_max
    FROM
    (
        SELECT 1 AS one, title_id, origin, parent_title_id, production_cost_usd, episodes_released, free_episodes,
               launched_at IS NOT NULL AS launched
        FROM titles
    ) AS catalog
    ANY JOIN (SELECT 1 AS one, argMax(title_id, revenue_usd) AS hit_id FROM title_roi) AS top USING one
) AS figures
ANY LEFT JOIN
(
    SELECT 1 AS one, min(episode) AS first_paywall_episode FROM episode_metrics_1m WHERE paywalls_shown > 0
) AS paywall USING one
