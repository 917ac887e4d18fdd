"""CISA KEV: the JSON feed and its CSV twin to one validated row per CVE; the bundled sample and its generator.

`python -m tests.test_cisa_kev_transforms` rewrites data/samples/cisa_kev/ (invented vendors and CVEs).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from transforms.cyber_incidents.cisa_kev import KEV_SCHEMA, read_kev_csv, read_kev_json
from transforms.errors import SourceFormatError

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "samples" / "cisa_kev"
JSON_NAME = "known_exploited_vulnerabilities.json"
CSV_NAME = "known_exploited_vulnerabilities.csv"
ACTION = ("Apply mitigations per vendor instructions, follow applicable BOD 22-01 guidance for cloud services, "
          "or discontinue use of the product if mitigations are unavailable.")

# (cve, vendor, product, kind, added, due, ransomware, notes, cwes): invented, in CISA's shapes.
SAMPLE = [
    ("CVE-2021-90011", "Acme", "RoadRunner Gateway", "Path Traversal", "2021-11-03", "2021-05-01", "Known",
     "https://acme.example/psirt/90011", ["CWE-22"]),
    ("CVE-2021-90012", "Acme", "RoadRunner Gateway", "Improper Authentication", "2021-11-03", "2022-05-03",
     "Unknown", "https://acme.example/psirt/90012", []),
    ("CVE-2022-90021", "Globex", "Hammock OS", "Use-After-Free", "2022-03-15", "2022-04-05", "Unknown",
     "https://globex.example/advisory/21 ; https://nvd.example/vuln/detail/CVE-2022-90021", ["CWE-416"]),
    ("CVE-2022-90022", "Initech", "TPS Reporter", "SQL Injection", "2022-06-01", "2022-06-22", "Known",
     "https://initech.example/security ; https://nvd.example/vuln/detail/CVE-2022-90022", ["CWE-89"]),
    ("CVE-2022-123456", "Hooli", "Nucleus Storage", "Out-of-Bounds Write", "2022-09-08", "2022-09-29", "Unknown",
     "https://hooli.example/sec/123456", ["CWE-787", "CWE-20"]),
    ("CVE-2023-90031", "Vandelay Industries", "Latex Portal", "OS Command Injection", "2023-01-10", "2023-01-31",
     "Unknown", "https://vandelay.example/kb/31", ["CWE-78"]),
    ("CVE-2023-90032", "Umbrella Labs", "Hive Manager", "Deserialization of Untrusted Data", "2023-04-18",
     "2023-05-09", "Known", "https://umbrella.example/hive ; https://nvd.example/vuln/detail/CVE-2023-90032",
     ["CWE-502"]),
    ("CVE-2023-90033", "Stark Systems", "Jarvis Console", "Missing Authorization", "2023-07-27", "2023-08-17",
     "Unknown", "", []),
    ("CVE-2023-90034", "Wayne Networks", "Cave VPN", "Server-Side Request Forgery", "2023-11-02", "2023-11-23",
     "Unknown", "https://wayne.example/psirt/34", ["CWE-918"]),
    ("CVE-2024-90041", "Cyberdyne", "Skynet Edge", "Code Injection", "2024-02-14", "2024-03-06", "Known",
     "This vulnerability affects a common open-source component, third-party library, or a protocol used by "
     "different products. For more information, please see: https://cyberdyne.example/sa/41 ; "
     "https://nvd.example/vuln/detail/CVE-2024-90041", ["CWE-94", "CWE-77", "CWE-20"]),
    ("CVE-2024-90042", "Globex", "Hammock OS", "Privilege Escalation", "2024-05-21", "2024-06-11", "Unknown",
     "https://globex.example/advisory/42", ["CWE-269"]),
    ("CVE-2024-90043", "Initech", "Stapler Service", "Hard-coded Credentials", "2024-08-06", "2024-08-27",
     "Unknown", "https://initech.example/security/43", ["CWE-798", "CWE-259"]),
    ("CVE-2024-90044", "Hooli", "Nucleus Storage", "Cross-Site Scripting", "2024-10-29", "2024-11-19", "Unknown",
     "https://hooli.example/sec/44", ["CWE-79"]),
    ("CVE-2025-90051", "Acme", "Anvil Firewall", "Link Following", "2025-03-10", "2025-03-31", "Unknown",
     "https://acme.example/psirt/51", []),
    ("CVE-2025-90052", "Stark Systems", "Jarvis Console", "Authentication Bypass", "2025-03-10", "2025-03-31",
     "Unknown", "https://stark.example/advisories/52", ["CWE-288"]),
]
CATALOG_VERSION = "2025.03.10"
DATE_RELEASED = "2025-03-10T15:02:11.4187Z"


def _vulnerability(row: tuple) -> dict:
    cve, vendor, product, kind, added, due, ransomware, notes, cwes = row
    name = f"{vendor} {product} {kind} Vulnerability"
    # CISA's prose uses curly apostrophes; the JSON escapes them as \u2019.
    description = f"{vendor} {product} contains a {kind.lower()} vulnerability in the product\u2019s web interface."
    return {"cveID": cve, "vendorProject": vendor, "product": product, "vulnerabilityName": name, "dateAdded": added,
            "shortDescription": description, "requiredAction": ACTION, "dueDate": due,
            "knownRansomwareCampaignUse": ransomware, "notes": notes, "cwes": cwes}


def sample_catalog() -> dict:
    """The sample catalog as a dict, newest additions first like CISA's feed."""
    items = [_vulnerability(r) for r in sorted(SAMPLE, key=lambda r: (r[4], r[0]), reverse=True)]
    return {"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": CATALOG_VERSION,
            "dateReleased": DATE_RELEASED, "count": len(items), "vulnerabilities": items}


def sample_json_bytes(catalog: dict | None = None) -> bytes:
    """CISA's layout: 4-space indent, ASCII with \\u escapes, every '/' written as '\\/'."""
    text = json.dumps(sample_catalog() if catalog is None else catalog, indent=4, ensure_ascii=True)
    return text.replace("/", "\\/").encode("ascii")


def _csv_field(value: str) -> str:
    # CISA quotes a field when it holds a space, comma or quote; bare dates, ids and single words stay bare.
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ' ,"') else value


def sample_csv_bytes() -> bytes:
    """The CSV twin: same rows, cwes joined with ', ', UTF-8 (no BOM), LF line ends."""
    items = sample_catalog()["vulnerabilities"]
    header = list(items[0])
    lines = [",".join(header)]
    for item in items:
        lines.append(",".join(_csv_field(", ".join(v) if k == "cwes" else v) for k, v in item.items()))
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_sample(folder: Path = SAMPLE_DIR) -> None:
    """Rewrite the bundled sample files (byte-identical on every run)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / JSON_NAME).write_bytes(sample_json_bytes())
    (folder / CSV_NAME).write_bytes(sample_csv_bytes())


# --- the bundled sample -------------------------------------------------------------------------

def test_committed_sample_is_what_the_generator_writes():
    assert (SAMPLE_DIR / JSON_NAME).read_bytes() == sample_json_bytes(), "run python -m tests.test_cisa_kev_transforms"
    assert (SAMPLE_DIR / CSV_NAME).read_bytes() == sample_csv_bytes()
    assert sorted(p.name for p in SAMPLE_DIR.iterdir()) == [CSV_NAME, JSON_NAME]


@pytest.fixture(scope="module")
def kev() -> pl.DataFrame:
    return read_kev_json(SAMPLE_DIR / JSON_NAME, JSON_NAME)


def test_json_sample_rows_types_and_catalog_fields(kev):
    assert kev.schema == KEV_SCHEMA
    assert kev.height == 15 and kev["cve_id"].is_unique().all()
    assert kev["catalog_version"].unique().to_list() == ["2025.03.10"]
    assert kev["date_released"].unique().to_list() == [datetime(2025, 3, 10, 15, 2, 11, 418700, tzinfo=timezone.utc)]
    assert kev["source_file"].unique().to_list() == [JSON_NAME]
    assert dict(kev["known_ransomware_campaign_use"].value_counts().iter_rows()) == {"Known": 4, "Unknown": 11}


def test_json_sample_values_of_one_cve(kev):
    row = kev.filter(pl.col("cve_id") == "CVE-2024-90041").row(0, named=True)
    assert row["vendor_project"] == "Cyberdyne" and row["product"] == "Skynet Edge"
    assert row["date_added"] == date(2024, 2, 14) and row["due_date"] == date(2024, 3, 6)
    assert row["cwes"] == ["CWE-94", "CWE-77", "CWE-20"]
    assert row["short_description"].endswith("product\u2019s web interface.")  # \u2019 decoded
    assert "https://cyberdyne.example/sa/41" in row["notes"]  # '\/' unescaped


def test_empty_cwes_and_notes(kev):
    assert kev.filter(pl.col("cwes").list.len() == 0)["cve_id"].sort().to_list() == [
        "CVE-2021-90012", "CVE-2023-90033", "CVE-2025-90051"]
    assert kev.filter(pl.col("notes").is_null())["cve_id"].to_list() == ["CVE-2023-90033"]


def test_due_date_before_date_added_is_kept(kev):
    row = kev.filter(pl.col("cve_id") == "CVE-2021-90011").row(0, named=True)
    assert (row["date_added"], row["due_date"]) == (date(2021, 11, 3), date(2021, 5, 1))


def test_csv_twin_stages_to_the_same_rows(kev):
    csv = read_kev_csv(SAMPLE_DIR / CSV_NAME, CSV_NAME, CATALOG_VERSION, kev["date_released"][0])
    assert csv.drop("source_file").equals(kev.drop("source_file"))
    bare = read_kev_csv((SAMPLE_DIR / CSV_NAME).read_bytes(), CSV_NAME)
    assert bare["catalog_version"].null_count() == bare.height == 15  # the CSV carries no catalog metadata


# --- validation ---------------------------------------------------------------------------------

def broken(change) -> bytes:
    catalog = sample_catalog()
    change(catalog)
    return sample_json_bytes(catalog)


def test_count_mismatch_fails():
    with pytest.raises(SourceFormatError, match=r"count says 16 but vulnerabilities holds 15"):
        read_kev_json(broken(lambda c: c.update(count=16)), JSON_NAME)


def test_count_must_be_an_integer():
    with pytest.raises(SourceFormatError, match="count"):
        read_kev_json(broken(lambda c: c.update(count="15")), JSON_NAME)


def test_duplicate_cve_fails():
    def duplicate(c):
        c["vulnerabilities"].append(dict(c["vulnerabilities"][3]))
        c["count"] += 1
    with pytest.raises(SourceFormatError, match="duplicate CVE"):
        read_kev_json(broken(duplicate), JSON_NAME)


@pytest.mark.parametrize("bad_id", ["CVE-21-1234", "CVE-2021-123", "cve-2021-12345", "CVE-2021-12345 "])
def test_malformed_cve_id_is_named(bad_id):
    def rename(c):
        c["vulnerabilities"][0]["cveID"] = bad_id
    with pytest.raises(SourceFormatError, match="malformed CVE id") as e:
        read_kev_json(broken(rename), JSON_NAME)
    assert repr(bad_id) in str(e.value) and JSON_NAME in str(e.value)


def test_missing_required_field_is_named():
    with pytest.raises(SourceFormatError, match=r"CVE-2025-90052: missing required field 'dueDate'"):
        read_kev_json(broken(lambda c: c["vulnerabilities"][0].pop("dueDate")), JSON_NAME)


def test_missing_top_level_field_but_not_title():
    with pytest.raises(SourceFormatError, match="'dateReleased'"):
        read_kev_json(broken(lambda c: c.pop("dateReleased")), JSON_NAME)
    assert read_kev_json(broken(lambda c: c.pop("title")), JSON_NAME).height == 15


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dateAdded", "2024/02/14", "dateAdded '2024/02/14' is not a YYYY-MM-DD date"),
        ("dueDate", "2024-02-30", "dueDate '2024-02-30' is not a YYYY-MM-DD date"),
        ("knownRansomwareCampaignUse", "Suspected", "'Suspected' is not Known or Unknown"),
        ("cwes", ["CWE-79", "NVD-CWE-noinfo"], "malformed CWE id 'NVD-CWE-noinfo'"),
        ("cwes", "CWE-79", "cwes is not a list"),
        ("product", None, "product is NoneType, not a string"),
    ],
)
def test_field_rules(field, value, message):
    def change(c):
        c["vulnerabilities"][0][field] = value
    with pytest.raises(SourceFormatError, match=message):
        read_kev_json(broken(change), JSON_NAME)


def test_optional_fields_may_be_absent():
    def strip(c):
        for item in c["vulnerabilities"]:
            for key in ("knownRansomwareCampaignUse", "notes", "cwes"):
                item.pop(key)
    frame = read_kev_json(broken(strip), JSON_NAME)
    assert frame["known_ransomware_campaign_use"].null_count() == 15
    assert frame["cwes"].list.len().sum() == 0


def test_date_released_must_carry_a_zone():
    with pytest.raises(SourceFormatError, match="dateReleased"):
        read_kev_json(broken(lambda c: c.update(dateReleased="2025-03-10 15:02")), JSON_NAME)


@pytest.mark.parametrize(
    ("raw", "message"),
    [(b"<!DOCTYPE html><html>Access Denied</html>", "HTML"), (b'{"count": 1', "invalid JSON"), (b"[]", "not an object")],
)
def test_not_a_catalog(raw, message):
    with pytest.raises(SourceFormatError, match=message):
        read_kev_json(raw, JSON_NAME)


def test_csv_header_drift_fails():
    text = sample_csv_bytes().decode("utf-8").replace("vulnerabilityName", "vulnName", 1)
    with pytest.raises(SourceFormatError, match="missing header column 'vulnerabilityName'"):
        read_kev_csv(text.encode("utf-8"), CSV_NAME)


def test_csv_bad_row_is_named():
    text = sample_csv_bytes().decode("utf-8").replace("CVE-2023-90031", "CVE-2023-9OO31")
    with pytest.raises(SourceFormatError, match="CVE-2023-9OO31"):
        read_kev_csv(text.encode("utf-8"), CSV_NAME)


if __name__ == "__main__":
    write_sample()
    print(f"wrote {SAMPLE_DIR}")
