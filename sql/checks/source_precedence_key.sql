-- One row per (measure, source) in meta.source_precedence: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT measure, source, count(*) AS copies
FROM meta.source_precedence
GROUP BY ALL
HAVING count(*) > 1;
