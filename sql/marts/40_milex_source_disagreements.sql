-- Where two sources disagree on an Ally's share of GDP by more than the documented tolerance.
-- Tolerance: 0.5 percentage points. NATO measures against real GDP and includes items SIPRI and the
-- World Bank may not (and vice versa), so differences of a few tenths are normal; beyond half a point
-- one of the figures deserves a look (a revision not yet absorbed, a definition change, an error).
CREATE OR REPLACE TABLE marts.milex_source_disagreements AS
WITH share AS (
    SELECT l.source, l.release, l.snapshot_id, l.iso3, l.year, l.value
    FROM core.fct_military_expenditure_latest l
    JOIN core.dim_country c USING (iso3)
    WHERE l.measure = 'share_of_gdp' AND c.nato_member_since IS NOT NULL AND l.year >= c.nato_member_since
)
SELECT a.iso3, a.year,
       a.source AS source_a, a.value AS share_of_gdp_a, a.release AS release_a, a.snapshot_id AS snapshot_a,
       b.source AS source_b, b.value AS share_of_gdp_b, b.release AS release_b, b.snapshot_id AS snapshot_b,
       round(a.value - b.value, 6) AS difference_pp,
       0.5 AS tolerance_pp
FROM share a
JOIN share b ON a.iso3 = b.iso3 AND a.year = b.year AND a.source < b.source
WHERE abs(a.value - b.value) > 0.5
ORDER BY abs(a.value - b.value) DESC, a.iso3, a.year;
