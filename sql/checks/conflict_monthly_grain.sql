-- Grain: one row per country, month and source (a source has one source_kind).
SELECT iso3, month, source, count(*) AS rows
FROM marts.conflict_monthly
GROUP BY ALL
HAVING count(*) > 1;
