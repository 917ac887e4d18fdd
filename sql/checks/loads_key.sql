-- One row per (table_name, snapshot_id) in meta.loads: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT table_name, snapshot_id, count(*) AS copies
FROM meta.loads
GROUP BY ALL
HAVING count(*) > 1;
