-- One row per (code) in core.dim_cameo_actor_country: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT code, count(*) AS copies
FROM core.dim_cameo_actor_country
GROUP BY ALL
HAVING count(*) > 1;
