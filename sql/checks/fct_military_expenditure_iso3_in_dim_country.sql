-- Every fact row resolves to a country of the crosswalk.
SELECT f.source, f.iso3, f.year, f.measure
FROM core.fct_military_expenditure f
LEFT JOIN core.dim_country c USING (iso3)
WHERE c.iso3 IS NULL;
