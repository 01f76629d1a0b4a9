-- Hit watch (docs/forecast.md): every score of title_forecasts, one row per (title, as_of), with the
-- title's name, origin and trope: P(pays back) and P(hit) of each new original title over its first
-- 7 days, and beside them what the scores came from so far (viewers, revenue, hook rate, completion,
-- pay-through at the first paywall). `latest` is 1 on the newest moment scored (the titles now in
-- their first week). P(hit) is null while the model has no hit regression.
SELECT as_of, title_id, if(name = '', title_id, name) AS title_name, origin, trope, hours_since_launch,
       p_payback, p_hit, viewers, revenue_usd, hook_rate, completion, pay_through, hit_signal, model_version,
       as_of = (SELECT max(as_of) FROM title_forecasts_log) AS latest
FROM title_forecasts
ANY LEFT JOIN (SELECT title_id, title_name AS name, origin, trope FROM titles) AS named USING title_id
