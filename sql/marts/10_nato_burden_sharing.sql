-- Each Ally, each year since accession, by source (latest release of each): share of GDP against the
-- 2% guideline (Wales 2014) and the Hague 2025 commitment for 2035 (3.5% core defence, 5% in total),
-- distances in US dollars, equipment share against NATO's 20% guideline, and real year-on-year change.
-- GDP: NATO's own GDP table where the source is NATO, else implied by spending / share.
-- NATO's share is of real GDP at constant prices; its dollar distances use current GDP (an approximation).
CREATE OR REPLACE TABLE marts.nato_burden_sharing AS
WITH latest AS (
    SELECT * FROM core.fct_military_expenditure_latest
), share AS (
    SELECT source, release, snapshot_id, iso3, year, value AS share_of_gdp, is_estimate
    FROM latest WHERE measure = 'share_of_gdp'
), measure_by_year AS (
    SELECT source, iso3, year,
           max(value) FILTER (measure = 'current_usd')         AS current_usd,
           max(value) FILTER (measure = 'gdp_current_usd')     AS gdp_current_usd,
           max(value) FILTER (measure = 'equipment_share_pct') AS equipment_share_pct,
           max(value) FILTER (measure = 'real_change_pct')     AS real_change_pct,
           max(value) FILTER (measure = 'constant_usd')        AS constant_usd
    FROM latest
    GROUP BY source, iso3, year
), with_change AS (
    -- NATO states real change; for the others it follows from constant-price spending a year apart.
    SELECT m.*,
           coalesce(m.real_change_pct, 100 * (m.constant_usd / prev.constant_usd - 1)) AS real_change
    FROM measure_by_year m
    LEFT JOIN measure_by_year prev ON prev.source = m.source AND prev.iso3 = m.iso3 AND prev.year = m.year - 1
), joined AS (
    SELECT s.*, c.name AS country_name, c.nato_member_since, m.current_usd, m.equipment_share_pct, m.real_change,
           coalesce(m.gdp_current_usd, m.current_usd / (s.share_of_gdp / 100)) AS gdp_usd
    FROM share s
    JOIN core.dim_country c ON c.iso3 = s.iso3
    LEFT JOIN with_change m ON m.source = s.source AND m.iso3 = s.iso3 AND m.year = s.year
    WHERE c.nato_member_since IS NOT NULL AND s.year >= c.nato_member_since AND s.share_of_gdp > 0
)
SELECT
    iso3, country_name, nato_member_since, year, source, release,
    share_of_gdp, is_estimate,
    current_usd                                      AS military_expenditure_usd,
    gdp_usd,
    share_of_gdp >= 2.0                              AS meets_2pct,
    share_of_gdp >= 3.5                              AS meets_3_5pct_core,
    share_of_gdp >= 5.0                              AS meets_5pct_total,
    round(2.0 - share_of_gdp, 6)                     AS gap_to_2pct_pp,
    greatest(0, gdp_usd * (2.0 - share_of_gdp) / 100) AS usd_to_2pct,
    greatest(0, gdp_usd * (3.5 - share_of_gdp) / 100) AS usd_to_3_5pct_core,
    greatest(0, gdp_usd * (5.0 - share_of_gdp) / 100) AS usd_to_5pct_total,
    equipment_share_pct,
    equipment_share_pct >= 20.0                      AS meets_20pct_equipment,
    real_change                                      AS real_change_pct,
    snapshot_id
FROM joined
ORDER BY year, iso3, source;
