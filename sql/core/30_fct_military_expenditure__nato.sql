-- NATO's tables in our units (the parser converted millions and thousands): shares are of real GDP,
-- constant prices at NATO's base year, 2024e-style years flagged as estimates.
INSERT INTO core.fct_military_expenditure BY NAME
SELECT iso3, year, measure, value, unit, currency, 'nato' AS source, is_estimate, NULL AS is_uncertain,
       price_base_year,
       release, release_sort, snapshot_id, source_file
FROM staging.stg_nato
QUALIFY row_number() OVER (PARTITION BY release, iso3, year, measure ORDER BY snapshot_id DESC) = 1
ORDER BY iso3, year, measure, release;

INSERT INTO core.fct_military_expenditure_aggregate BY NAME
SELECT upper(regexp_replace(aggregate_name, '[^A-Za-z]+', '_', 'g')) AS aggregate_code, aggregate_name, year, measure,
       value, unit, 'nato' AS source,
       release, release_sort, snapshot_id, source_file
FROM staging.stg_nato_aggregate
QUALIFY row_number() OVER (PARTITION BY release, aggregate_name, year, measure ORDER BY snapshot_id DESC) = 1
ORDER BY aggregate_name, year, measure, release;
