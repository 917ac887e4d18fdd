-- Every iso3 of core.brg_incident_target is a country of core.dim_country (DuckLake has no foreign keys).
SELECT DISTINCT t.iso3
FROM core.brg_incident_target t
ANTI JOIN core.dim_country c ON c.iso3 = t.iso3
WHERE t.iso3 IS NOT NULL
ORDER BY 1;
