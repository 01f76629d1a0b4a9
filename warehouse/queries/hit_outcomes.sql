-- Hit watch's outcomes (docs/forecast.md): per title scored at 24 hours, the forecast then against
-- what happened in its first 30 days, at the full audience (÷ audience_scale, whole US$): revenue
-- against production cost plus teaser spend. `outcome_known` is 1 once the warehouse holds the
-- title's 30 days; before, `paid_back` says whether it has paid back so far. `verdict`: right or
-- miss (the forecast said P(pays back) ≥ 0.5, or not), `open` until the 30 days are known.
SELECT title_id, title_name, origin, launched_at, p_payback_24h, p_hit_24h, forecast_pays_back,
       cost_usd, spend_full_usd, revenue_full_usd, revenue_full_usd >= cost_usd + spend_full_usd AS paid_back,
       outcome_known,
       multiIf(outcome_known = 0, 'open',
               forecast_pays_back = (revenue_full_usd >= cost_usd + spend_full_usd), 'right', 'miss') AS verdict
FROM
(
    SELECT title_id, title_name, origin, launched_at, p_payback_24h, p_hit_24h, p_payback_24h >= 0.5 AS forecast_pays_back,
           production_cost_usd AS cost_usd, round(spend / audience_scale) AS spend_full_usd,
           round(revenue / audience_scale) AS revenue_full_usd,
           assumeNotNull(launched_at) + 30 * 86400 <= (SELECT max(window_start) FROM title_metrics_1h_rollup)
               AS outcome_known
    FROM
    (
        SELECT title_id, p_payback_24h, p_hit_24h, title_name, origin, launched_at, production_cost_usd,
               audience_scale
        FROM
        (
            SELECT title_id, round(argMin(p_payback, as_of), 3) AS p_payback_24h,
                   round(argMin(p_hit, as_of), 3) AS p_hit_24h
            FROM title_forecasts
            WHERE hours_since_launch >= 24
            GROUP BY title_id
        ) AS scored
        ANY JOIN
        (
            SELECT title_id, title_name, origin, launched_at, production_cost_usd, audience_scale
            FROM titles
            WHERE launched_at IS NOT NULL
        ) AS named USING title_id
    ) AS forecast
    ANY LEFT JOIN
    (
        SELECT title_id, sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd) AS revenue,
               sumMerge(ad_spend_usd) AS spend
        FROM
        (
            SELECT *
            FROM title_metrics_1h_rollup
            ANY JOIN
            (
                SELECT title_id, assumeNotNull(launched_at) AS launched
                FROM titles
                WHERE launched_at IS NOT NULL AND parent_title_id = ''
            ) AS spans USING title_id
            WHERE window_start < launched + 30 * 86400
        ) AS first_30_days
        GROUP BY title_id
    ) AS money USING title_id
) AS outcomes
