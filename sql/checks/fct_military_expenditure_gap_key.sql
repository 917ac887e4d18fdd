-- One row per (source, release, iso3, year, measure) in core.fct_military_expenditure_gap: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT source, release, iso3, year, measure, count(*) AS copies
FROM core.fct_military_expenditure_gap
GROUP BY ALL
HAVING count(*) > 1;
