-- Grain: one row per source, country, year, measure and release.
SELECT source, iso3, year, measure, release, count(*) AS rows
FROM marts.milex_revisions
GROUP BY ALL
HAVING count(*) > 1;
