-- Completion and payer rate by adaptation (native, localized, western) over the last 30 closed
-- days: the payer rate from adaptation_reach_latest (exact distinct users, finalized by
-- warehouse.maintain), completion from the day rollup over the same days. The cultural discount
-- is 1 - native / localized of either rate. adaptation_kpis is the same over all time. The view
-- adaptation_30d (migration 0011) holds the joins.
SELECT adaptation, as_of, completion_rate, payer_rate
FROM adaptation_30d
ORDER BY adaptation
