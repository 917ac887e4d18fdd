-- CISA KEV: one row per CVE of the latest catalog, ransomware use as published.
INSERT INTO core.fct_exploited_vulnerability BY NAME
SELECT cve_id, vendor_project, product, vulnerability_name, date_added, short_description, required_action,
       due_date, known_ransomware_campaign_use, notes, cwes, catalog_version, snapshot_id
FROM staging.stg_cisa_kev
ORDER BY cve_id;

-- ATT&CK intrusion sets, one per STIX id; a country only where the description states it.
INSERT INTO core.dim_threat_actor BY NAME
SELECT stix_id, attack_id, name, aliases, description, domains, revoked AS is_revoked,
       deprecated AS is_deprecated,
       attributed_iso3, attribution_basis, attribution_rule, created, modified, snapshot_id
FROM staging.stg_mitre_attack_group
ORDER BY stix_id;
