-- Hit watch (docs/forecast.md): every score of title_forecasts, one row per (title, as_of), with the
-- title's name, origin and trope: P(pays back) and P(hit) of each new original title over its first
-- 7 days, and beside them what the scores came from so far (viewers, revenue, hook rate, completion,
-- pay-through at the first paywall), rounded for reading. `latest` is 1 on the newest moment scored (the titles now in
-- their first week). P(hit) is null while the model has no hit regression.
-- (The newest moment comes by a join: a scalar subquery in a filter pushed into the view fails on 18.16.)
SELECT as_of, title_id, title_name, origin, trope, round(hours, 1) AS hours_since_launch,
       round(p_payback_raw, 3) AS p_payback, round(p_hit_raw, 3) AS p_hit, viewers,
       round(revenue_raw, 2) AS revenue_usd, round(hook_rate_raw, 3) AS hook_rate,
       round(completion_raw, 3) AS completion, round(pay_through_raw, 3) AS pay_through, hit_signal, model_version,
       as_of = newest AS latest
FROM
(
    SELECT as_of, title_id, if(name = '', title_id, name) AS title_name, origin, trope,
           hours_since_launch AS hours, p_payback AS p_payback_raw, p_hit AS p_hit_raw, viewers,
           revenue_usd AS revenue_raw, hook_rate AS hook_rate_raw, completion AS completion_raw,
           pay_through AS pay_through_raw, hit_signal, model_version
    FROM title_forecasts
    ANY LEFT JOIN (SELECT title_id, title_name AS name, origin, trope FROM titles) AS named USING title_id
) AS scored
CROSS JOIN (SELECT max(as_of) AS newest FROM title_forecasts_log) AS newest_moment
