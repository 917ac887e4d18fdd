-- Shares are percentages, 0 to 100, except reviewed real outliers (meta.value_exceptions).
-- Real change (percent, may be negative or above 100) is not a share.
SELECT f.source, f.iso3, f.year, f.measure, f.value
FROM core.fct_military_expenditure f
LEFT JOIN meta.value_exceptions x USING (iso3, year, measure)
WHERE f.unit = 'percent' AND f.measure LIKE '%share%'
  AND (f.value < 0 OR (f.value > 100 AND x.iso3 IS NULL));
