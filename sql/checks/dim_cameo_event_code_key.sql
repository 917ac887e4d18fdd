-- One row per (code) in core.dim_cameo_event_code: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT code, count(*) AS copies
FROM core.dim_cameo_event_code
GROUP BY ALL
HAVING count(*) > 1;
