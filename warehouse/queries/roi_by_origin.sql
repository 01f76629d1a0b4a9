-- Title ROI (lifetime revenue against production cost) for AI, human and hybrid titles.
SELECT origin, count() AS titles, sum(production_cost_usd) AS cost_usd, sum(revenue_usd) AS earned_usd,
       earned_usd / nullIf(cost_usd, 0) AS roi
FROM title_roi
GROUP BY origin
ORDER BY origin
