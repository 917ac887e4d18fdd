-- Grain: one row per month.
SELECT month, count(*) AS rows
FROM marts.kev_monthly
GROUP BY ALL
HAVING count(*) > 1;
