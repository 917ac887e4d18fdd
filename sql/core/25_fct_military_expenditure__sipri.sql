-- SIPRI values in our units (the parser turned US$ m. into dollars and fractions into percent),
-- with SIPRI's font-colour flags: blue = estimate, red = highly uncertain.
-- A release imported twice (or as two files of one snapshot) is taken once: newest snapshot, then file.
INSERT INTO core.fct_military_expenditure BY NAME
SELECT iso3, year, measure, value, unit, currency, 'sipri' AS source, is_estimate, is_uncertain, price_base_year,
       release_label AS release, release_sort, snapshot_id, source_file
FROM staging.stg_sipri
WHERE status = 'value'
QUALIFY row_number() OVER (PARTITION BY release_label, iso3, year, measure ORDER BY snapshot_id DESC, source_file DESC) = 1
ORDER BY iso3, year, measure, release_label;

INSERT INTO core.fct_military_expenditure_aggregate BY NAME
SELECT upper(regexp_replace(region, '[^A-Za-z]+', '_', 'g')) AS aggregate_code, region AS aggregate_name, year,
       measure, value, unit, 'sipri' AS source, release_label AS release, release_sort, snapshot_id, source_file
FROM staging.stg_sipri_regional
WHERE status = 'value'
QUALIFY row_number() OVER (PARTITION BY release_label, region, year, measure ORDER BY snapshot_id DESC, source_file DESC) = 1
ORDER BY region, year, measure, release_label;

-- Cells without a number, kept because "not a state then" (SIPRI's xxx) is not "unknown" (...).
INSERT INTO core.fct_military_expenditure_gap BY NAME
SELECT iso3, year, measure, 'sipri' AS source, status, release_label AS release, snapshot_id, source_file
FROM staging.stg_sipri
WHERE status <> 'value'
QUALIFY row_number() OVER (PARTITION BY release_label, iso3, year, measure ORDER BY snapshot_id DESC, source_file DESC) = 1
ORDER BY iso3, year, measure, release_label;

-- SIPRI's notes per country row, with the symbols' meanings and the numbered footnotes' text of the same release.
CREATE OR REPLACE VIEW core.milex_notes AS
WITH rows AS (
    SELECT DISTINCT iso3, measure, release_label AS release, notes_raw, note_symbols, footnote_ids
    FROM staging.stg_sipri
    WHERE notes_raw IS NOT NULL
)
SELECT 'sipri' AS source, r.iso3, r.measure, r.release, r.notes_raw,
       (SELECT list(f.flag ORDER BY f.symbol) FROM staging.stg_sipri_footnote f
         WHERE f.release = r.release AND list_contains(r.note_symbols, f.symbol)) AS flags,
       (SELECT list(f.text ORDER BY f.footnote_id) FROM staging.stg_sipri_footnote f
         WHERE f.release = r.release AND list_contains(r.footnote_ids, f.footnote_id)) AS footnotes
FROM rows r;
