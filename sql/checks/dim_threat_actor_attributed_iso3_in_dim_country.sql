-- Every attributed_iso3 of core.dim_threat_actor is a country of core.dim_country (DuckLake has no foreign keys).
SELECT DISTINCT t.attributed_iso3
FROM core.dim_threat_actor t
ANTI JOIN core.dim_country c ON c.iso3 = t.attributed_iso3
WHERE t.attributed_iso3 IS NOT NULL
ORDER BY 1;
