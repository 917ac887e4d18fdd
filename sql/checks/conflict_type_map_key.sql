-- One row per (source, code_level, source_code) in meta.conflict_type_map: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT source, code_level, source_code, count(*) AS copies
FROM meta.conflict_type_map
GROUP BY ALL
HAVING count(*) > 1;
