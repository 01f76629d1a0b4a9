-- Re-create signals, one row each, with the title's name and trope: when, why, and the score of
-- the minute that fired. recreate_signals.sql's cycle times follow each signal to a derived title.
SELECT signal_id, title_id, if(name = '', title_id, name) AS title_name,
       if(trope_of = '', trope, trope_of) AS trope, score, reason, emitted_at, window_start
FROM recreate_signals
ANY LEFT JOIN (SELECT title_id, title_name AS name, trope AS trope_of FROM titles) AS named USING title_id
