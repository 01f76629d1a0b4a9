-- The study's money figures (simulator/CALIBRATION.md, `python -m simulator report`): the US share
-- of revenue (IAP + ads) and women aged 45+ among payers, over all the warehouse holds. A user's
-- segment is the one the stream gave each event (segment_metrics_1m); payers are distinct users
-- with a purchase over the whole range, merged exactly from the day rollup.
-- us_revenue_share_se is the share's standard error as a sample of users (a few heavy spenders
-- move it): sqrt(Σ over users of (their revenue × (is_US − share))²) ÷ revenue, expanded as
-- Σ_US r² (1 − 2·share) + share² Σ r²; each user's country is their latest user_profile's.
SELECT us_revenue_share, female_45plus_payer_share, payers, revenue_usd, us_revenue_share_se
FROM
(
    SELECT 1 AS one, revenue.us_usd / nullIf(revenue.all_usd, 0) AS us_revenue_share,
           payers.female_45plus / nullIf(payers.all, 0) AS female_45plus_payer_share,
           payers.all AS payers, revenue.all_usd AS revenue_usd
    FROM
    (
        SELECT 1 AS one, sumIf(usd, country = 'US') AS us_usd, sum(usd) AS all_usd
        FROM
        (
            SELECT country, sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd) AS usd
            FROM segment_metrics_1d_rollup
            GROUP BY country
        ) AS by_country
    ) AS revenue
    ANY INNER JOIN
    (
        SELECT 1 AS one,
               uniqExactIfMergeIf(payers, gender = 'female' AND age_band IN ('45-54', '55+')) AS female_45plus,
               uniqExactIfMerge(payers) AS all
        FROM segment_metrics_1d_rollup
    ) AS payers USING one
) AS figures
ANY LEFT JOIN
(
    SELECT 1 AS one, sqrt(us_squares * (1 - 2 * share) + share * share * squares) / nullIf(usd, 0) AS us_revenue_share_se
    FROM
    (
        SELECT sumIf(spent_usd * spent_usd, country = 'US') AS us_squares, sum(spent_usd * spent_usd) AS squares,
               sum(spent_usd) AS usd, sumIf(spent_usd, country = 'US') / nullIf(usd, 0) AS share
        FROM
        (
            SELECT user_id, sum(amount_usd + revenue_usd) AS spent_usd
            FROM events_raw
            WHERE event_type IN ('purchase', 'ad_impression')
            GROUP BY user_id
        ) AS spent
        ANY LEFT JOIN
        (
            SELECT user_id, argMax(country, event_time) AS country
            FROM events_raw
            WHERE event_type = 'user_profile'
            GROUP BY user_id
        ) AS profiles USING user_id
    ) AS users
) AS sampling USING one
