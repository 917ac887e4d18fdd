-- Each Ally, each year since accession, by source: share of GDP against the 2% guideline (Wales 2014)
-- and the Hague 2025 commitment (3.5% core defence, 5% total incl. up to 1.5% resilience, by 2035).
-- Distances in US dollars are derived from the same source's current-US$ spending:
-- GDP = spending / share, so the gap to a target t is GDP * (t - share) / 100.
CREATE TABLE marts.nato_burden_sharing AS
WITH share AS (
    SELECT source, release, snapshot_id, iso3, year, value AS share_of_gdp, is_estimate
    FROM core.fct_military_expenditure_latest WHERE measure = 'share_of_gdp'
), spend AS (
    SELECT source, iso3, year, value AS current_usd
    FROM core.fct_military_expenditure_latest WHERE measure = 'current_usd'
)
SELECT
    c.iso3,
    c.name                                   AS country_name,
    c.nato_member_since,
    s.year,
    s.source,
    s.share_of_gdp,
    s.is_estimate,
    p.current_usd                            AS military_expenditure_usd,
    p.current_usd / (s.share_of_gdp / 100)   AS gdp_usd,
    s.share_of_gdp >= 2.0                    AS meets_2pct,
    s.share_of_gdp >= 3.5                    AS meets_3_5pct_core,
    s.share_of_gdp >= 5.0                    AS meets_5pct_total,
    round(2.0 - s.share_of_gdp, 6)           AS gap_to_2pct_pp,
    greatest(0, p.current_usd / (s.share_of_gdp / 100) * (2.0 - s.share_of_gdp) / 100) AS usd_to_2pct,
    greatest(0, p.current_usd / (s.share_of_gdp / 100) * (3.5 - s.share_of_gdp) / 100) AS usd_to_3_5pct_core,
    greatest(0, p.current_usd / (s.share_of_gdp / 100) * (5.0 - s.share_of_gdp) / 100) AS usd_to_5pct_total,
    s.release,
    s.snapshot_id
FROM share s
JOIN core.dim_country c ON c.iso3 = s.iso3
LEFT JOIN spend p ON p.source = s.source AND p.iso3 = s.iso3 AND p.year = s.year
WHERE c.nato_member_since IS NOT NULL
  AND s.year >= c.nato_member_since
  AND s.share_of_gdp > 0
ORDER BY s.year, c.iso3, s.source;
