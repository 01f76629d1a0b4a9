-- ROAS and CPI by channel and campaign. Spend is the teaser impressions' cost_usd; installs
-- are attributed to the channel and campaign of the user's first install; revenue (IAP amount
-- and ad revenue) counts at D0 when earned within 24 h of that install, at D7 within 7 days.
SELECT channel, campaign_id, spend_usd, installs,
       spend_usd / nullIf(installs, 0) AS cpi_usd,
       revenue_d0_usd, revenue_d7_usd,
       revenue_d0_usd / nullIf(spend_usd, 0) AS roas_d0,
       revenue_d7_usd / nullIf(spend_usd, 0) AS roas_d7
FROM
(
    SELECT channel, campaign_id,
           sumIf(cost_usd, event_type = 'teaser_impression') AS spend_usd,
           countIf(event_type = 'install') AS installs
    FROM events_raw
    WHERE event_type IN ('teaser_impression', 'install')
    GROUP BY channel, campaign_id
) AS acquisition
ANY LEFT JOIN
(
    SELECT install_channel AS channel, install_campaign AS campaign_id,
           sumIf(amount, event_time < installed + 86400) AS revenue_d0_usd,
           sumIf(amount, event_time < installed + 7 * 86400) AS revenue_d7_usd
    FROM
    (
        SELECT user_id, event_time,
               amount_usd + revenue_usd AS amount
        FROM events_raw
        WHERE event_type IN ('purchase', 'ad_impression')
    ) AS revenue
    ANY JOIN
    (
        SELECT user_id, min(event_time) AS installed,
               argMin(channel, event_time) AS install_channel,
               argMin(campaign_id, event_time) AS install_campaign
        FROM events_raw
        WHERE event_type = 'install'
        GROUP BY user_id
    ) AS installs USING user_id
    WHERE event_time >= installed
    GROUP BY install_channel, install_campaign
) AS returns USING channel, campaign_id
ORDER BY channel, campaign_id
