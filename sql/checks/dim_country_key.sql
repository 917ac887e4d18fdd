-- One row per (iso3) in core.dim_country: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT iso3, count(*) AS copies
FROM core.dim_country
GROUP BY ALL
HAVING count(*) > 1;
