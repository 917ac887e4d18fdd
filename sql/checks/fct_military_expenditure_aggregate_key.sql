-- One row per (source, release, aggregate_code, year, measure) in core.fct_military_expenditure_aggregate: the key DuckLake cannot enforce (it has no PRIMARY KEY).
SELECT source, release, aggregate_code, year, measure, count(*) AS copies
FROM core.fct_military_expenditure_aggregate
GROUP BY ALL
HAVING count(*) > 1;
