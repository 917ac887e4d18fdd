-- How each value moved across a source's releases (e.g. US share of GDP 2020 across SIPRI editions).
-- One row per release in which the value was published, with the previous release's value beside it.
CREATE OR REPLACE TABLE marts.milex_revisions AS
SELECT
    source, iso3, year, measure, unit, release, release_sort, value,
    lag(release) OVER w                       AS previous_release,
    lag(value) OVER w                         AS previous_value,
    value - lag(value) OVER w                 AS change,
    count(*) OVER (PARTITION BY source, iso3, year, measure) AS releases_with_value,
    snapshot_id
FROM core.fct_military_expenditure
WINDOW w AS (PARTITION BY source, iso3, year, measure ORDER BY release_sort, release)
ORDER BY source, iso3, measure, year, release_sort;
