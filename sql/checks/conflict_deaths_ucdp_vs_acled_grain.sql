-- Grain: one row per country and year.
SELECT iso3, year, count(*) AS rows
FROM marts.conflict_deaths_ucdp_vs_acled
GROUP BY ALL
HAVING count(*) > 1;
