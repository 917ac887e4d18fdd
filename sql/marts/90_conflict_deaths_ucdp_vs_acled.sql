-- UCDP and ACLED deaths per country-year, where both cover it, with a stated tolerance.
-- The two count different things: UCDP counts deaths in organised violence (dyads reaching 25 battle-related
-- deaths a year, one-sided and non-state violence), ACLED counts reported fatalities of all political
-- violence, riots included. So they disagree in degree as a rule; the tolerance only flags gross divergence:
-- agree when |ACLED - UCDP best| <= max(25, 50% of the larger), or ACLED lies within UCDP's low..high range.
CREATE OR REPLACE TABLE marts.conflict_deaths_ucdp_vs_acled AS
SELECT iso3, country_name, year, ucdp_deaths_best, ucdp_deaths_low, ucdp_deaths_high, acled_fatalities,
       acled_fatalities - ucdp_deaths_best AS difference,
       acled_fatalities BETWEEN ucdp_deaths_low AND ucdp_deaths_high
         OR abs(acled_fatalities - ucdp_deaths_best) <= greatest(25, 0.5 * greatest(acled_fatalities, ucdp_deaths_best))
         AS within_tolerance
FROM marts.country_year_indicators
WHERE ucdp_deaths_best IS NOT NULL AND acled_fatalities IS NOT NULL
  AND (ucdp_events > 0 OR acled_events > 0)
ORDER BY iso3, year;
