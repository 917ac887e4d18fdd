-- One row per (snapshot_id) in meta.snapshots: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT snapshot_id, count(*) AS copies
FROM meta.snapshots
GROUP BY ALL
HAVING count(*) > 1;
