-- One clock for the loop (streams/trends.py): from this release a signal's emitted_at/emitted_ts is
-- event time (the latest feedback of the surging minute when the rule fired), so loop_cycles'
-- durations compare event time with event time and a replayed past is never negative. The worker's
-- wall clock at detection, which emitted_at used to be, is kept beside it as detected_at.
ALTER TABLE recreate_signals_log ADD COLUMN detected_at DateTime DEFAULT now() AFTER window_end;

-- The writer's probe (0014) parses a block as the table would: it takes the new column too.
DROP TABLE IF EXISTS recreate_signals_log_probe;
CREATE TABLE IF NOT EXISTS recreate_signals_log_probe AS recreate_signals_log ENGINE = Null;

DROP TABLE IF EXISTS recreate_signals;
CREATE VIEW recreate_signals AS
SELECT signal_id, any(title_id) AS title_id, any(trope) AS trope, any(score) AS score, any(reason) AS reason,
       min(emitted_at) AS emitted_at, any(window_start) AS window_start, any(window_end) AS window_end,
       min(detected_at) AS detected_at
FROM recreate_signals_log
GROUP BY signal_id;
