-- Grain: one row per state, year, role, conformed type and source.
SELECT iso3, year, role, incident_type, source, count(*) AS rows
FROM marts.cyber_incidents_by_country_year
GROUP BY ALL
HAVING count(*) > 1;
