-- One row per (source) in meta.source_licences: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT source, count(*) AS copies
FROM meta.source_licences
GROUP BY ALL
HAVING count(*) > 1;
