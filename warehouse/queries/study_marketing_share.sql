-- "Advertising expenditure usually takes up about 70% of total expenditure": teaser spend ÷
-- (teaser spend + production cost amortized over a year from each title's script, over the
-- span of the data), in real-world US$. Spend is what the audience in the warehouse cost; at the
-- audience the catalog is made for it is spend ÷ audience_scale (titles; 1 for a real app). One row.
SELECT spend_usd / audience_scale AS spend_full_usd, amortized_production_usd,
       spend_full_usd / nullIf(spend_full_usd + amortized_production_usd, 0) AS marketing_share, days
FROM
(
    SELECT 1 AS one, sum(production_cost_usd * greatest(0, least(365 * 86400, last - greatest(created, first)))
                         / (365 * 86400)) AS amortized_production_usd,
           max(audience_scale) AS audience_scale, any((last - first) / 86400) AS days
    FROM
    (
        SELECT 1 AS one, production_cost_usd, audience_scale, ifNull(toUInt32(script_created_at), 0) AS created
        FROM titles
    ) AS made
    ANY JOIN
    (
        SELECT 1 AS one, toUInt32(min(event_time)) AS first, toUInt32(max(event_time)) AS last
        FROM events_raw
        WHERE event_type NOT IN ('script_created', 'episode_released', 'title_launched')
    ) AS span USING one
) AS production
ANY JOIN (SELECT 1 AS one, sumMerge(ad_spend_usd) AS spend_usd FROM title_metrics_1d_rollup) AS spend USING one
