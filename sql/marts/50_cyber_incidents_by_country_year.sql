-- Incidents per state and year, as initiator and as target, by conformed type and source.
-- Year-precision incidents count in their year; undated incidents are left out (they have no year).
CREATE OR REPLACE TABLE marts.cyber_incidents_by_country_year AS
WITH roles AS (
    SELECT incident_id, iso3, 'initiator' AS role FROM core.brg_incident_initiator WHERE iso3 IS NOT NULL
    UNION
    SELECT incident_id, iso3, 'target' AS role FROM core.brg_incident_target WHERE iso3 IS NOT NULL
)
SELECT r.iso3, c.name AS country_name, year(i.start_date) AS year, r.role, i.incident_type, i.source,
       count(DISTINCT i.incident_id) AS incidents
FROM roles r
JOIN core.fct_cyber_incident i USING (incident_id)
JOIN core.dim_country c ON c.iso3 = r.iso3
WHERE i.start_date IS NOT NULL
GROUP BY ALL
ORDER BY year, r.iso3, r.role, i.incident_type, i.source;
