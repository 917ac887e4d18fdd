"""Write the synthetic EuRepoC sample: Global Database, Attribution and Receiver CSVs in the v1.1 layout.

Stdlib only and deterministic: running it again rewrites byte-identical files.
    python data/samples/generate_cyber_eurepoc.py [output_dir]
Every incident, actor and name below is invented; only the file format copies EuRepoC's.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

GLOBAL_HEADER = (
    "ID,name,description,start_date,end_date,inclusion_criteria,inclusion_criteria_subcode,"
    "source_incident_detection_disclosure,incident_type,receiver_name,receiver_country,receiver_region,"
    "receiver_category,receiver_category_subcode,initiator_name,initiator_country,initiator_category,"
    "initiator_category_subcode,number_of_attributions,attribution_date,attribution_type,attribution_basis,"
    "attributing_actor,attribution_it_company,attributing_country,attributed_initiator,attributed_initiator_country,"
    "attributed_initiator_category,attributed_initiator_subcategory,sources_attribution,cyber_conflict_issue,"
    "offline_conflict_issue,offline_conflict_name_HIIK,offline_conflict_intensity,offline_conflict_intensity_subcode,"
    "number_of_political_responses,political_response_date,political_response_type,political_response_type_subcode,"
    "political_response_country,political_response_actor,zero_days,zero_days_subcode,MITRE_initial_access,"
    "MITRE_impact,user_interaction,has_disruption,data_theft,disruption,hijacking,physical_effects_spatial,"
    "physical_effects_temporal,unweighted_cyber_intensity,target_multiplier,weighted_cyber_intensity,"
    "impact_indicator,impact_indicator_value,functional_impact,intelligence_impact,"
    "political_impact_affected_entities,political_impact_affected_entities_exact_value,"
    "political_impact_third_countries,political_impact_third_countries_exact_value,economic_impact,"
    "economic_impact_exact_value,economic_impact_currency,state_responsibility_indicator,IL_breach_indicator,"
    "IL_breach_indicator_subcode,evidence_for_sanctions_indicator,number_of_legal_responses,legal_response_date,"
    "legal_response_type,legal_response_type_subcode,legal_response_country,legal_response_actor,"
    "legal_attribution_reference,legal_attribution_reference_subcode,legal_response_indicator,casualties,sources_url"
).split(",")
ATTRIBUTION_HEADER = (
    "incident_ID,attribution_ID,attribution_date,attribution_type,attribution_basis,attributing_actor,"
    "attribution_it_company,attributing_country,attributed_initiator,attributed_initiator_country,"
    "attributed_initiator_category"
).split(",")
RECEIVER_HEADER = "ID,receiver_country,receiver_region,receiver_name,receiver_category,receiver_category_subcode".split(",")

SELF = "Self-attribution in the course of the attack (e.g., via defacement statements on websites)"
TECH = "Technical report (e.g., by IT-companies, Citizen Lab, EFF)"
POL = "Political statement / report (e.g., on government / state agency websites)"
STATE_INST = "State institutions / political system"
CORP = ("Corporate Targets (corporate targets only coded if the respective company is not part of the critical "
        "infrastructure definition)")
REGIONS = {
    "Estonia": ["EUROPE", "NATO", "EU", "BALTIC"], "Germany": ["EUROPE", "NATO", "EU", "WESTEU"],
    "United States": ["NATO", "NORTHAM"], "Korea, Republic of": ["ASIA", "SCS", "NEA"],
    "Iran, Islamic Republic of": ["ASIA", "MENA", "MEA"], "Russia": ["EUROPE", "EASTEU", "CSTO", "SCO"],
    "Ukraine": ["EUROPE", "EASTEU"], "India": ["ASIA", "SASIA", "SCO"], "Brazil": ["SOUTHAM"],
    "Israel": ["ASIA", "MENA", "MEA"], "Japan": ["ASIA", "NEA"], "Palestine": ["ASIA", "MENA", "MEA"],
}


def a(country, actor, category, basis, kind=TECH, when=""):
    """One attribution (a row of the Attribution file)."""
    return {"country": country, "actor": actor, "category": category, "basis": basis, "type": kind, "date": when}


# (ID, name, description, start, end, types, receivers [(country, [categories])], attributions,
#  Global-only overrides of initiator_country / initiator_category / initiator_name when they differ)
INCIDENTS = [
    (101, "Defacement wave 2001", "Invented hacktivists defaced ministry websites during the year.",
     "2001-01-01", "2001-01-01", ["Disruption"], [("Estonia", [STATE_INST, "Media"])],
     [a("Not available", "Not available", "Non-state-group", "Attacker confirms", SELF)], {}),
    (102, "Grey Lynx espionage campaign", "A fictional group spied on telecoms from 2004 until 2009.",
     "2004-01-01", "2009-01-01", ["Data theft", "Hijacking with Misuse"], [("Germany", [CORP])],
     [a("Unknown", "Grey Lynx", "Unknown - not attributed", "IT-security community attributes attacker")], {}),
    (103, "Example ransomware on a clinic", "Made-up criminals encrypted clinic systems in March 2019.",
     "2019-03-01", "2019-03-20", ["Disruption", "Hijacking with Misuse", "Ransomware"],
     [("United States", ["Critical infrastructure"])],
     [a("Russia", "Paper Wolf", "Non-state-group", "Media-based attribution")], {}),
    (104, "Invented leak of voter data", "A fictional actor leaked invented voter records on 14 May 2020.",
     "2020-05-14", "2020-05-16", ["Data theft & Doxing"], [("Korea, Republic of", [STATE_INST])],
     [a("Korea, Democratic People's Republic of", "Blue Kite", "State", "Attribution by receiver government / "
        "state entity", POL, "2020-06-01 00:00:00")], {}),
    (105, "Two-country phishing", "Synthetic phishing against ministries of two states.",
     "2021-06-07", "", ["Data theft"], [("Ukraine", [STATE_INST]), ("Estonia", [STATE_INST, "Military"])],
     [a("Russia", "Paper Wolf", "Non-state actor, state-affiliation suggested",
        "IT-security community attributes attacker"),
      a("Russia", "Paper Wolf", "Non-state actor, state-affiliation suggested",
        "IT-security community attributes attacker")], {}),
    (106, "Joint attribution example", "Two invented states are named for one made-up operation.",
     "2018-09-01", "2018-12-01", ["Hijacking without Misuse"], [("Iran, Islamic Republic of", [CORP])],
     [a("United States", "Quiet Owl", "State", "Attribution by third-party"),
      a("Israel", "Quiet Owl", "State", "Attribution by third-party")], {}),
    (107, "Regional hacktivism", "Invented hacktivists hit sites across a region.",
     "2015-01-01", "2015-01-01", ["Disruption"], [("Europe (region)", ["Other"]), ("Global (region)", ["Other"])],
     [a("Not available", "Not available", "Not available", "Not available", "Not available")], {}),
    (108, "New Year's day defacement", "Made-up defacement of a ministry on 1 January 2022.",
     "2022-01-01", "2022-01-01", ["Disruption"], [("Brazil", [STATE_INST])],
     [a("Brazil", "Samba Crew", "Individual hacker(s)", "Attacker confirms", SELF)], {}),
    (109, "Winter wiper", "Invented wiper malware deployed in January 2023 against an energy firm.",
     "2023-01-01", "2023-02-01", ["Disruption", "Data theft"], [("Ukraine", ["Critical infrastructure"])],
     [a("Russia", "Paper Wolf", "State", "Attribution by receiver government / state entity", POL)], {}),
    (110, "Receiver coded with several category lists", "Synthetic case: one receiver, three category lists.",
     "2022-08-09", "2022-08-09", ["Data theft"], [("Japan", [STATE_INST, "Science", "Media"])],
     [a("China", "Jade Heron", "Non-state actor, state-affiliation suggested",
        "IT-security community attributes attacker")], {"nested_split": True}),
    (111, "No start date", "An invented incident whose start is not known.",
     "", "", ["Data theft"], [("India", ["Social groups"])],
     [a("Pakistan", "Green Comet", "Non-state-group", "Media-based attribution")], {}),
    (112, "Several actors, lists of different lengths", "Synthetic: two countries, three names, one category.",
     "2017-04-01", "2017-04-30", ["Hijacking with Misuse"], [("Israel", [STATE_INST])],
     [a("Iran, Islamic Republic of", "Rust Falcon", "State", "IT-security community attributes attacker"),
      a("Lebanon", "Cedar Fox", "State", "IT-security community attributes attacker")],
     {"initiator_category": ["State"], "initiator_name": ["Rust Falcon", "Cedar Fox", "Olive Viper"]}),
    (113, "Unreadable date", "A synthetic row with an impossible start date (30 February).",
     "2021-02-30", "2021-03-02", ["Disruption"], [("Germany", [STATE_INST])],
     [a("Unknown", "Not available", "Unknown - not attributed", "Not available")], {}),
    (114, "Palestinian ministry breach", "Invented data theft at a ministry in Palestine.",
     "2016-10-03", "2016-10-05", ["Data theft"], [("Palestine", [STATE_INST])],
     [a("Israel", "Not available", "Unknown - not attributed", "Media-based attribution")], {}),
    (115, "Interpol portal disruption", "A made-up DDoS against an international organisation.",
     "2014-07-01", "2014-07-01", ["Disruption"], [("Interpol", ["International / supranational organization"])],
     [a("ISIS", "Caliphate Cyber Unit", "Non-state-group", "Attacker confirms", SELF)], {}),
    (116, "Satellite operator intrusion", "Invented access to satellite operator networks.",
     "2012-11-21", "2013-01-01", ["Hijacking with Misuse", "Data theft"], [("United States", [CORP, "Science"])],
     [a("China", "Jade Heron", "State", "Attribution by receiver government / state entity", POL),
      a("China", "Jade Heron", "State", "IT-security community attributes attacker")], {}),
    (117, "Election-day DDoS", "Synthetic DDoS on an election commission.",
     "2019-10-27", "2019-10-27", ["Disruption"], [("Ukraine", [STATE_INST])],
     [a("Unknown", "Not available", "Unknown - not attributed", "Receiver attributes attacker")], {}),
    (118, "Think-tank spear-phishing", "Invented phishing of think tanks in two countries.",
     "2020-02-01", "2020-05-31", ["Data theft"], [("Germany", ["Social groups"]), ("United States", ["Social groups"])],
     [a("Iran, Islamic Republic of", "Rust Falcon", "Non-state actor, state-affiliation suggested",
        "IT-security community attributes attacker")], {}),
    (119, "Customs system outage", "A fictional outage of a customs system.",
     "2011-05-01", "", ["Disruption"], [("Russia", [STATE_INST])],
     [a("Ukraine", "Steppe Hawks", "Non-state-group", "Attacker confirms", SELF)], {}),
    (120, "Unattributed research theft", "Made-up theft of research data from universities.",
     "2010-01-01", "2012-01-01", ["Data theft"], [("Korea, Republic of", ["Science"])], [], {}),
]


def literal(values) -> str:
    return repr(list(values))


def global_row(incident) -> dict[str, str]:
    iid, name, desc, start, end, types, receivers, attributions, over = incident
    countries = [c for c, _ in receivers]
    nested = [cats for _, cats in receivers]
    if over.get("nested_split"):
        nested = [[c] for c in nested[0]]  # one inner list per category, the country given once
    row = dict.fromkeys(GLOBAL_HEADER, "")
    unique = list(dict.fromkeys((x["country"], x["actor"], x["category"]) for x in attributions))
    row.update({
        "ID": str(iid), "name": name, "description": desc, "start_date": start, "end_date": end,
        "incident_type": "; ".join(types),
        "receiver_country": literal(countries),
        "receiver_region": literal([REGIONS.get(c, []) for c in countries]),
        "receiver_category": literal(nested),
        "initiator_name": literal(over.get("initiator_name", [u[1] for u in unique])) if unique else "",
        "initiator_country": literal(over.get("initiator_country", [u[0] for u in unique])) if unique else "",
        "initiator_category": literal(over.get("initiator_category", [u[2] for u in unique])) if unique else "",
        "number_of_attributions": str(len(attributions)),
        "attribution_date": "; ".join(x["date"][:10] for x in attributions if x["date"]),
        "attribution_type": "; ".join(x["type"] for x in attributions),
        "attribution_basis": "; ".join(x["basis"] for x in attributions),
        "attributed_initiator": "; ".join(x["actor"] for x in attributions),
        "attributed_initiator_country": "; ".join(x["country"] for x in attributions),
        "attributed_initiator_category": "; ".join(x["category"] for x in attributions),
        "sources_attribution": "[]",
        "sources_url": literal([f"https://example.org/eurepoc-sample/{iid}"]),
    })
    return row


def write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([[r.get(h, "") for h in header] for r in rows])


def main(output: Path) -> None:
    """Write the three CSVs into `output`."""
    output.mkdir(parents=True, exist_ok=True)
    write(output / "EuRepoC_Global_Database_1.1.csv", GLOBAL_HEADER, [global_row(i) for i in INCIDENTS])
    attributions, receivers, next_id = [], [], 9000
    for iid, *_, receiver_list, attribution_list, _ in INCIDENTS:
        for x in attribution_list:
            next_id += 1
            attributions.append({
                "incident_ID": str(iid), "attribution_ID": f"{next_id}.0", "attribution_date": x["date"],
                "attribution_type": x["type"], "attribution_basis": x["basis"], "attributed_initiator": x["actor"],
                "attributed_initiator_country": x["country"], "attributed_initiator_category": x["category"],
            })
        for country, categories in receiver_list:
            for category in categories:
                receivers.append({"ID": str(iid), "receiver_country": country,
                                  "receiver_region": "; ".join(REGIONS.get(country, [])),
                                  "receiver_name": "Not available" if iid == 101 else "",
                                  "receiver_category": category})
    # v1.1 repeats some Receiver rows verbatim; an attribution row without an ID exists too.
    receivers.insert(3, dict(receivers[2]))
    attributions[0]["attribution_ID"] = ""
    write(output / "EuRepoC_Attribution_dataset_1.1.csv", ATTRIBUTION_HEADER, attributions)
    write(output / "EuRepoC_Receiver_dataset_1.1.csv", RECEIVER_HEADER, receivers)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "eurepoc")
