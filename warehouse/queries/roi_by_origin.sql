-- Title ROI (lifetime revenue against production cost, real-world US$) for AI, human and hybrid
-- titles. Revenue is at the full audience (title_roi.revenue_full_audience_usd: revenue ÷ the
-- titles' audience_scale, 1 for a real app).
SELECT origin, count() AS titles, sum(production_cost_usd) AS cost_usd, sum(revenue_full_audience_usd) AS earned_usd,
       earned_usd / nullIf(cost_usd, 0) AS roi
FROM title_roi
GROUP BY origin
ORDER BY origin
