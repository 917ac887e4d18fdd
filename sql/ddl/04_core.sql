-- Conformed dimensions and facts. Units are fixed for every source:
-- money in US dollars (not millions), shares in percent (3.43, not 0.0343), personnel in persons.
CREATE TABLE IF NOT EXISTS core.dim_country (
    iso3              VARCHAR NOT NULL,
    name              VARCHAR NOT NULL,
    iso2              VARCHAR,
    iso_numeric       VARCHAR,
    gw_code           INTEGER,
    cow_code          INTEGER,
    fips_code         VARCHAR,  -- FIPS 10-4 (GDELT geo codes); several joined with ";" (PSE = WE;GZ)
    region            VARCHAR,
    continent         VARCHAR,
    nato_member_since INTEGER,
    eu_member_since   INTEGER,
    eu_member_until   INTEGER,
    valid_from        INTEGER,
    valid_until       INTEGER,
    is_historical     BOOLEAN NOT NULL
);

-- Every release of every source is kept: `release` names the publisher's edition a value was
-- published in, `release_sort` orders a source's editions. core.fct_military_expenditure_latest
-- is the newest release per source, country and measure.
CREATE TABLE IF NOT EXISTS core.fct_military_expenditure (
    iso3              VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    measure           VARCHAR NOT NULL,   -- share_of_gdp | current_usd | share_of_government_spending | armed_forces_personnel | …
    value             DOUBLE NOT NULL,
    unit              VARCHAR NOT NULL,   -- percent | usd | persons | lcu
    currency          VARCHAR,            -- the local currency, for unit 'lcu' only (as the publisher names it)
    source            VARCHAR NOT NULL,
    is_estimate       BOOLEAN,            -- NULL: the publisher gives no estimate flag
    is_uncertain      BOOLEAN,            -- SIPRI's "highly uncertain" (red); NULL where not flagged
    price_base_year   INTEGER,            -- constant-price measures only
    release           VARCHAR NOT NULL,
    release_sort      VARCHAR NOT NULL,
    snapshot_id       VARCHAR NOT NULL,
    source_file       VARCHAR NOT NULL
    -- key (source, release, iso3, year, measure): sql/checks/<table>_key.sql (DuckLake has no constraints)
);

-- World Bank regional and income-group aggregates: never mixed with countries.
CREATE TABLE IF NOT EXISTS core.fct_military_expenditure_aggregate (
    aggregate_code    VARCHAR NOT NULL,
    aggregate_name    VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    measure           VARCHAR NOT NULL,
    value             DOUBLE NOT NULL,
    unit              VARCHAR NOT NULL,
    source            VARCHAR NOT NULL,
    release           VARCHAR NOT NULL,
    release_sort      VARCHAR NOT NULL,
    snapshot_id       VARCHAR NOT NULL,
    source_file       VARCHAR NOT NULL
    -- key (source, release, aggregate_code, year, measure): sql/checks/<table>_key.sql (DuckLake has no constraints)
);

-- Cells a publisher filled with a status instead of a number: 'not_a_state' (SIPRI's xxx: the country
-- did not exist or was not independent) must never be read as 'missing' (data unavailable).
CREATE TABLE IF NOT EXISTS core.fct_military_expenditure_gap (
    iso3              VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    measure           VARCHAR NOT NULL,
    source            VARCHAR NOT NULL,
    status            VARCHAR NOT NULL,   -- missing | not_a_state
    release           VARCHAR NOT NULL,
    snapshot_id       VARCHAR NOT NULL,
    source_file       VARCHAR NOT NULL
    -- key (source, release, iso3, year, measure): sql/checks/<table>_key.sql (DuckLake has no constraints)
);
