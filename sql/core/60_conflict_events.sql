-- Conflict events of every source in one shape, with one taxonomy from meta.conflict_type_map.
-- A view, not a table: GDELT adds millions of rows, and copying them again at every publish would make
-- publishing cost grow with history twice over. DuckDB plans through the view as if it were the tables.
--
-- Overlaps between snapshots are resolved here, never merged silently:
--  * UCDP: the same event id in several releases keeps the newest final release, then the newest candidate,
--    then an undated copy (HDX extracts name no release). Candidate events of a month that a final release
--    already covers are dropped: the final release replaces the candidates of its period.
--  * ACLED: the same event id in several pulls keeps the one ACLED updated last (`timestamp`).
--  * GDELT: every 15-minute file is its own snapshot; ids do not repeat across files.
CREATE OR REPLACE VIEW core.ucdp_ged_event_current AS
WITH ranked AS (
    SELECT *,
           release IS NOT NULL AND release NOT LIKE '%.0.%' AS is_final_release,
           coalesce(release LIKE '%.0.%', false) AS is_candidate_release,
           list_transform(string_split(coalesce(release, '0'), '.'), lambda x: TRY_CAST(x AS INTEGER)) AS release_order
    FROM staging.stg_ucdp_ged_event
), deduplicated AS (
    SELECT * FROM ranked
    QUALIFY row_number() OVER (PARTITION BY event_id
                               ORDER BY is_final_release DESC, release_order DESC, snapshot_id DESC) = 1
)
SELECT * EXCLUDE (release_order)
FROM deduplicated
WHERE NOT is_candidate_release
   OR date_trunc('month', event_date) > (SELECT coalesce(max(date_trunc('month', event_date)), DATE '0001-01-01')
                                         FROM ranked WHERE is_final_release);

CREATE OR REPLACE VIEW core.acled_event_current AS
SELECT * FROM staging.stg_acled_event
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY "timestamp" DESC NULLS LAST, snapshot_id DESC) = 1;

CREATE OR REPLACE VIEW core.fct_conflict_event AS
WITH events AS (
    -- BY NAME: a column one source lacks (GDELT's CAMEO base code, UCDP's release) is NULL for the others.
    SELECT * FROM core.ucdp_ged_event_current
    UNION ALL BY NAME SELECT * FROM core.acled_event_current
    UNION ALL BY NAME SELECT * FROM staging.stg_gdelt_event
)
SELECT e.event_id, e.source, e.source_event_id, e.source_kind, e.event_date, e.event_date_end, e.date_precision,
       e.iso3, e.country_code_published, e.country_name, e.admin1, e.location, e.latitude, e.longitude,
       coalesce(b.event_type, t.event_type) AS event_type,
       coalesce(b.is_violent, t.is_violent) AS is_violent,
       e.source_event_type, e.source_sub_event_type, e.quad_class, e.goldstein_scale,
       e.actor1, e.actor2, e.fatalities_best, e.fatalities_low, e.fatalities_high, e.release,
       e.source_file, e.snapshot_id
FROM events e
LEFT JOIN meta.conflict_type_map t
       ON t.source = e.source AND t.source_code = e.source_event_type AND t.code_level <> 'base'
LEFT JOIN meta.conflict_type_map b
       ON b.source = e.source AND b.code_level = 'base' AND b.source_code = e.event_base_code;

-- UCDP/PRIO conflict-years with their locations resolved (latest release only).
CREATE OR REPLACE VIEW core.fct_armed_conflict_year AS
SELECT * FROM staging.stg_ucdp_acd_conflict_year;

CREATE OR REPLACE VIEW core.brg_armed_conflict_location AS
SELECT * FROM staging.stg_ucdp_acd_location;
