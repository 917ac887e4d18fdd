-- Provenance: every fact row's snapshot_id resolves here to its files, URLs, hashes and licence.
CREATE TABLE IF NOT EXISTS meta.source_licences (
    source            VARCHAR NOT NULL,
    domain            VARCHAR NOT NULL,
    name              VARCHAR NOT NULL,
    publisher         VARCHAR NOT NULL,
    licence           VARCHAR NOT NULL,
    licence_url       VARCHAR,
    redistribution    VARCHAR NOT NULL,
    citation          VARCHAR NOT NULL,
    cadence           VARCHAR
);

CREATE TABLE IF NOT EXISTS meta.snapshots (
    snapshot_id       VARCHAR NOT NULL,
    source            VARCHAR NOT NULL,
    origin            VARCHAR NOT NULL,          -- http | import | sample
    retrieved_at      TIMESTAMPTZ NOT NULL,
    publisher         VARCHAR,
    licence           VARCHAR,
    licence_url       VARCHAR,
    citation          VARCHAR,
    file_count        INTEGER NOT NULL,
    total_bytes       BIGINT NOT NULL,
    is_published      BOOLEAN NOT NULL           -- its rows are in this warehouse
);

CREATE TABLE IF NOT EXISTS meta.snapshot_files (
    snapshot_id       VARCHAR NOT NULL,
    file_name         VARCHAR NOT NULL,
    url               VARCHAR,
    params_json       VARCHAR,
    http_status       INTEGER,
    etag              VARCHAR,
    last_modified     VARCHAR,
    bytes             BIGINT NOT NULL,
    sha256            VARCHAR NOT NULL,
    content_type      VARCHAR
    -- key (snapshot_id, file_name): sql/checks/<table>_key.sql (DuckLake has no constraints)
);

-- One row per staged table and snapshot loaded: table_name is the staged (lake) table.
CREATE TABLE IF NOT EXISTS meta.loads (
    table_name        VARCHAR NOT NULL,
    source            VARCHAR NOT NULL,
    snapshot_id       VARCHAR NOT NULL,
    row_count         BIGINT NOT NULL,
    quarantined_rows  BIGINT NOT NULL
    -- key (table_name, snapshot_id): sql/checks/<table>_key.sql (DuckLake has no constraints)
);

CREATE TABLE IF NOT EXISTS meta.validation_results (
    suite                  VARCHAR NOT NULL,
    table_name             VARCHAR NOT NULL,
    snapshot_id            VARCHAR NOT NULL,
    expectation            VARCHAR NOT NULL,
    column_name            VARCHAR,
    kwargs_json            VARCHAR,
    success                BOOLEAN NOT NULL,
    observed_json          VARCHAR,
    unexpected_sample_json VARCHAR,
    validated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS meta.quarantine (
    source            VARCHAR NOT NULL,
    table_name        VARCHAR NOT NULL,
    snapshot_id       VARCHAR,
    source_file       VARCHAR,
    reason            VARCHAR NOT NULL,
    record            VARCHAR NOT NULL       -- the rejected row as JSON
);

-- One row: when this file was built. The only table whose content differs between two identical runs.
CREATE TABLE IF NOT EXISTS meta.publish (
    published_at      TIMESTAMPTZ NOT NULL,
    threatwatch_version VARCHAR NOT NULL
);

-- Reviewed real values outside a plausibility range (data/reference/value_exceptions.csv).
CREATE TABLE IF NOT EXISTS meta.value_exceptions (
    iso3              VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    measure           VARCHAR NOT NULL,
    note              VARCHAR NOT NULL
    -- key (iso3, year, measure): sql/checks/<table>_key.sql (DuckLake has no constraints)
);

-- Which source wins for a measure in marts.military_expenditure_country_year (data/reference/measure_source_precedence.csv).
CREATE TABLE IF NOT EXISTS meta.source_precedence (
    measure           VARCHAR NOT NULL,
    source            VARCHAR NOT NULL,
    rank              INTEGER NOT NULL,
    reason            VARCHAR NOT NULL
    -- key (measure, source): sql/checks/<table>_key.sql (DuckLake has no constraints)
);
