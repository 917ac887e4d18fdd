"""Real cyber files imported by hand and published: every KEV entry, every DCID incident, every ATT&CK group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.run import run_pipeline
from tests.conftest import shared_home, shared_path
from tests.warehouse_compare import open_warehouse

pytestmark = pytest.mark.realdata

# The README shows this query: incidents attributed to each state, by year, across sources.
ATTRIBUTED_BY_STATE_AND_YEAR = """
SELECT country_name, year, source, sum(incidents) AS incidents
FROM marts.cyber_incidents_by_country_year
WHERE role = 'initiator'
GROUP BY ALL
ORDER BY country_name, year, source
"""


@pytest.fixture(scope="module")
def cyber_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bundles = tmp_path_factory.mktemp("attack")
    for domain in ("enterprise-attack", "mobile-attack", "ics-attack"):
        objects = []
        for path in sorted(shared_path("cyber_incidents", "mitre_attack", domain, "intrusion-set").glob("*.json")):
            objects += json.loads(path.read_text(encoding="utf-8"))["objects"]
        (bundles / f"{domain}.json").write_text(json.dumps({"type": "bundle", "id": f"bundle--{domain}",
                                                             "objects": objects}))
    with shared_home(tmp_path_factory, "cyber") as home:
        imports = {
            "cisa_kev": [shared_path("cyber_incidents", "cisa_kev", "known_exploited_vulnerabilities.json")],
            "dcid": [shared_path("cyber_incidents", "dcid", "DCID_2.0_Release_update_February_2023.xlsx")],
            "mitre_attack": sorted(bundles.glob("*.json")),
            "eurepoc": [shared_path("cyber_incidents", "eurepoc", f"EuRepoC_{kind}_1.1.csv")
                        for kind in ("Global_Database", "Attribution_dataset", "Receiver_dataset")],
            "cfr": [shared_path("cyber_incidents", "cfr_cyber_operations", "jenniblan_jsis480", "cyber-operations-incidents.csv")],
        }
        for source, files in imports.items():
            assert main(["snapshot", "import", source, *map(str, files)]) == 0
        summary = run_pipeline(offline=True)
        assert summary.success, summary.render()
    return home


def query(home: Path, sql: str) -> list[tuple]:
    with open_warehouse(home) as con:
        return con.execute(sql).fetchall()


def test_every_kev_entry_is_published(cyber_home: Path):
    feed = json.loads(shared_path("cyber_incidents", "cisa_kev", "known_exploited_vulnerabilities.json").read_text())
    published = dict(query(cyber_home, "SELECT cve_id, known_ransomware_campaign_use FROM core.fct_exploited_vulnerability"))
    assert published == {v["cveID"]: v["knownRansomwareCampaignUse"] for v in feed["vulnerabilities"]}
    months = query(cyber_home, "SELECT sum(cves_added) FROM marts.kev_monthly")[0][0]
    assert months == len(feed["vulnerabilities"])


def test_every_dcid_incident_is_published_or_quarantined_with_a_reason(cyber_home: Path):
    published = query(cyber_home, "SELECT count(*) FROM core.fct_cyber_incident WHERE source = 'dcid'")[0][0]
    quarantined = query(cyber_home, "SELECT count(*), bool_and(reason <> '') FROM meta.quarantine WHERE source = 'dcid'")
    assert published + quarantined[0][0] == 429  # "DCID 2.0 contains 429 incidents" (Cyber Defense Review 8(2))
    assert quarantined[0][1]
    # one initiator and one target state per incident, never misaligned with the dyad
    assert query(cyber_home, """SELECT count(*) FROM core.fct_cyber_incident i
        WHERE source = 'dcid' AND (SELECT count(*) FROM core.brg_incident_initiator b WHERE b.incident_id = i.incident_id) <> 1""") == [(0,)]
    precisions = dict(query(cyber_home, "SELECT date_precision, count(*) FROM core.fct_cyber_incident GROUP BY 1"))
    assert set(precisions) <= {"day", "month", "year", None} and precisions.get("month", 0) > 0  # None: undated


def test_attack_groups_deduplicated_with_stated_attributions(cyber_home: Path):
    files = [p for d in ("enterprise-attack", "mobile-attack", "ics-attack")
             for p in shared_path("cyber_incidents", "mitre_attack", d, "intrusion-set").glob("*.json")]
    stix_ids = {json.loads(p.read_text())["objects"][0]["id"] for p in files}
    rows = query(cyber_home, "SELECT stix_id, attributed_iso3, attribution_basis FROM core.dim_threat_actor")
    assert {r[0] for r in rows} == stix_ids
    assert all((iso3 is None) == (basis is None) for _, iso3, basis in rows)


def test_one_query_answers_incidents_attributed_to_each_state_by_year(cyber_home: Path):
    rows = query(cyber_home, ATTRIBUTED_BY_STATE_AND_YEAR)
    by_state = {}
    for country, _, _, n in rows:
        by_state[country] = by_state.get(country, 0) + n
    attributions = query(cyber_home, """SELECT count(*) FROM (SELECT DISTINCT i.incident_id, b.iso3, i.source
        FROM core.fct_cyber_incident i JOIN core.brg_incident_initiator b USING (incident_id)
        WHERE i.start_date IS NOT NULL AND b.iso3 IS NOT NULL)""")[0][0]
    assert sum(by_state.values()) == attributions
    assert {"Russia", "China", "Iran", "North Korea"} <= set(by_state)
    assert {s for _, _, s, _ in rows} == {"cfr", "dcid", "eurepoc"}


def test_every_eurepoc_and_cfr_incident_is_published_or_quarantined(cyber_home: Path):
    import csv

    global_csv = shared_path("cyber_incidents", "eurepoc", "EuRepoC_Global_Database_1.1.csv")
    with open(global_csv, newline="", encoding="utf-8") as fh:
        eurepoc_ids = {r["ID"] for r in csv.DictReader(fh)}
    published = {i for (i,) in query(cyber_home, "SELECT source_incident_id FROM core.fct_cyber_incident WHERE source='eurepoc'")}
    assert published == eurepoc_ids
    cfr_csv = shared_path("cyber_incidents", "cfr_cyber_operations", "jenniblan_jsis480", "cyber-operations-incidents.csv")
    with open(cfr_csv, newline="", encoding="utf-8") as fh:
        cfr_rows = sum(1 for _ in csv.DictReader(fh))
    cfr = query(cyber_home, """SELECT (SELECT count(*) FROM core.fct_cyber_incident WHERE source='cfr'),
                                      (SELECT count(*) FROM meta.quarantine WHERE source='cfr')""")[0]
    assert cfr[0] + cfr[1] == cfr_rows and cfr[0] > 0.95 * cfr_rows
    # Partial dates stay partial: EuRepoC has month- and year-precision incidents.
    assert {p for (p,) in query(cyber_home, "SELECT DISTINCT date_precision FROM core.fct_cyber_incident WHERE source='eurepoc'")} >= {"day", "month", "year"}


def test_incidents_reported_by_several_sources_are_linked_not_merged(cyber_home: Path):
    links = query(cyber_home, """SELECT l.confidence, a.source, b.source FROM core.incident_links l
        JOIN core.fct_cyber_incident a ON a.incident_id = l.incident_id_a
        JOIN core.fct_cyber_incident b ON b.incident_id = l.incident_id_b""")
    assert links and all(sa != sb for _, sa, sb in links)
    assert {c for c, _, _ in links} <= {"high", "medium"}
