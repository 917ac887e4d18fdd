-- One row per (snapshot_id, file_name) in meta.snapshot_files: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT snapshot_id, file_name, count(*) AS copies
FROM meta.snapshot_files
GROUP BY ALL
HAVING count(*) > 1;
