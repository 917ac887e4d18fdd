-- Grain: one preferred value per country, year and measure.
SELECT iso3, year, measure, count(*) AS rows
FROM marts.military_expenditure_country_year
GROUP BY ALL
HAVING count(*) > 1;
