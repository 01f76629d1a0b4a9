-- The catalog: every title with its name, trope, origin, adaptation, lineage (original or
-- derived), parent's name, production (episodes, virtual-actor episodes, real-world cost) and
-- lifetime revenue, at the events' scale and at the full audience (title_roi).
SELECT title_id, title_name, trope, origin, adaptation, if(parent_title_id = '', 'original', 'derived') AS lineage,
       parent_title_id, if(parent_title_id = '', '', if(parent_name = '', parent_title_id, parent_name)) AS parent_name,
       launched_at, episodes_total, virtual_actor_episodes, production_cost_usd, revenue_usd,
       revenue_full_audience_usd, 1 AS titles
FROM
(
    SELECT title_id, title_name, trope, origin, adaptation, parent_title_id, launched_at, episodes_total,
           virtual_actor_episodes, production_cost_usd, revenue_usd, revenue_full_audience_usd
    FROM titles
    ANY LEFT JOIN (SELECT title_id, revenue_usd, revenue_full_audience_usd FROM title_roi) AS money USING title_id
) AS catalog
ANY LEFT JOIN (SELECT title_id AS parent_title_id, title_name AS parent_name FROM titles) AS parents
    USING parent_title_id
