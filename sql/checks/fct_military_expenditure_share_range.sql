-- Shares are percentages, 0 to 100.
SELECT source, iso3, year, measure, value
FROM core.fct_military_expenditure
WHERE unit = 'percent' AND (value < 0 OR value > 100);
