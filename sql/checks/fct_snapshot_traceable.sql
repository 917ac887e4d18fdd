-- Every fact row traces to a published snapshot, the file it came from (a zip member traces to its zip),
-- that file's sha256, and the publisher's licence.
SELECT DISTINCT f.source, f.snapshot_id, f.source_file
FROM core.fct_military_expenditure f
LEFT JOIN meta.snapshots s ON s.snapshot_id = f.snapshot_id AND s.source = f.source AND s.is_published
LEFT JOIN meta.snapshot_files sf ON sf.snapshot_id = f.snapshot_id AND sf.file_name = split_part(f.source_file, '!', 1)
LEFT JOIN meta.source_licences l ON l.source = f.source
WHERE s.snapshot_id IS NULL OR sf.sha256 IS NULL OR l.licence IS NULL;
