"""EuRepoC Strapi REST API pages (`eurepoc_api_p<k>.json`) to the conformed cyber shape, like the bulk CSVs.

What the record shape rests on (public code read through the corpora, none of it EuRepoC API documentation):
- The Strapi v4 envelope `{"data": [{"id": n, "attributes": {...}}], "meta": {"pagination": {"page",
  "pageSize", "pageCount", "total"}}}`, the `Authorization: Bearer <token>` header, `sort=id:asc`,
  `pagination[pageSize]=100` / `pagination[page]=N` and the status filter: the official wrapper's
  `eurepoc/data_query_utils.py` (PyPI `eurepoc` 0.1.x by Camille Borrett, EuRepoC; the file is stored without
  its repository name). It reads `page["data"][i]["attributes"]`, `["id"]` and
  `["meta"]["pagination"]["pageCount"]`.
- The attribute paths in API_FIELDS come from the same file's `populate` list and filter keys, e.g.
  `receiver.country`, `filters[receiver][category][code][title]`,
  `filters[attributions][initiators][countries][name]`, `attributions.attribution_basis.code`,
  `attributes.incident_type.code`, `filters[start_date][$gte]`.
- Unknown vs Not available: `jhemmelskamp/eurepoc_api_bundle` eurepoc_api.py (commit f06df5eb). That file
  is written for the other API (api.eurepoc.eu, flat arrays keyed by incident_id), which is not read here.
- Not found anywhere: a real response body, and the code that unnests one (`get_clean_data`,
  `EuRepoC.cleaning_functions`). So these points are ASSUMED: how relations are serialised (Strapi v4
  `{"data": {"id", "attributes"}}` wrappers, or plain objects; both are read), whether a receiver has one
  country or a list, the field names `name` (of an initiator) and `end_date`, the `YYYY-MM-DD` form of the
  dates, and the values being the same labels as the v1.1 CSVs ("Russia", "Not available", "Europe (region)").
  Flat records (Strapi v5, no `attributes` envelope) are read as well, in case the API has moved on.
  All of the shape is written in API_FIELDS, and the fetcher's `populate` list comes from it. If the real
  API differs, correcting API_FIELDS corrects both the fetcher and this reader.

Decisions, chosen so that an incident read from the API gives the same conformed rows as from the bulk
release (tests/test_eurepoc_api.py checks this on the samples):
- Initiators: one row per attribution x initiator x country x category, exact repeats removed (as the
  Attribution file gives them); the basis is that attribution's basis titles, joined with "; " if several.
  An attribution without initiators gives no row. Targets: one row per receiver x country x category.
- Dates and precision, Unknown vs Not available, quarantine reasons and country resolution are the bulk
  reader's (transforms/cyber_incidents/eurepoc.py). A date may also be a Strapi datetime
  (`2019-03-01T00:00:00.000Z`), of which the calendar date is kept. Repeated incident types (one per subcode)
  are listed once.
- A page that is not JSON or not a Strapi list, or a record that lacks a top-level field of API_FIELDS, is a
  format error of the whole file: that means the shape drifted or `populate` was not applied, and staging
  empty bridges would hide it. A record whose id or date cannot be read, or an id repeated across pages,
  goes to quarantine.

The bundled sample (data/samples/eurepoc/api) holds incidents 101-106, 110-113 and 116 of the bulk sample in
this shape, all invented, so that the tests can compare both paths incident by incident.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from transforms.cyber_incidents.eurepoc import QUARANTINE_SCHEMA, stage_eurepoc
from transforms.cyber_incidents.eurepoc_fields import SOURCE, date_precision, lower_or_none, rows_frame
from transforms.csv_rows import blank_to_none
from transforms.cyber_incidents.schema import INCIDENT_SCHEMA, INITIATOR_SCHEMA, TARGET_SCHEMA, IncidentTables
from transforms.errors import SourceFormatError

API_PAGE = re.compile(r"eurepoc_api_p(\d+)\.json")

# THE ASSUMED RECORD SHAPE, all of it (see the module docstring for what is evidenced and what is not).
# Dotted paths of Strapi attribute names. Top-level entries are read from one incident's `attributes`; the
# entries commented "per X" are read from one element of the list that the "X" entry names. On the way,
# relation wrappers ({"data": ...}, {"id": n, "attributes": {...}}) are unwrapped and lists are read
# element by element, so a path gives every value it reaches.
API_FIELDS: dict[str, str] = {
    "name": "name",
    "description": "description",
    "start_date": "start_date",
    "end_date": "end_date",
    "incident_type": "attributes.incident_type.code.title",
    "receivers": "receiver",
    "receiver_country": "country.name",  # per receiver
    "receiver_category": "category.code.title",  # per receiver
    "attributions": "attributions",
    "attribution_basis": "attribution_basis.code.title",  # per attribution
    "initiators": "initiators",  # per attribution
    "initiator_name": "name",  # per initiator
    "initiator_country": "countries.name",  # per initiator
    "initiator_category": "category.code.title",  # per initiator
}
_PARENT = {"receiver_country": "receivers", "receiver_category": "receivers", "attribution_basis": "attributions",
           "initiators": "attributions", "initiator_name": "initiators", "initiator_country": "initiators",
           "initiator_category": "initiators"}
_LISTS = {"receivers", "attributions", "initiators"}

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def _full_path(field: str) -> str:
    parent = _PARENT.get(field)
    return f"{_full_path(parent)}.{API_FIELDS[field]}" if parent else API_FIELDS[field]


def api_populate() -> list[str]:
    """The Strapi `populate` paths the reader needs: every relation or component that API_FIELDS goes through."""
    paths = []
    for field in API_FIELDS:
        full = _full_path(field)
        # The last segment of a value path is a plain field; a list entry ("receiver") is itself populated.
        target = full if field in _LISTS else full.rpartition(".")[0]
        if target and target not in paths:
            paths.append(target)
    # "a.b" populates "a" too, so only the deepest paths are needed.
    return [p for p in paths if not any(q.startswith(p + ".") for q in paths)]


def is_api_page(path: Path | str) -> bool:
    """True for a file named like an API page of the snapshot (`eurepoc_api_p<k>.json`)."""
    return API_PAGE.fullmatch(Path(path).name) is not None


def _fail(file: str, problem: str) -> SourceFormatError:
    return SourceFormatError(SOURCE, file, problem)


def _unwrap(value: Any) -> Any:
    """A value with Strapi v4 relation wrappers removed: {"data": x} is x, {"id", "attributes": {...}} is {...}."""
    while isinstance(value, dict):
        if "data" in value and set(value) <= {"data", "meta"}:
            value = value["data"]
        elif isinstance(value.get("attributes"), dict) and set(value) <= {"id", "attributes", "meta"}:
            value = value["attributes"]
        else:
            break
    return value


def _elements(value: Any) -> list:
    value = _unwrap(value)
    if value is None:
        return []
    return [_unwrap(v) for v in value if v is not None] if isinstance(value, list) else [value]


def _walk(value: Any, path: str) -> list:
    """Every value `path` reaches below `value` (lists read element by element; missing or null gives nothing)."""
    items = _elements(value)
    for key in path.split("."):
        items = [x for item in items if isinstance(item, dict) for x in _elements(item.get(key))]
    return items


def _texts(value: Any, field: str, where: str, file: str) -> list[str]:
    """The text values of one API_FIELDS entry below `value`, stripped, empty ones dropped."""
    out = []
    for item in _walk(value, API_FIELDS[field]):
        if not isinstance(item, str):
            raise _fail(file, f"{where}: {field} ({_full_path(field)}) is not text but {item!r:.60}; "
                              "the record shape differs from API_FIELDS")
        if item.strip():
            out.append(item.strip())
    return out


def _text(value: Any, field: str, where: str, file: str) -> str | None:
    values = _texts(value, field, where, file)
    if len(values) > 1:
        raise _fail(file, f"{where}: {field} ({_full_path(field)}) has {len(values)} values, expected one")
    return values[0] if values else None


def _date(value: Any) -> date | None:
    """YYYY-MM-DD, or a datetime of which the date is kept; None for null or ""; ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match = _DATE.fullmatch(value.strip()) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise ValueError(value) from None


def _load_page(path: Path) -> tuple[int, list]:
    """(page number from the file name, the `data` list) of one saved page."""
    name = path.name
    number = API_PAGE.fullmatch(name)
    if number is None:
        raise _fail(name, "not an EuRepoC API page (expected a name like eurepoc_api_p1.json)")
    try:
        payload = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise _fail(name, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise _fail(name, f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        error = payload.get("error") if isinstance(payload, dict) else None
        detail = f": the API answered with an error {json.dumps(error)[:200]}" if error else ""
        raise _fail(name, f"not a Strapi list response (no \"data\" array){detail}")
    return int(number.group(1)), payload["data"]


def _record(page: int, index: int, element: Any) -> str:
    body = element if isinstance(element, dict) else {"_value": element}
    return json.dumps({"_page": page, "_index": index, **body}, ensure_ascii=False, sort_keys=True)


def _incident_id(element: Any) -> str | None:
    raw = element.get("id") if isinstance(element, dict) else None
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int) and raw >= 0:
        return str(raw)
    if isinstance(raw, str) and raw.strip().isdigit():
        return raw.strip()
    return None


def _attributes(element: dict) -> dict:
    """A record's attributes: Strapi v4 nests them as {"id", "attributes"}; a flat record (v5) is its own.

    Told apart by the envelope's keys, not by an "attributes" key: EuRepoC has a component named "attributes".
    """
    attrs = _unwrap(element)
    return attrs if isinstance(attrs, dict) else element


def _check_top_level(attrs: dict, where: str, file: str) -> None:
    for field, path in API_FIELDS.items():
        if field in _PARENT:
            continue
        key = path.split(".")[0]
        if key not in attrs:
            raise _fail(file, f"{where}: no attribute {key!r} (API_FIELDS[{field!r}] = {path!r}); the record "
                              "shape drifted or the request lacked `populate`")


def _initiators(incident: str, attrs: dict, where: str, file: str) -> list[dict]:
    rows = []
    for attribution in _walk(attrs, API_FIELDS["attributions"]):
        basis = "; ".join(dict.fromkeys(_texts(attribution, "attribution_basis", where, file))) or None
        for initiator in _walk(attribution, API_FIELDS["initiators"]):
            actor = _text(initiator, "initiator_name", where, file)
            countries = _texts(initiator, "initiator_country", where, file) or [None]
            categories = _texts(initiator, "initiator_category", where, file) or [None]
            rows += [
                {"incident_id": f"{SOURCE}:{incident}", "country_raw": blank_to_none(c), "iso3": None, "actor": actor,
                 "actor_type": lower_or_none(blank_to_none(t)), "attribution_basis": basis}
                for c in countries for t in categories
            ]
    return rows


def _targets(incident: str, attrs: dict, where: str, file: str) -> list[dict]:
    rows = []
    for receiver in _walk(attrs, API_FIELDS["receivers"]):
        countries = _texts(receiver, "receiver_country", where, file) or [None]
        sectors = _texts(receiver, "receiver_category", where, file) or [None]
        rows += [{"incident_id": f"{SOURCE}:{incident}", "country_raw": c, "iso3": None, "sector": s}
                 for c in countries for s in sectors]
    return rows


def read_eurepoc_api_snapshot(files: list[Path]) -> IncidentTables:
    """Parse the API pages of a snapshot into IncidentTables (iso3 not yet resolved), like read_eurepoc_snapshot."""
    if not files:
        raise _fail("no files", "no EuRepoC API pages (eurepoc_api_p<k>.json) in the snapshot")
    pages = sorted((_load_page(Path(p)) + (Path(p).name,) for p in files), key=lambda t: t[0])
    quarantine: list[dict] = []
    by_id: dict[str, list[tuple[str, int, int, dict]]] = {}
    for page, elements, file in pages:
        for index, element in enumerate(elements):
            if not isinstance(element, dict):
                reason = "not a record (a JSON object)"
            elif (incident := _incident_id(element)) is None:
                reason = "id is not a whole number"
            else:
                by_id.setdefault(incident, []).append((file, page, index, element))
                continue
            quarantine.append({"source_file": file, "reason": reason, "record": _record(page, index, element)})
    incidents, initiators, targets = [], [], []
    for incident, copies in by_id.items():
        file, page, index, element = copies[0]
        if len(copies) > 1:
            identical = all(c[3] == element for c in copies)
            keep = copies[1:] if identical else copies
            reason = ("duplicate of an earlier row with the same ID" if identical
                      else "ID repeated with different content")  # the bulk reader's reasons
            quarantine += [{"source_file": f, "reason": reason, "record": _record(p, i, e)} for f, p, i, e in keep]
            if not identical:
                continue
        attrs = _attributes(element)
        where = f"incident {incident}"
        _check_top_level(attrs, where, file)
        name = _text(attrs, "name", where, file)
        description = _text(attrs, "description", where, file)
        try:
            start = _date(_unwrap(attrs.get(API_FIELDS["start_date"])))
            end = _date(_unwrap(attrs.get(API_FIELDS["end_date"])))
        except ValueError as e:
            quarantine.append({"source_file": file, "reason": f"unreadable date {e.args[0]!r} (not YYYY-MM-DD)",
                               "record": _record(page, index, element)})
            continue
        text = f"{name or ''}\n{description or ''}"
        incidents.append({
            "incident_id": f"{SOURCE}:{incident}",
            "source": SOURCE,
            "source_incident_id": incident,
            "title": name,
            "description": description,
            "start_date": start,
            "date_precision": date_precision(start, text),
            "end_date": end,
            "end_date_precision": date_precision(end, text),
            "incident_types_raw": list(dict.fromkeys(_texts(attrs, "incident_type", where, file))),
            "source_file": file,
        })
        initiators += _initiators(incident, attrs, where, file)
        targets += _targets(incident, attrs, where, file)
    return IncidentTables(
        incidents=rows_frame(incidents, INCIDENT_SCHEMA),
        initiators=rows_frame(initiators, INITIATOR_SCHEMA).unique(maintain_order=True),
        targets=rows_frame(targets, TARGET_SCHEMA).unique(maintain_order=True),
        quarantine=rows_frame(quarantine, QUARANTINE_SCHEMA),
    )


def read_eurepoc_api_pages(files: list[Path], *, crosswalk: pl.DataFrame, aliases: pl.DataFrame) -> IncidentTables:
    """API pages to staged IncidentTables (iso3 resolved, year-aware), the same outputs as the bulk path's staging."""
    return stage_eurepoc(read_eurepoc_api_snapshot(files), aliases, crosswalk)
