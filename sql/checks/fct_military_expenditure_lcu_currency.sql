-- A local-currency value is meaningless without its currency; other units never carry one.
SELECT source, iso3, year, measure, unit, currency
FROM core.fct_military_expenditure
WHERE (unit = 'lcu') <> (currency IS NOT NULL);
