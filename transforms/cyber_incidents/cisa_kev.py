"""CISA Known Exploited Vulnerabilities: the JSON feed (or its CSV twin) to one row per CVE.

Decisions (../shared/data/cyber_incidents/SOURCES.md §5):
- The rules of CISA's `known_exploited_vulnerabilities_schema.json` (draft-07) are encoded here by hand:
  the four required top-level keys, the eight required keys of each vulnerability, the CVE and CWE
  id patterns, and YYYY-MM-DD dates. `title` is not required (the schema does not require it).
- Beyond the schema: `count` must equal the number of vulnerabilities, a CVE may appear only once, and
  `knownRansomwareCampaignUse` must be `Known` or `Unknown` (the schema's own description of the field);
  a new value would change its meaning, so it fails loudly instead of passing through.
- `known_ransomware_campaign_use` stays as published; `cwes` is a list (the CSV's `", "`-joined string is
  split); an empty `notes` becomes null in both forms so the two forms stage identically.
- The CSV carries no catalog metadata: `catalog_version` and `date_released` are null unless the caller
  passes them. A `due_date` before `date_added` is kept (CISA backdated the first entries' due dates).
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl

from transforms.errors import SourceFormatError

SOURCE = "cisa_kev"

KEV_SCHEMA = pl.Schema(
    {
        "cve_id": pl.Utf8,
        "vendor_project": pl.Utf8,
        "product": pl.Utf8,
        "vulnerability_name": pl.Utf8,
        "date_added": pl.Date,
        "short_description": pl.Utf8,
        "required_action": pl.Utf8,
        "due_date": pl.Date,
        "known_ransomware_campaign_use": pl.Utf8,  # as published: Known | Unknown
        "notes": pl.Utf8,
        "cwes": pl.List(pl.Utf8),
        "catalog_version": pl.Utf8,
        "date_released": pl.Datetime("us", "UTC"),
        "source_file": pl.Utf8,
    }
)

CATALOG_REQUIRED = ("catalogVersion", "dateReleased", "count", "vulnerabilities")
VULNERABILITY_REQUIRED = (
    "cveID", "vendorProject", "product", "vulnerabilityName", "dateAdded", "shortDescription", "requiredAction",
    "dueDate",
)
VULNERABILITY_OPTIONAL = ("knownRansomwareCampaignUse", "notes", "cwes")
RANSOMWARE_VALUES = frozenset({"Known", "Unknown"})

_CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,19}")
_CWE_ID = re.compile(r"CWE-[0-9]+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def _fail(file: str, problem: str) -> SourceFormatError:
    return SourceFormatError(SOURCE, file, problem)


def _text(path: Path | bytes, file: str) -> str:
    raw = (path if isinstance(path, bytes) else Path(path).read_bytes()).removeprefix(b"\xef\xbb\xbf")
    if raw[:200].lstrip().startswith(b"<"):
        raise _fail(file, "got HTML/XML instead of the KEV catalog")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _fail(file, f"not UTF-8 text ({e.reason} at byte {e.start})") from e


def _date(value: str, field: str, cve: str, file: str) -> date:
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(file, f"{cve}: {field} {value!r} is not a YYYY-MM-DD date") from None


def _date_released(value: Any, file: str) -> datetime:
    # CISA writes a 4-digit fraction ("…19.9796Z"); Python 3.11 parses any fraction and a Z.
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise _fail(file, f"dateReleased {value!r} is not an ISO date-time with a time zone")
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def _vulnerability(item: Any, index: int, file: str) -> dict[str, Any]:
    """One schema-checked vulnerability as a KEV_SCHEMA row (without the catalog columns)."""
    if not isinstance(item, dict):
        raise _fail(file, f"vulnerabilities[{index}] is not an object")
    cve = item.get("cveID")
    where = f"{cve}" if isinstance(cve, str) else f"vulnerabilities[{index}]"
    for key in VULNERABILITY_REQUIRED:
        if key not in item:
            raise _fail(file, f"{where}: missing required field {key!r}")
        if not isinstance(item[key], str):
            raise _fail(file, f"{where}: {key} is {type(item[key]).__name__}, not a string")
    if not _CVE_ID.fullmatch(cve):
        raise _fail(file, f"malformed CVE id {cve!r} (expected CVE-YYYY-NNNN…)")
    for key in ("knownRansomwareCampaignUse", "notes"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise _fail(file, f"{cve}: {key} is {type(item[key]).__name__}, not a string")
    ransomware = item.get("knownRansomwareCampaignUse")
    if ransomware is not None and ransomware not in RANSOMWARE_VALUES:
        raise _fail(file, f"{cve}: knownRansomwareCampaignUse {ransomware!r} is not Known or Unknown")
    cwes = item.get("cwes", [])
    if cwes is None:
        cwes = []
    if not isinstance(cwes, list) or not all(isinstance(c, str) for c in cwes):
        raise _fail(file, f"{cve}: cwes is not a list of strings")
    bad = [c for c in cwes if not _CWE_ID.fullmatch(c)]
    if bad:
        raise _fail(file, f"{cve}: malformed CWE id {bad[0]!r} (expected CWE-N)")
    return {
        "cve_id": cve,
        "vendor_project": item["vendorProject"],
        "product": item["product"],
        "vulnerability_name": item["vulnerabilityName"],
        "date_added": _date(item["dateAdded"], "dateAdded", cve, file),
        "short_description": item["shortDescription"],
        "required_action": item["requiredAction"],
        "due_date": _date(item["dueDate"], "dueDate", cve, file),
        "known_ransomware_campaign_use": ransomware,
        "notes": item.get("notes") or None,
        "cwes": cwes,
    }


def _frame(
    items: list[Any], file: str, catalog_version: str | None, date_released: datetime | None
) -> pl.DataFrame:
    rows = [_vulnerability(item, i, file) for i, item in enumerate(items)]
    seen: set[str] = set()
    for row in rows:
        if row["cve_id"] in seen:
            raise _fail(file, f"duplicate CVE {row['cve_id']}")
        seen.add(row["cve_id"])
    for row in rows:
        row.update(catalog_version=catalog_version, date_released=date_released, source_file=file)
    return pl.DataFrame(rows, schema=KEV_SCHEMA, orient="row").sort("date_added", "cve_id")


def read_kev_json(path: Path | bytes, file_name: str) -> pl.DataFrame:
    """Parse known_exploited_vulnerabilities.json into one KEV_SCHEMA row per CVE, validated."""
    try:
        catalog = json.loads(_text(path, file_name))
    except json.JSONDecodeError as e:
        raise _fail(file_name, f"invalid JSON ({e.msg} at line {e.lineno})") from e
    if not isinstance(catalog, dict):
        raise _fail(file_name, f"top level is {type(catalog).__name__}, not an object")
    for key in CATALOG_REQUIRED:
        if key not in catalog:
            raise _fail(file_name, f"missing required top-level field {key!r}")
    version, count, items = catalog["catalogVersion"], catalog["count"], catalog["vulnerabilities"]
    if not isinstance(version, str) or not version.strip():
        raise _fail(file_name, f"catalogVersion {version!r} is not a non-empty string")
    # bool is an int subclass in Python; JSON true is no count.
    if not isinstance(count, int) or isinstance(count, bool):
        raise _fail(file_name, f"count {count!r} is not an integer")
    if not isinstance(items, list):
        raise _fail(file_name, "vulnerabilities is not an array")
    if count != len(items):
        raise _fail(file_name, f"count says {count} but vulnerabilities holds {len(items)}")
    return _frame(items, file_name, version, _date_released(catalog["dateReleased"], file_name))


def read_kev_csv(
    path: Path | bytes,
    file_name: str,
    catalog_version: str | None = None,
    date_released: datetime | None = None,
) -> pl.DataFrame:
    """Parse known_exploited_vulnerabilities.csv into read_kev_json's rows (catalog fields from the caller)."""
    try:
        table = pl.read_csv(io.BytesIO(_text(path, file_name).encode("utf-8")), infer_schema=False)
    except pl.exceptions.PolarsError as e:
        raise _fail(file_name, f"unreadable CSV: {e}") from e
    for key in VULNERABILITY_REQUIRED:
        if key not in table.columns:
            raise _fail(file_name, f"missing header column {key!r} (found {table.columns})")
    unknown = [c for c in table.columns if c not in VULNERABILITY_REQUIRED + VULNERABILITY_OPTIONAL]
    if unknown:
        raise _fail(file_name, f"unexpected header columns {unknown}")
    items = []
    for record in table.to_dicts():
        # Polars reads an empty field as null; the JSON form writes "" and [] for the same thing.
        item = {k: ("" if v is None else v) for k, v in record.items()}
        if "knownRansomwareCampaignUse" in item and item["knownRansomwareCampaignUse"] == "":
            item["knownRansomwareCampaignUse"] = None
        cwes = item.get("cwes", "")
        item["cwes"] = [c.strip() for c in cwes.split(",") if c.strip()]
        items.append(item)
    released = date_released.astimezone(timezone.utc) if date_released is not None else None
    return _frame(items, file_name, catalog_version, released)
