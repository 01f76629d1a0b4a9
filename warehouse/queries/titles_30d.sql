-- Titles at a glance over the last 30 closed days: exact distinct viewers (title_reach_latest,
-- finalized by warehouse.maintain), with the starts and revenue of the same 30 days (day rollup).
-- The view titles_30d (migration 0011) holds the join.
SELECT title_id, title_name, as_of, viewers, starts, revenue_usd
FROM titles_30d
ORDER BY starts DESC, title_id
LIMIT 50
