-- Where the worker finds which rows of a block ClickHouse refuses (warehouse/sink.py, find_refused):
-- a Null-engine copy of each table it writes, which parses and checks a block as the table would and
-- keeps nothing. The writer may insert but not create tables (allow_ddl=0), so they exist beforehand.
CREATE TABLE IF NOT EXISTS events_rejected_probe AS events_rejected ENGINE = Null;
CREATE TABLE IF NOT EXISTS events_raw_probe AS events_raw ENGINE = Null;
CREATE TABLE IF NOT EXISTS title_events_probe AS title_events ENGINE = Null;
CREATE TABLE IF NOT EXISTS title_metrics_1m_parts_probe AS title_metrics_1m_parts ENGINE = Null;
CREATE TABLE IF NOT EXISTS episode_metrics_1m_parts_probe AS episode_metrics_1m_parts ENGINE = Null;
CREATE TABLE IF NOT EXISTS segment_metrics_1m_parts_probe AS segment_metrics_1m_parts ENGINE = Null;
CREATE TABLE IF NOT EXISTS title_first_views_parts_probe AS title_first_views_parts ENGINE = Null;
CREATE TABLE IF NOT EXISTS pipeline_health_1m_parts_probe AS pipeline_health_1m_parts ENGINE = Null;
CREATE TABLE IF NOT EXISTS recreate_signals_log_probe AS recreate_signals_log ENGINE = Null;
