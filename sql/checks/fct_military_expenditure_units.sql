-- One unit per measure, across every source: the warehouse-wide unit contract.
SELECT measure, list(DISTINCT unit ORDER BY unit) AS units
FROM core.fct_military_expenditure
GROUP BY measure
HAVING count(DISTINCT unit) > 1
    OR (measure IN ('share_of_gdp', 'share_of_government_spending') AND any_value(unit) <> 'percent')
    OR (measure IN ('current_usd', 'constant_usd', 'per_capita_usd') AND any_value(unit) <> 'usd');
