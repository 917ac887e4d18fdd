-- One row per (incident_id_a, incident_id_b) in core.incident_links: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT incident_id_a, incident_id_b, count(*) AS copies
FROM core.incident_links
GROUP BY ALL
HAVING count(*) > 1;
