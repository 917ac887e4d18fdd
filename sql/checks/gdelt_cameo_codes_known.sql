-- Every GDELT event code is a CAMEO code of the reference table (a misread column would not be).
SELECT DISTINCT e.event_code
FROM staging.stg_gdelt_event e
LEFT JOIN core.dim_cameo_event_code c ON c.code = e.event_code
WHERE c.code IS NULL;
