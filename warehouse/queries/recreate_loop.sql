-- The re-create loop: each derived title's cycle times (signal → script → launch → first view)
-- and its lifetime revenue against its parent's, with both titles' names (their ids when none).
SELECT title_id, parent_title_id, signal_id, signal_to_script_s, script_to_launch_s, launch_to_first_view_s,
       revenue_usd, parent_revenue_usd, revenue_usd / nullIf(parent_revenue_usd, 0) AS revenue_vs_parent,
       title_name, if(parent_name = '', parent_title_id, parent_name) AS parent_title_name
FROM
(
    SELECT title_id, parent_title_id, signal_id, signal_to_script_s, script_to_launch_s, launch_to_first_view_s,
           revenue_usd, if(name = '', title_id, name) AS title_name
    FROM loop_cycles
    ANY LEFT JOIN
    (
        SELECT title_id, revenue_usd, name
        FROM (SELECT title_id, title_name AS name FROM titles) AS named
        ANY LEFT JOIN
        (
            SELECT title_id, sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd) AS revenue_usd
            FROM title_metrics_1d_rollup
            GROUP BY title_id
        ) AS earned USING title_id
    ) AS derived USING title_id
) AS cycles
ANY LEFT JOIN
(
    SELECT parent_title_id, parent_revenue_usd, parent_name
    FROM
    (
        SELECT title_id AS parent_title_id,
               sumMerge(iap_revenue_usd) + sumMerge(ad_revenue_usd) AS parent_revenue_usd
        FROM title_metrics_1d_rollup
        GROUP BY title_id
    ) AS earned
    ANY LEFT JOIN (SELECT title_id AS parent_title_id, title_name AS parent_name FROM titles) AS named
        USING parent_title_id
) AS parents USING parent_title_id
ORDER BY title_id
