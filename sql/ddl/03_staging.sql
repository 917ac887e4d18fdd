-- Staged tables exactly as validated in the lake; publish inserts BY NAME so drift fails loudly.
CREATE TABLE IF NOT EXISTS staging.stg_worldbank (
    iso3              VARCHAR NOT NULL,
    country_code      VARCHAR NOT NULL,
    country_name      VARCHAR NOT NULL,
    indicator_code    VARCHAR NOT NULL,
    measure           VARCHAR NOT NULL,
    unit              VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    value             DOUBLE NOT NULL,
    is_estimate       BOOLEAN,
    release           VARCHAR NOT NULL,
    release_sort      VARCHAR NOT NULL,
    snapshot_id       VARCHAR NOT NULL,
    source_file       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_worldbank_aggregate (
    aggregate_code    VARCHAR NOT NULL,
    aggregate_name    VARCHAR NOT NULL,
    indicator_code    VARCHAR NOT NULL,
    measure           VARCHAR NOT NULL,
    unit              VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    value             DOUBLE NOT NULL,
    release           VARCHAR NOT NULL,
    release_sort      VARCHAR NOT NULL,
    snapshot_id       VARCHAR NOT NULL,
    source_file       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_nato (
    country_name          VARCHAR NOT NULL,
    has_national_2pct_law BOOLEAN,
    iso3                  VARCHAR NOT NULL,
    currency              VARCHAR,
    year                  INTEGER NOT NULL,
    measure               VARCHAR NOT NULL,
    value                 DOUBLE NOT NULL,
    unit                  VARCHAR NOT NULL,
    is_estimate           BOOLEAN,
    price_base_year       INTEGER,
    "table"               VARCHAR NOT NULL,
    block                 VARCHAR,
    source_file           VARCHAR NOT NULL,
    snapshot_id           VARCHAR NOT NULL,
    release               VARCHAR NOT NULL,
    release_sort          VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_nato_aggregate (
    aggregate_name        VARCHAR NOT NULL,
    year                  INTEGER NOT NULL,
    measure               VARCHAR NOT NULL,
    value                 DOUBLE NOT NULL,
    unit                  VARCHAR NOT NULL,
    is_estimate           BOOLEAN,
    price_base_year       INTEGER,
    "table"               VARCHAR NOT NULL,
    block                 VARCHAR,
    source_file           VARCHAR NOT NULL,
    snapshot_id           VARCHAR NOT NULL,
    release               VARCHAR NOT NULL,
    release_sort          VARCHAR NOT NULL
);

-- SIPRI: every cell that holds a value or a status marker; value is NULL unless status = 'value'.
CREATE TABLE IF NOT EXISTS staging.stg_sipri (
    country_name      VARCHAR NOT NULL,
    iso3              VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    measure           VARCHAR NOT NULL,
    value             DOUBLE,
    unit              VARCHAR NOT NULL,
    status            VARCHAR NOT NULL,    -- value | missing | not_a_state ('xxx')
    is_estimate       BOOLEAN,
    is_uncertain      BOOLEAN,
    price_base_year   INTEGER,
    currency          VARCHAR,
    fiscal_year       VARCHAR,
    notes_raw         VARCHAR,
    note_symbols      VARCHAR[],
    footnote_ids      INTEGER[],
    sheet             VARCHAR NOT NULL,
    source_file       VARCHAR NOT NULL,
    snapshot_id       VARCHAR NOT NULL,
    release_label     VARCHAR NOT NULL,
    release_year      INTEGER NOT NULL,
    data_last_year    INTEGER NOT NULL,
    is_portal_export  BOOLEAN NOT NULL,
    release_sort      VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_sipri_regional (
    region            VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    measure           VARCHAR NOT NULL,
    value             DOUBLE,
    unit              VARCHAR NOT NULL,
    status            VARCHAR NOT NULL,
    is_uncertain      BOOLEAN,
    price_base_year   INTEGER,
    omitted_countries VARCHAR,
    sheet             VARCHAR NOT NULL,
    source_file       VARCHAR NOT NULL,
    snapshot_id       VARCHAR NOT NULL,
    release_label     VARCHAR NOT NULL,
    release_year      INTEGER NOT NULL,
    data_last_year    INTEGER NOT NULL,
    is_portal_export  BOOLEAN NOT NULL,
    release_sort      VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_sipri_footnote (
    footnote_id       INTEGER,             -- numbered footnotes; NULL for the symbol legend rows
    symbol            VARCHAR,             -- † ‡ § ¶ ‖
    flag              VARCHAR,
    text              VARCHAR,
    source_file       VARCHAR NOT NULL,
    snapshot_id       VARCHAR NOT NULL,
    release           VARCHAR NOT NULL
);

-- Cyber incident sources (eurepoc, cfr, dcid) stage into one conformed shape (transforms/cyber_incidents/schema.py).
CREATE TABLE IF NOT EXISTS staging.stg_cyber_incident (
    incident_id        VARCHAR NOT NULL,
    source             VARCHAR NOT NULL,
    source_incident_id VARCHAR NOT NULL,
    title              VARCHAR,
    description        VARCHAR,
    start_date         DATE,
    date_precision     VARCHAR,
    end_date           DATE,
    end_date_precision VARCHAR,
    incident_types_raw VARCHAR[],
    source_file        VARCHAR NOT NULL,
    snapshot_id        VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_cyber_initiator (
    incident_id        VARCHAR NOT NULL,
    country_raw        VARCHAR,
    iso3               VARCHAR,
    actor              VARCHAR,
    actor_type         VARCHAR,
    attribution_basis  VARCHAR,
    snapshot_id        VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_cyber_target (
    incident_id        VARCHAR NOT NULL,
    country_raw        VARCHAR,
    iso3               VARCHAR,
    sector             VARCHAR,
    snapshot_id        VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_cisa_kev (
    cve_id             VARCHAR NOT NULL,
    vendor_project     VARCHAR NOT NULL,
    product            VARCHAR NOT NULL,
    vulnerability_name VARCHAR,
    date_added         DATE NOT NULL,
    short_description  VARCHAR,
    required_action    VARCHAR,
    due_date           DATE,
    known_ransomware_campaign_use VARCHAR NOT NULL,
    notes              VARCHAR,
    cwes               VARCHAR[],
    catalog_version    VARCHAR NOT NULL,
    date_released      TIMESTAMPTZ,
    source_file        VARCHAR NOT NULL,
    snapshot_id        VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.stg_mitre_attack_group (
    stix_id            VARCHAR NOT NULL,
    attack_id          VARCHAR,
    name               VARCHAR NOT NULL,
    aliases            VARCHAR[],
    description        VARCHAR,
    created            TIMESTAMPTZ,
    modified           TIMESTAMPTZ,
    revoked            BOOLEAN NOT NULL,
    deprecated         BOOLEAN NOT NULL,
    domains            VARCHAR[],
    version            VARCHAR,
    source_file        VARCHAR NOT NULL,
    attributed_iso3    VARCHAR,
    attribution_basis  VARCHAR,
    attribution_rule   VARCHAR,
    snapshot_id        VARCHAR NOT NULL
);
