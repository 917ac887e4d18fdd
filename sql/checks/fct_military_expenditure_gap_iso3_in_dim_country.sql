-- Every iso3 of core.fct_military_expenditure_gap is a country of core.dim_country (DuckLake has no foreign keys).
SELECT DISTINCT t.iso3
FROM core.fct_military_expenditure_gap t
ANTI JOIN core.dim_country c ON c.iso3 = t.iso3
WHERE t.iso3 IS NOT NULL
ORDER BY 1;
