-- The burden-sharing mart holds Allies only, and only for years since their accession.
SELECT b.iso3, b.year
FROM marts.nato_burden_sharing b
JOIN core.dim_country c USING (iso3)
WHERE c.nato_member_since IS NULL OR b.year < c.nato_member_since;
