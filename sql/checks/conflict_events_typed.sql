-- Every conflict event type a source publishes is mapped to the taxonomy (data/reference/conflict_types.csv).
SELECT DISTINCT source, source_event_type
FROM core.fct_conflict_event
WHERE event_type IS NULL;
