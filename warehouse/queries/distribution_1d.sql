-- Distribution per (day, app, channel, campaign) over the last 90 days, from events_raw: teaser
-- impressions, views that held 3 seconds (the hook), clicks, installs and spend. Hook rate,
-- CTR and CPI are ratios of these sums (dashboards/datasets.py). Installs count by their own
-- channel and campaign (roas_cpi_by_campaign.sql attributes revenue to the first install).
SELECT toStartOfDay(event_time) AS window_start, app_id, channel, campaign_id,
       countIf(event_type = 'teaser_impression') AS teaser_impressions,
       countIf(event_type = 'teaser_view' AND watch_ms >= 3000) AS hook_views,
       countIf(event_type = 'teaser_click') AS teaser_clicks,
       countIf(event_type = 'install') AS installs,
       sumIf(cost_usd, event_type = 'teaser_impression') AS spend_usd
FROM events_raw
WHERE event_type IN ('teaser_impression', 'teaser_view', 'teaser_click', 'install')
  AND event_time >= now() - 90 * 86400
GROUP BY window_start, app_id, channel, campaign_id
