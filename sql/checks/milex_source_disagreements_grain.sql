-- Grain: one row per Ally, year and pair of sources.
SELECT iso3, year, source_a, source_b, count(*) AS rows
FROM marts.milex_source_disagreements
GROUP BY ALL
HAVING count(*) > 1;
