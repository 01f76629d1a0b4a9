-- Retention (issue 8): the minute-level parts are dropped by day partition once older than the
-- horizon (python -m warehouse.maintain; rollups and events_raw are kept). So the three parts
-- tables are partitioned by day: each is copied into a day-partitioned twin and swapped in by
-- name, before any materialized view reads them (0009): on current releases a view follows the
-- table it was attached to, not the name. Run with the workers stopped, as `make up` and
-- `make migrate` do: a block written between the copy and the swap would be lost.
CREATE TABLE title_metrics_1m_parts_by_day AS title_metrics_1m_parts
ENGINE = MergeTree() PARTITION BY toYYYYMMDD(window_start) ORDER BY (window_start, title_id);
INSERT INTO title_metrics_1m_parts_by_day SELECT * FROM title_metrics_1m_parts;
RENAME TABLE title_metrics_1m_parts TO title_metrics_1m_parts_by_month,
             title_metrics_1m_parts_by_day TO title_metrics_1m_parts;
DROP TABLE title_metrics_1m_parts_by_month;

CREATE TABLE episode_metrics_1m_parts_by_day AS episode_metrics_1m_parts
ENGINE = MergeTree() PARTITION BY toYYYYMMDD(window_start) ORDER BY (window_start, title_id, episode);
INSERT INTO episode_metrics_1m_parts_by_day SELECT * FROM episode_metrics_1m_parts;
RENAME TABLE episode_metrics_1m_parts TO episode_metrics_1m_parts_unpartitioned,
             episode_metrics_1m_parts_by_day TO episode_metrics_1m_parts;
DROP TABLE episode_metrics_1m_parts_unpartitioned;

CREATE TABLE segment_metrics_1m_parts_by_day AS segment_metrics_1m_parts
ENGINE = MergeTree() PARTITION BY toYYYYMMDD(window_start) ORDER BY (window_start, gender, age_band, country);
INSERT INTO segment_metrics_1m_parts_by_day SELECT * FROM segment_metrics_1m_parts;
RENAME TABLE segment_metrics_1m_parts TO segment_metrics_1m_parts_unpartitioned,
             segment_metrics_1m_parts_by_day TO segment_metrics_1m_parts;
DROP TABLE segment_metrics_1m_parts_unpartitioned;
