-- Every incident type a source publishes is mapped to the taxonomy (data/reference/cyber_types/).
SELECT DISTINCT s.source, t.raw_type
FROM (SELECT source, unnest(incident_types_raw) AS raw_type FROM staging.stg_cyber_incident) t
JOIN (SELECT DISTINCT source FROM staging.stg_cyber_incident) s USING (source)
LEFT JOIN meta.cyber_type_map m ON m.source = t.source AND m.raw_type = t.raw_type
WHERE m.raw_type IS NULL;
