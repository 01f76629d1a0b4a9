-- ARPPU, payer rate and payer concentration (the top 5% of payers' share of IAP revenue) by
-- segment. A user's segment here is their latest user_profile (the stream uses the latest one
-- processed before each event; they differ only for users whose profile changed).
SELECT gender, age_band, country, viewers, payers, iap_usd,
       payers / nullIf(viewers, 0) AS payer_rate,
       iap_usd / nullIf(payers, 0) AS arppu_usd,
       top_5pct_usd / nullIf(iap_usd, 0) AS top_5pct_share
FROM
(
    SELECT gender, age_band, country,
           uniqExactIfMerge(viewers) AS viewers, uniqExactIfMerge(payers) AS payers,
           sumMerge(iap_revenue_usd) AS iap_usd
    FROM segment_metrics_1d_rollup
    GROUP BY gender, age_band, country
) AS segments
ANY LEFT JOIN
(
    SELECT profile_gender AS gender, profile_age_band AS age_band, profile_country AS country,
           arraySum(arraySlice(arrayReverseSort(groupArray(spent)), 1, toUInt32(ceil(count() * 0.05))))
               AS top_5pct_usd
    FROM
    (
        SELECT user_id, sum(amount_usd) AS spent
        FROM events_raw
        WHERE event_type = 'purchase'
        GROUP BY user_id
    ) AS spenders
    ANY LEFT JOIN
    (
        SELECT user_id,
               argMax(gender, event_time) AS profile_gender,
               argMax(age_band, event_time) AS profile_age_band,
               argMax(country, event_time) AS profile_country
        FROM events_raw
        WHERE event_type = 'user_profile'
        GROUP BY user_id
    ) AS profiles USING user_id
    GROUP BY profile_gender, profile_age_band, profile_country
) AS concentration USING gender, age_band, country
ORDER BY iap_usd DESC
