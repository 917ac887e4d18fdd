-- Grain: one current value per source, country, year and measure (ties on release_sort broken in the view).
SELECT source, iso3, year, measure, count(*) AS rows
FROM core.fct_military_expenditure_latest
GROUP BY ALL
HAVING count(*) > 1;
