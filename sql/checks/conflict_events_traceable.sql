-- Every conflict event traces to a published snapshot, its file's sha256 and the publisher's licence
-- (a zip member, "ged251-csv.zip!GEDEvent_v25_1.csv", traces to its zip).
SELECT DISTINCT e.source, e.snapshot_id, e.source_file
FROM core.fct_conflict_event e
LEFT JOIN meta.snapshots s ON s.snapshot_id = e.snapshot_id AND s.source = e.source AND s.is_published
LEFT JOIN meta.snapshot_files f ON f.snapshot_id = e.snapshot_id AND f.file_name = split_part(e.source_file, '!', 1)
LEFT JOIN meta.source_licences l ON l.source = e.source
WHERE s.snapshot_id IS NULL OR f.sha256 IS NULL OR l.licence IS NULL;
