-- One row per (incident_id) in core.fct_cyber_incident: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT incident_id, count(*) AS copies
FROM core.fct_cyber_incident
GROUP BY ALL
HAVING count(*) > 1;
