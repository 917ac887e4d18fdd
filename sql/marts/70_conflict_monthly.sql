-- Events and fatalities by country, month and source. `source_kind` keeps GDELT's media-coded events
-- apart from UCDP's and ACLED's researcher-verified ones: GDELT counts reports of events, not deaths, so its
-- fatality columns stay NULL (never zero). Months are those of the event date (GDELT: SQLDATE).
CREATE OR REPLACE TABLE marts.conflict_monthly AS
SELECT iso3,
       CAST(date_trunc('month', event_date) AS DATE) AS month,
       source,
       source_kind,
       count(*) AS events,
       count(*) FILTER (WHERE is_violent) AS violent_events,
       -- CAMEO QuadClass 4 exists only for media-coded events; NULL for the others, not zero.
       CASE WHEN source_kind = 'media_coded' THEN count(*) FILTER (WHERE quad_class = 4) END AS material_conflict_events,
       sum(fatalities_best) AS fatalities_best,
       sum(fatalities_low) AS fatalities_low,
       sum(fatalities_high) AS fatalities_high
FROM core.fct_conflict_event
WHERE iso3 IS NOT NULL
GROUP BY iso3, month, source, source_kind
ORDER BY month, iso3, source;
