-- CISA KEV additions per month: how many, the share with known ransomware use, the top five vendors.
CREATE OR REPLACE TABLE marts.kev_monthly AS
WITH monthly AS (
    SELECT date_trunc('month', date_added)::DATE AS month, vendor_project,
           count(*) AS added, count(*) FILTER (known_ransomware_campaign_use = 'Known') AS ransomware
    FROM core.fct_exploited_vulnerability
    GROUP BY ALL
)
SELECT month,
       sum(added)::BIGINT AS cves_added,
       round(100.0 * sum(ransomware) / sum(added), 2) AS pct_known_ransomware_use,
       list(vendor_project || ' (' || added || ')' ORDER BY added DESC, vendor_project)[1:5] AS top_vendors
FROM monthly
GROUP BY month
ORDER BY month;
