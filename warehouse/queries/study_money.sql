-- The study's money figures (simulator/CALIBRATION.md, `python -m simulator report`): the US share
-- of revenue (IAP + ads) and women aged 45+ among payers (distinct users with a purchase), over all
-- the warehouse holds. A user's country, gender and age band are those of their latest
-- user_profile (`ZZ` / unknown without one), whatever order the stream processed them in: the
-- segment rollups use the profile processed before each event, which at replay speed may not
-- have arrived yet.
-- us_revenue_share_se is the share's standard error as a sample of users (a few heavy spenders
-- move it): sqrt(Σ over users of (their revenue × (is_US − share))²) ÷ revenue, expanded as
-- Σ_US r² (1 − 2·share) + share² Σ r².
SELECT us_usd / nullIf(revenue_usd, 0) AS us_revenue_share,
       female_45plus / nullIf(payers, 0) AS female_45plus_payer_share,
       payers, revenue_usd,
       sqrt(us_squares * (1 - 2 * us_revenue_share) + us_revenue_share * us_revenue_share * squares)
           / nullIf(revenue_usd, 0) AS us_revenue_share_se
FROM
(
    SELECT sum(spent_usd) AS revenue_usd, sumIf(spent_usd, country = 'US') AS us_usd,
           countIf(payer) AS payers,
           countIf(payer AND gender = 'female' AND age_band IN ('45-54', '55+')) AS female_45plus,
           sumIf(spent_usd * spent_usd, country = 'US') AS us_squares, sum(spent_usd * spent_usd) AS squares
    FROM
    (
        SELECT user_id, sum(amount_usd + revenue_usd) AS spent_usd, countIf(event_type = 'purchase') > 0 AS payer
        FROM events_raw
        WHERE event_type IN ('purchase', 'ad_impression')
        GROUP BY user_id
    ) AS spenders
    ANY LEFT JOIN
    (
        SELECT user_id, argMax(country, event_time) AS country, argMax(gender, event_time) AS gender,
               argMax(age_band, event_time) AS age_band
        FROM events_raw
        WHERE event_type = 'user_profile'
        GROUP BY user_id
    ) AS profiles USING user_id
)
