-- One row per (stix_id) in core.dim_threat_actor: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT stix_id, count(*) AS copies
FROM core.dim_threat_actor
GROUP BY ALL
HAVING count(*) > 1;
