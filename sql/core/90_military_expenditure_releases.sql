-- The newest release per source, country and measure: what "the current figure" means.
-- Per country (not per source) so a partial release, e.g. a SIPRI portal export of 48 countries,
-- updates those countries without hiding the others.
CREATE VIEW core.fct_military_expenditure_latest AS
SELECT *
FROM core.fct_military_expenditure
QUALIFY release_sort = max(release_sort) OVER (PARTITION BY source, iso3, measure);

-- Values as published in one release: SELECT * FROM core.milex_as_published('SIPRI 2024 (data 1949-2024)').
CREATE MACRO core.milex_as_published(wanted_release) AS TABLE
SELECT * FROM core.fct_military_expenditure WHERE release = wanted_release;

-- Every release the warehouse holds, per source.
CREATE VIEW meta.releases AS
SELECT source, release, release_sort, count(*) AS values_published,
       min(year) AS first_year, max(year) AS last_year,
       list(DISTINCT snapshot_id ORDER BY snapshot_id) AS snapshot_ids
FROM core.fct_military_expenditure
GROUP BY source, release, release_sort
ORDER BY source, release_sort;
