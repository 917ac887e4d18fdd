-- One row per (source, raw_type) in meta.cyber_type_map: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT source, raw_type, count(*) AS copies
FROM meta.cyber_type_map
GROUP BY ALL
HAVING count(*) > 1;
