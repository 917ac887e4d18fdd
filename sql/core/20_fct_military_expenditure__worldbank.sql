-- World Bank WDI values as published: shares already in percent, money already in US dollars.
INSERT INTO core.fct_military_expenditure
SELECT iso3, year, measure, value, unit, 'worldbank', is_estimate, snapshot_id, source_file
FROM staging.stg_worldbank
ORDER BY iso3, year, measure;

INSERT INTO core.fct_military_expenditure_aggregate
SELECT aggregate_code, aggregate_name, year, measure, value, unit, 'worldbank', snapshot_id, source_file
FROM staging.stg_worldbank_aggregate
ORDER BY aggregate_code, year, measure;
