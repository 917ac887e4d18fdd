-- World Bank WDI values as published: shares already in percent, money already in US dollars.
-- A release seen in several snapshots is taken from the newest one.
-- Every core INSERT is BY NAME: adjacent columns of one type (is_estimate, is_uncertain) cannot swap.
INSERT INTO core.fct_military_expenditure BY NAME
SELECT iso3, year, measure, value, unit, NULL AS currency, 'worldbank' AS source, is_estimate,
       NULL AS is_uncertain, NULL AS price_base_year, release, release_sort, snapshot_id, source_file
FROM staging.stg_worldbank
QUALIFY row_number() OVER (PARTITION BY release, iso3, year, measure ORDER BY snapshot_id DESC) = 1
ORDER BY iso3, year, measure, release;

INSERT INTO core.fct_military_expenditure_aggregate BY NAME
SELECT aggregate_code, aggregate_name, year, measure, value, unit, 'worldbank' AS source,
       release, release_sort, snapshot_id, source_file
FROM staging.stg_worldbank_aggregate
QUALIFY row_number() OVER (PARTITION BY release, aggregate_code, year, measure ORDER BY snapshot_id DESC) = 1
ORDER BY aggregate_code, year, measure, release;
