-- title_forecasts (metrics-v1): will a new original title pay back? Scored from what the warehouse
-- holds of its first hours (warehouse/queries/title_forecast_features.sql) by forecast/model.json, for
-- every title in its first 7 days, every FORECAST_PERIOD_S of event time (streams/forecasts.py).
-- A worker that restarts may score a moment again: the view keeps the newest row of each
-- (title_id, as_of). Beside the probabilities, a few of the features they came from (for Hit
-- watch) and `hit_signal`: 1 on the row whose p_hit first crossed the model's threshold (the
-- hit_forecast signal sent to drama.signals).
CREATE TABLE IF NOT EXISTS title_forecasts_log (
    title_id String, as_of DateTime, hours_since_launch Float64,
    p_payback Nullable(Float64), p_hit Nullable(Float64), model_version String,
    viewers UInt64, revenue_usd Float64, hook_rate Float64, completion Float64, pay_through Float64,
    hit_signal UInt8,
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree() PARTITION BY toYYYYMM(as_of) ORDER BY (title_id, as_of);

CREATE TABLE IF NOT EXISTS title_forecasts_log_probe AS title_forecasts_log ENGINE = Null;

CREATE VIEW IF NOT EXISTS title_forecasts AS
SELECT title_id, as_of,
       argMax(hours_since_launch, written_at) AS hours_since_launch, argMax(p_payback, written_at) AS p_payback,
       argMax(p_hit, written_at) AS p_hit, argMax(model_version, written_at) AS model_version,
       argMax(viewers, written_at) AS viewers, argMax(revenue_usd, written_at) AS revenue_usd,
       argMax(hook_rate, written_at) AS hook_rate, argMax(completion, written_at) AS completion,
       argMax(pay_through, written_at) AS pay_through, max(hit_signal) AS hit_signal
FROM title_forecasts_log
GROUP BY title_id, as_of;
