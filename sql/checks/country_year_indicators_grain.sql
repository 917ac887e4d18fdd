-- Grain: one row per country and year.
SELECT iso3, year, count(*) AS rows
FROM marts.country_year_indicators
GROUP BY ALL
HAVING count(*) > 1;
