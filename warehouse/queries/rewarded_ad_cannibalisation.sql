-- Rewarded-ad cannibalisation: do viewers who unlock an episode by watching an ad pay less? Among
-- viewers who reached a paywall, those who unlocked at least one episode with a rewarded ad, and
-- how many of them paid (coins or a subscription) for a later episode, against those who never
-- unlocked with an ad and how many of them paid at all. Paying later than the first ad unlock is
-- what an ad unlock could have taken away.
SELECT if(first_ad_unlock > 0, 'unlocked with an ad', 'never unlocked with an ad') AS viewers_who,
       count() AS viewers,
       countIf(if(first_ad_unlock > 0, last_paid_unlock > first_ad_unlock, last_paid_unlock > 0)) AS payers
FROM
(
    SELECT user_id,
           minIf(toUInt32(event_time), event_type = 'episode_unlocked' AND method = 'rewarded_ad') AS first_ad_unlock,
           maxIf(toUInt32(event_time), event_type = 'episode_unlocked' AND method IN ('coins', 'subscription'))
               AS last_paid_unlock
    FROM events_raw
    WHERE event_type IN ('paywall_shown', 'episode_unlocked') AND user_id != ''
    GROUP BY user_id
) AS per_viewer
GROUP BY viewers_who
ORDER BY viewers_who
