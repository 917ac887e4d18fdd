-- One preferred value per country, year and measure, from the latest release of each source, chosen
-- by the stated precedence in meta.source_precedence (data/reference/measure_source_precedence.csv);
-- a measure without a stated precedence takes its sources alphabetically. The runners-up stay visible.
CREATE OR REPLACE TABLE marts.military_expenditure_country_year AS
WITH ranked AS (
    SELECT l.*, coalesce(p.rank, 99) AS precedence,
           count(*) OVER (PARTITION BY l.iso3, l.year, l.measure) AS sources_available,
           list(l.source || '=' || l.value ORDER BY l.source) OVER (PARTITION BY l.iso3, l.year, l.measure) AS all_values
    FROM core.fct_military_expenditure_latest l
    LEFT JOIN meta.source_precedence p USING (measure, source)
)
SELECT iso3, year, measure, value, unit, source, release, is_estimate, is_uncertain, price_base_year,
       precedence, sources_available, all_values, snapshot_id
FROM ranked
QUALIFY row_number() OVER (PARTITION BY iso3, year, measure ORDER BY precedence, source) = 1
ORDER BY iso3, year, measure;
