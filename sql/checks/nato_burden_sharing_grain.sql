-- Grain: one row per Ally, year and source.
SELECT iso3, year, source, count(*) AS rows
FROM marts.nato_burden_sharing
GROUP BY ALL
HAVING count(*) > 1;
