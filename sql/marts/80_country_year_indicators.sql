-- One row per country and year joining defence, cyber and conflict. A count is NULL outside its source's
-- coverage and zero only inside it, so "no data" never reads as "nothing happened":
--  * UCDP GED releases (final or candidate) are global: every country-year inside their years is covered.
--    An extract without a release (HDX per-country files) covers only its own country, for its years.
--  * ACLED is loaded per country (exports and API pulls are filtered by country or region): covered
--    country-years are a country's first to last year in the data.
--  * GDELT is global for the years it was loaded; `gdelt_days_covered` says how much of the year that is.
--  * Cyber incident catalogues (EuRepoC, CFR, DCID) are global between their first and last incident year.
-- Defence values are measurements, not counts: NULL where no source published one.
CREATE OR REPLACE TABLE marts.country_year_indicators AS
WITH gdelt_days AS (
    SELECT year(date_added) AS year, count(DISTINCT CAST(date_added AS DATE)) AS days
    FROM staging.stg_gdelt_event GROUP BY ALL
), years AS (
    SELECT min(y) AS first_year, max(y) AS last_year FROM (
        SELECT year AS y FROM marts.military_expenditure_country_year
        UNION ALL SELECT year(start_date) FROM core.fct_cyber_incident
        UNION ALL SELECT year(month) FROM marts.conflict_monthly WHERE source_kind = 'verified_event'
        UNION ALL SELECT year FROM gdelt_days)
), spine AS (
    SELECT c.iso3, c.name AS country_name, y.year, c.nato_member_since IS NOT NULL AND y.year >= c.nato_member_since AS nato_member
    FROM core.dim_country c,
         (SELECT unnest(range(first_year, last_year + 1)) AS year FROM years WHERE first_year IS NOT NULL) y
    WHERE (c.valid_from IS NULL OR y.year >= c.valid_from) AND (c.valid_until IS NULL OR y.year <= c.valid_until)
), milex AS (
    SELECT iso3, year,
           max(value) FILTER (WHERE measure = 'share_of_gdp') AS milex_share_of_gdp,
           max(source) FILTER (WHERE measure = 'share_of_gdp') AS milex_share_of_gdp_source,
           max(value) FILTER (WHERE measure = 'current_usd') AS milex_current_usd,
           max(source) FILTER (WHERE measure = 'current_usd') AS milex_current_usd_source
    FROM marts.military_expenditure_country_year GROUP BY ALL
), cyber_years AS (
    SELECT min(year(start_date)) AS first_year, max(year(start_date)) AS last_year FROM core.fct_cyber_incident
), cyber AS (
    SELECT iso3, year,
           sum(incidents) FILTER (WHERE role = 'initiator') AS initiated,
           sum(incidents) FILTER (WHERE role = 'target') AS targeted
    FROM (SELECT iso3, year, role, count(DISTINCT incident_id) AS incidents
          FROM (SELECT incident_id, iso3, 'initiator' AS role FROM core.brg_incident_initiator
                UNION SELECT incident_id, iso3, 'target' FROM core.brg_incident_target)
          JOIN core.fct_cyber_incident USING (incident_id)
          CROSS JOIN LATERAL (SELECT year(start_date) AS year)
          WHERE iso3 IS NOT NULL AND start_date IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
), conflict AS (
    -- From the monthly mart, not the events: GDELT's millions of rows are aggregated once per publish.
    SELECT iso3, year(month) AS year,
           sum(events) FILTER (WHERE source = 'ucdp_ged') AS ucdp_events,
           sum(fatalities_best) FILTER (WHERE source = 'ucdp_ged') AS ucdp_deaths_best,
           sum(fatalities_low) FILTER (WHERE source = 'ucdp_ged') AS ucdp_deaths_low,
           sum(fatalities_high) FILTER (WHERE source = 'ucdp_ged') AS ucdp_deaths_high,
           sum(events) FILTER (WHERE source = 'acled') AS acled_events,
           sum(fatalities_best) FILTER (WHERE source = 'acled') AS acled_fatalities,
           sum(events) FILTER (WHERE source = 'gdelt') AS gdelt_events,
           sum(material_conflict_events) FILTER (WHERE source = 'gdelt') AS gdelt_material_conflict_events
    FROM marts.conflict_monthly GROUP BY ALL
), ucdp_global AS (
    SELECT DISTINCT year(event_date) AS year FROM core.ucdp_ged_event_current WHERE release IS NOT NULL
), ucdp_years AS (SELECT min(year) AS first_year, max(year) AS last_year FROM ucdp_global
), ucdp_country AS (
    SELECT iso3, min(year(event_date)) AS first_year, max(year(event_date)) AS last_year
    FROM core.ucdp_ged_event_current WHERE release IS NULL AND iso3 IS NOT NULL GROUP BY iso3
), acled_country AS (
    SELECT iso3, min(year(event_date)) AS first_year, max(year(event_date)) AS last_year
    FROM core.acled_event_current WHERE iso3 IS NOT NULL GROUP BY iso3

)
SELECT s.iso3, s.country_name, s.year, s.nato_member,
       m.milex_share_of_gdp, m.milex_share_of_gdp_source, m.milex_current_usd, m.milex_current_usd_source,
       CASE WHEN s.year BETWEEN cy.first_year AND cy.last_year THEN coalesce(cb.initiated, 0) END AS cyber_incidents_initiated,
       CASE WHEN s.year BETWEEN cy.first_year AND cy.last_year THEN coalesce(cb.targeted, 0) END AS cyber_incidents_targeted,
       CASE WHEN s.year BETWEEN uy.first_year AND uy.last_year OR s.year BETWEEN uc.first_year AND uc.last_year
            THEN coalesce(k.ucdp_events, 0) END AS ucdp_events,
       CASE WHEN s.year BETWEEN uy.first_year AND uy.last_year OR s.year BETWEEN uc.first_year AND uc.last_year
            THEN coalesce(k.ucdp_deaths_best, 0) END AS ucdp_deaths_best,
       CASE WHEN s.year BETWEEN uy.first_year AND uy.last_year OR s.year BETWEEN uc.first_year AND uc.last_year
            THEN coalesce(k.ucdp_deaths_low, 0) END AS ucdp_deaths_low,
       CASE WHEN s.year BETWEEN uy.first_year AND uy.last_year OR s.year BETWEEN uc.first_year AND uc.last_year
            THEN coalesce(k.ucdp_deaths_high, 0) END AS ucdp_deaths_high,
       CASE WHEN s.year BETWEEN ac.first_year AND ac.last_year THEN coalesce(k.acled_events, 0) END AS acled_events,
       CASE WHEN s.year BETWEEN ac.first_year AND ac.last_year THEN coalesce(k.acled_fatalities, 0) END AS acled_fatalities,
       CASE WHEN g.days IS NOT NULL THEN coalesce(k.gdelt_events, 0) END AS gdelt_events,
       CASE WHEN g.days IS NOT NULL THEN coalesce(k.gdelt_material_conflict_events, 0) END AS gdelt_material_conflict_events,
       g.days AS gdelt_days_covered
FROM spine s
LEFT JOIN milex m USING (iso3, year)
LEFT JOIN cyber cb USING (iso3, year)
LEFT JOIN conflict k USING (iso3, year)
CROSS JOIN cyber_years cy
CROSS JOIN ucdp_years uy
LEFT JOIN ucdp_country uc ON uc.iso3 = s.iso3
LEFT JOIN acled_country ac ON ac.iso3 = s.iso3
LEFT JOIN gdelt_days g ON g.year = s.year
ORDER BY s.iso3, s.year;
