-- The crosswalk (data/reference/countries.csv) is the one dimension every source resolves to.
INSERT INTO core.dim_country
SELECT iso3, name, iso2, iso_numeric, gw_code, cow_code, region, continent,
       nato_member_since, eu_member_since, eu_member_until, valid_from, valid_until,
       coalesce(is_historical, false)
FROM staging.ref_country
ORDER BY iso3;
