-- World Bank WDI values as published: shares already in percent, money already in US dollars.
-- A release seen in several snapshots is taken from the newest one.
INSERT INTO core.fct_military_expenditure
SELECT iso3, year, measure, value, unit, NULL, 'worldbank', is_estimate, NULL, NULL,
       release, release_sort, snapshot_id, source_file
FROM staging.stg_worldbank
QUALIFY row_number() OVER (PARTITION BY release, iso3, year, measure ORDER BY snapshot_id DESC) = 1
ORDER BY iso3, year, measure, release;

INSERT INTO core.fct_military_expenditure_aggregate
SELECT aggregate_code, aggregate_name, year, measure, value, unit, 'worldbank',
       release, release_sort, snapshot_id, source_file
FROM staging.stg_worldbank_aggregate
QUALIFY row_number() OVER (PARTITION BY release, aggregate_code, year, measure ORDER BY snapshot_id DESC) = 1
ORDER BY aggregate_code, year, measure, release;
