-- Incidents with their types mapped to the one taxonomy (meta.cyber_type_map), in the publisher's order.
INSERT INTO core.brg_incident_type BY NAME
SELECT DISTINCT i.incident_id, m.incident_type, i.raw_type
FROM (
    SELECT incident_id, source, unnest(incident_types_raw) AS raw_type FROM staging.stg_cyber_incident
) i
JOIN meta.cyber_type_map m ON m.source = i.source AND m.raw_type = i.raw_type
ORDER BY ALL;

INSERT INTO core.fct_cyber_incident BY NAME
WITH typed AS (
    SELECT i.incident_id, i.pos, m.incident_type
    FROM (
        SELECT incident_id, source, incident_types_raw[pos] AS raw_type, pos
        FROM (SELECT incident_id, source, incident_types_raw,
                     generate_subscripts(incident_types_raw, 1) AS pos
              FROM staging.stg_cyber_incident)
    ) i
    JOIN meta.cyber_type_map m ON m.source = i.source AND m.raw_type = i.raw_type
), types AS (
    SELECT incident_id, list_distinct(list(incident_type ORDER BY pos)) AS incident_types
    FROM typed GROUP BY incident_id
)
SELECT s.incident_id, s.source, s.source_incident_id, s.start_date, s.date_precision, s.end_date,
       s.end_date_precision, s.title,
       coalesce(t.incident_types[1], 'unknown') AS incident_type,
       coalesce(t.incident_types, []::VARCHAR[]) AS incident_types,
       s.description, s.snapshot_id, s.source_file
FROM staging.stg_cyber_incident s
LEFT JOIN types t USING (incident_id)
ORDER BY s.incident_id;

INSERT INTO core.brg_incident_initiator BY NAME
SELECT DISTINCT incident_id, iso3, country_raw, actor, actor_type, attribution_basis
FROM staging.stg_cyber_initiator ORDER BY ALL;

INSERT INTO core.brg_incident_target BY NAME
SELECT DISTINCT incident_id, iso3, country_raw, sector
FROM staging.stg_cyber_target ORDER BY ALL;

-- The same incident reported by several sources, linked with the rule that matched, never merged.
-- Rule: different sources; start dates within 31 days; at least one initiator state and one target
-- state in common. Confidence high when the titles share half their words (token Jaccard >= 0.5)
-- or the dates are the same day at day precision; medium otherwise.
INSERT INTO core.incident_links BY NAME
WITH sides AS (
    SELECT i.incident_id, i.source, i.start_date, i.date_precision,
           list_filter(string_split(regexp_replace(lower(coalesce(i.title, '')), '[^a-z0-9]+', ' ', 'g'), ' '),
                       lambda w: length(w) > 2) AS words,
           (SELECT list(DISTINCT iso3) FROM core.brg_incident_initiator b WHERE b.incident_id = i.incident_id AND iso3 IS NOT NULL) AS initiators,
           (SELECT list(DISTINCT iso3) FROM core.brg_incident_target b WHERE b.incident_id = i.incident_id AND iso3 IS NOT NULL) AS targets
    FROM core.fct_cyber_incident i
    WHERE i.start_date IS NOT NULL
), pairs AS (
    SELECT a.incident_id AS incident_id_a, b.incident_id AS incident_id_b,
           abs(date_diff('day', a.start_date, b.start_date)) AS days_apart,
           CASE WHEN len(list_distinct(a.words || b.words)) = 0 THEN 0
                ELSE len(list_intersect(list_distinct(a.words), list_distinct(b.words)))
                     / len(list_distinct(a.words || b.words)) END AS title_similarity,
           a.date_precision = 'day' AND b.date_precision = 'day' AND a.start_date = b.start_date AS same_day
    FROM sides a
    JOIN sides b ON a.source < b.source
     AND abs(date_diff('day', a.start_date, b.start_date)) <= 31
     AND len(list_intersect(a.initiators, b.initiators)) > 0
     AND len(list_intersect(a.targets, b.targets)) > 0
)
SELECT incident_id_a, incident_id_b,
       'same initiator and target state, start within 31 days' AS rule,
       CASE WHEN title_similarity >= 0.5 OR same_day THEN 'high' ELSE 'medium' END AS confidence,
       days_apart, round(title_similarity, 3) AS title_similarity
FROM pairs
ORDER BY incident_id_a, incident_id_b;
