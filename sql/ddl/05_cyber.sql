-- Cyber incidents, conformed. Every claim keeps its source: incident ids are
-- source-prefixed ('eurepoc:1234'), and the same event reported twice is linked, never merged.
CREATE TABLE IF NOT EXISTS core.fct_cyber_incident (
    incident_id        VARCHAR NOT NULL,
    source             VARCHAR NOT NULL,
    source_incident_id VARCHAR NOT NULL,
    start_date         DATE,
    date_precision     VARCHAR,          -- day | month | year; NULL when the source gives no date
    end_date           DATE,
    end_date_precision VARCHAR,
    title              VARCHAR,
    incident_type      VARCHAR NOT NULL, -- the first of incident_types (publisher's order), 'unknown' if none
    incident_types     VARCHAR[] NOT NULL,
    description        VARCHAR,
    snapshot_id        VARCHAR NOT NULL,
    source_file        VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.brg_incident_type (
    incident_id        VARCHAR NOT NULL,
    incident_type      VARCHAR NOT NULL,  -- the one taxonomy (data/reference/cyber_types/)
    raw_type           VARCHAR NOT NULL   -- as the publisher wrote it
);

CREATE TABLE IF NOT EXISTS core.brg_incident_initiator (
    incident_id        VARCHAR NOT NULL,
    iso3               VARCHAR,  -- NULL: not a state, or unknown
    country_raw        VARCHAR,
    actor              VARCHAR,
    actor_type         VARCHAR,
    attribution_basis  VARCHAR
);

CREATE TABLE IF NOT EXISTS core.brg_incident_target (
    incident_id        VARCHAR NOT NULL,
    iso3               VARCHAR,
    country_raw        VARCHAR,
    sector             VARCHAR
);

CREATE TABLE IF NOT EXISTS core.fct_exploited_vulnerability (
    cve_id             VARCHAR NOT NULL,
    vendor_project     VARCHAR NOT NULL,
    product            VARCHAR NOT NULL,
    vulnerability_name VARCHAR,
    date_added         DATE NOT NULL,
    short_description  VARCHAR,
    required_action    VARCHAR,
    due_date           DATE,
    known_ransomware_campaign_use VARCHAR NOT NULL,  -- as published: Known | Unknown
    notes              VARCHAR,
    cwes               VARCHAR[],
    catalog_version    VARCHAR NOT NULL,
    snapshot_id        VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.dim_threat_actor (
    stix_id            VARCHAR NOT NULL,
    attack_id          VARCHAR,
    name               VARCHAR NOT NULL,
    aliases            VARCHAR[],
    description        VARCHAR,
    domains            VARCHAR[],
    is_revoked         BOOLEAN NOT NULL,
    is_deprecated      BOOLEAN NOT NULL,
    attributed_iso3    VARCHAR,
    attribution_basis  VARCHAR,          -- the phrase of the description that states it
    attribution_rule   VARCHAR,          -- which rule of data/reference/attack_attribution_rules.csv matched
    created            TIMESTAMPTZ,
    modified           TIMESTAMPTZ,
    snapshot_id        VARCHAR NOT NULL
);

-- The same incident reported by several sources: a link with the rule that matched and a confidence.
CREATE TABLE IF NOT EXISTS core.incident_links (
    incident_id_a      VARCHAR NOT NULL,
    incident_id_b      VARCHAR NOT NULL,
    rule               VARCHAR NOT NULL,
    confidence         VARCHAR NOT NULL,  -- high | medium
    days_apart         INTEGER,
    title_similarity   DOUBLE
    -- key (incident_id_a, incident_id_b): sql/checks/<table>_key.sql (DuckLake has no constraints)
);

-- data/reference/cyber_types/*.csv: each source's type labels mapped to the one taxonomy.
CREATE TABLE IF NOT EXISTS meta.cyber_type_map (
    source             VARCHAR NOT NULL,
    raw_type           VARCHAR NOT NULL,
    incident_type      VARCHAR NOT NULL
    -- key (source, raw_type): sql/checks/<table>_key.sql (DuckLake has no constraints)
);
