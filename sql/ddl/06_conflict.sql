-- Conflict events: each source's staged events hold the conformed columns first
-- (transforms/conflict_events/schema.py EVENT_COLUMNS), then the source's own, then snapshot_id.
-- tests/test_conflict_e2e.py (test_conflict_staging_tables_match_the_transforms_schemas) keeps these in step.
CREATE TABLE IF NOT EXISTS staging.stg_ucdp_ged_event (
    event_id VARCHAR NOT NULL, source VARCHAR NOT NULL, source_event_id VARCHAR NOT NULL, source_kind VARCHAR NOT NULL,
    event_date DATE NOT NULL, event_date_end DATE, date_precision VARCHAR, country_code_published VARCHAR,
    country_name VARCHAR, iso3 VARCHAR, admin1 VARCHAR, location VARCHAR, latitude DOUBLE, longitude DOUBLE,
    source_event_type VARCHAR, source_sub_event_type VARCHAR, actor1 VARCHAR, actor2 VARCHAR,
    fatalities_best BIGINT, fatalities_low BIGINT, fatalities_high BIGINT, release VARCHAR, source_file VARCHAR,
    relid VARCHAR, year INTEGER, active_year BOOLEAN, code_status VARCHAR, type_of_violence TINYINT,
    conflict_new_id BIGINT, conflict_name VARCHAR, dyad_new_id BIGINT, dyad_name VARCHAR, side_a_new_id BIGINT,
    side_b_new_id BIGINT, where_prec TINYINT, where_description VARCHAR, adm_2 VARCHAR, event_clarity TINYINT,
    date_prec TINYINT, deaths_a BIGINT, deaths_b BIGINT, deaths_civilians BIGINT, deaths_unknown BIGINT,
    gwnoa VARCHAR, gwnob VARCHAR, region VARCHAR, number_of_sources INTEGER, priogrid_gid INTEGER,
    deaths_ordered BOOLEAN,  -- false where UCDP's own low <= best <= high is broken (kept as published)
    snapshot_out_of_order_share DOUBLE,  -- share of its snapshot's events so flagged (the suite allows 2%)
    snapshot_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_acled_event (
    event_id VARCHAR NOT NULL, source VARCHAR NOT NULL, source_event_id VARCHAR NOT NULL, source_kind VARCHAR NOT NULL,
    event_date DATE NOT NULL, event_date_end DATE, date_precision VARCHAR, country_code_published VARCHAR,
    country_name VARCHAR, iso3 VARCHAR, admin1 VARCHAR, location VARCHAR, latitude DOUBLE, longitude DOUBLE,
    source_event_type VARCHAR, source_sub_event_type VARCHAR, actor1 VARCHAR, actor2 VARCHAR,
    fatalities_best BIGINT, fatalities_low BIGINT, fatalities_high BIGINT, release VARCHAR, source_file VARCHAR,
    event_id_cnty VARCHAR, year INTEGER, time_precision TINYINT, disorder_type VARCHAR, sub_event_type VARCHAR,
    inter1 VARCHAR, inter2 VARCHAR, interaction VARCHAR, civilian_targeting VARCHAR, admin2 VARCHAR, admin3 VARCHAR,
    geo_precision TINYINT, reported_by VARCHAR, source_scale VARCHAR, notes VARCHAR, tags VARCHAR,
    "timestamp" TIMESTAMPTZ,  -- when ACLED last changed the event: the newest copy wins across pulls
    region VARCHAR, assoc_actor_1 VARCHAR, assoc_actor_2 VARCHAR,
    snapshot_id VARCHAR NOT NULL
);

-- GDELT is the large one: a lean subset of the 61 columns, codes as text (leading zeros).
CREATE TABLE IF NOT EXISTS staging.stg_gdelt_event (
    event_id VARCHAR NOT NULL, source VARCHAR NOT NULL, source_event_id VARCHAR NOT NULL, source_kind VARCHAR NOT NULL,
    event_date DATE NOT NULL, event_date_end DATE, date_precision VARCHAR, country_code_published VARCHAR,
    country_name VARCHAR, iso3 VARCHAR, admin1 VARCHAR, location VARCHAR, latitude DOUBLE, longitude DOUBLE,
    source_event_type VARCHAR, source_sub_event_type VARCHAR, actor1 VARCHAR, actor2 VARCHAR,
    fatalities_best BIGINT, fatalities_low BIGINT, fatalities_high BIGINT, release VARCHAR, source_file VARCHAR,
    global_event_id BIGINT NOT NULL, date_added TIMESTAMPTZ NOT NULL, actor1_code VARCHAR, actor1_country_code VARCHAR,
    actor2_code VARCHAR, actor2_country_code VARCHAR, is_root_event BOOLEAN, event_code VARCHAR,
    event_base_code VARCHAR, event_root_code VARCHAR, quad_class TINYINT, goldstein_scale FLOAT,
    num_mentions INTEGER, num_sources INTEGER, num_articles INTEGER, avg_tone FLOAT, action_geo_type TINYINT,
    action_geo_feature_id VARCHAR, source_url VARCHAR,
    file_md5 VARCHAR, expected_md5 VARCHAR,  -- the export zip's md5 and the master list's (NULL if imported unzipped)
    snapshot_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_ucdp_acd_conflict_year (
    conflict_id BIGINT NOT NULL, year INTEGER NOT NULL, location VARCHAR, side_a VARCHAR, side_a_id VARCHAR,
    side_a_2nd VARCHAR, side_b VARCHAR, side_b_id VARCHAR, side_b_2nd VARCHAR, incompatibility TINYINT,
    territory_name VARCHAR, intensity_level TINYINT, cumulative_intensity TINYINT, type_of_conflict TINYINT,
    start_date DATE, start_prec TINYINT, start_date2 DATE, start_prec2 TINYINT, ep_end BOOLEAN, ep_end_date DATE,
    ep_end_prec TINYINT, gwno_a VARCHAR, gwno_a_2nd VARCHAR, gwno_b VARCHAR, gwno_b_2nd VARCHAR, gwno_loc VARCHAR,
    region TINYINT[], version VARCHAR, source_file VARCHAR, snapshot_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_ucdp_acd_location (
    conflict_id BIGINT NOT NULL, year INTEGER NOT NULL, gw_code INTEGER NOT NULL, iso3 VARCHAR NOT NULL,
    region TINYINT, snapshot_id VARCHAR NOT NULL
);

-- Each source's event types mapped to one taxonomy (data/reference/conflict_types.csv).
CREATE TABLE IF NOT EXISTS meta.conflict_type_map (
    source VARCHAR NOT NULL, code_level VARCHAR NOT NULL, source_code VARCHAR NOT NULL, event_type VARCHAR NOT NULL,
    is_violent BOOLEAN NOT NULL, note VARCHAR
    -- key (source, code_level, source_code): sql/checks/<table>_key.sql (DuckLake has no constraints)
);

-- CAMEO lookups (GDELT's codebook), codes as text with their leading zeros (data/reference/cameo/).
CREATE TABLE IF NOT EXISTS core.dim_cameo_event_code (
    code VARCHAR NOT NULL, description VARCHAR NOT NULL, root_code VARCHAR NOT NULL,
    level VARCHAR NOT NULL,  -- root (2 digits) | base (3) | event (4)
    goldstein_scale DOUBLE, quad_class TINYINT
);

CREATE TABLE IF NOT EXISTS core.dim_cameo_actor_country (
    code VARCHAR NOT NULL, label VARCHAR NOT NULL
);
