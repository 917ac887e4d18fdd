-- One row per (iso3, year, measure) in meta.value_exceptions: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT iso3, year, measure, count(*) AS copies
FROM meta.value_exceptions
GROUP BY ALL
HAVING count(*) > 1;
