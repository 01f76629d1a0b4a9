-- recreate_signals: audience feedback turned into a re-create decision (streams/trends.py).
-- The detector may write a signal again after a restart; the view keeps one row per signal_id.
CREATE TABLE IF NOT EXISTS recreate_signals_log (
    signal_id String, title_id String, trope String, score Float64, reason String,
    emitted_at DateTime, emitted_ts Float64, window_start DateTime, window_end DateTime,
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree() ORDER BY (signal_id, emitted_at);

CREATE VIEW IF NOT EXISTS recreate_signals AS
SELECT signal_id, any(title_id) AS title_id, any(trope) AS trope, any(score) AS score, any(reason) AS reason,
       min(emitted_at) AS emitted_at, any(window_start) AS window_start, any(window_end) AS window_end
FROM recreate_signals_log
GROUP BY signal_id;

-- loop_cycles: signal → script → launch → first view, one row per derived title.
-- (ClickHouse 18.16 takes one JOIN per SELECT, hence the nesting; has_* flags stand for NULLs.)
CREATE VIEW IF NOT EXISTS loop_cycles AS
SELECT
    title_id, parent_title_id, signal_id,
    if(has_signal = 1, toDateTime(toUInt32(signal_ts)), NULL) AS signal_time,
    if(script_ts > 0, toDateTime(toUInt32(script_ts)), NULL) AS script_created_time,
    if(launch_ts > 0, toDateTime(toUInt32(launch_ts)), NULL) AS launched_time,
    if(has_view = 1, toDateTime(toUInt32(first_view_ts)), NULL) AS first_view_time,
    if(has_signal = 1 AND script_ts > 0, script_ts - signal_ts, NULL) AS signal_to_script_s,
    if(script_ts > 0 AND launch_ts > 0, launch_ts - script_ts, NULL) AS script_to_launch_s,
    if(launch_ts > 0 AND has_view = 1, first_view_ts - launch_ts, NULL) AS launch_to_first_view_s
FROM
(
    SELECT title_id, parent_title_id, signal_id, script_ts, launch_ts, has_signal, signal_ts
    FROM
    (
        SELECT title_id,
               anyIf(parent_title_id, event_type = 'script_created') AS parent_title_id,
               anyIf(signal_id, event_type = 'script_created') AS signal_id,
               minIf(event_ts, event_type = 'script_created') AS script_ts,
               minIf(event_ts, event_type = 'title_launched') AS launch_ts
        FROM title_events
        GROUP BY title_id
        HAVING parent_title_id != ''
    ) AS left_11
    ANY LEFT JOIN
    (
        SELECT signal_id, 1 AS has_signal, min(emitted_ts) AS signal_ts
        FROM recreate_signals_log
        GROUP BY signal_id
    ) AS right_12 USING signal_id
) AS left_1
ANY LEFT JOIN
(
    SELECT title_id, 1 AS has_view, min(first_view_ts) AS first_view_ts
    FROM title_first_views_parts
    GROUP BY title_id
) AS right_2 USING title_id;
