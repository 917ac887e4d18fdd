-- The newest release per source, country and measure: what "the current figure" means.
-- Per country (not per source) so a partial release, e.g. a SIPRI portal export of 48 countries,
-- updates those countries without hiding the others.
-- Exactly one release per source, country and measure, so one row per (source, iso3, year, measure):
-- releases tied on release_sort (two editions labelled differently with one sort key, a WDI release
-- dated and the same day's undated retrieval) are broken by the newest snapshot that holds the release,
-- then by the release label, descending. One release is taken whole, never a mix of years of both.
CREATE OR REPLACE VIEW core.fct_military_expenditure_latest AS
WITH chosen AS (
    SELECT source, iso3, measure, release
    FROM core.fct_military_expenditure
    GROUP BY source, iso3, measure, release, release_sort
    QUALIFY row_number() OVER (PARTITION BY source, iso3, measure
                               ORDER BY release_sort DESC, max(snapshot_id) DESC, release DESC) = 1
)
SELECT f.*
FROM core.fct_military_expenditure f
SEMI JOIN chosen c
       ON c.source = f.source AND c.iso3 = f.iso3 AND c.measure = f.measure AND c.release = f.release;

-- Values as published in one release: SELECT * FROM core.milex_as_published('SIPRI 2024 (data 1949-2024)').
CREATE OR REPLACE MACRO core.milex_as_published(wanted_release) AS TABLE
SELECT * FROM core.fct_military_expenditure WHERE release = wanted_release;

-- Every release the warehouse holds, per source.
CREATE OR REPLACE VIEW meta.releases AS
SELECT source, release, release_sort, count(*) AS values_published,
       min(year) AS first_year, max(year) AS last_year,
       list(DISTINCT snapshot_id ORDER BY snapshot_id) AS snapshot_ids
FROM core.fct_military_expenditure
GROUP BY source, release, release_sort
ORDER BY source, release_sort;
