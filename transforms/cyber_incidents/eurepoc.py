"""EuRepoC Global Database (v1.1 CSVs: Global, long Attribution and Receiver files) to the conformed cyber shape.

Decisions (../shared/data/cyber_incidents/SOURCES.md §2; the v1.1 files have no date-precision or codebook
field to go by):
- Files are told apart by their header, not their name. The Global file is required; Attribution and Receiver
  are optional. The CIT subtype extract (`ci_subtype`) has no place in the conformed shape and is skipped.
- Initiators come from the Attribution file, one row per distinct (country, actor, category, basis): that file
  repeats identical rows (one per attributed country x actor x category), which would double-count in the bridge.
  Without it, from Global's `initiator_country` list, with `initiator_category` / `initiator_name` taken
  position by position when the lists are as long, the single value when they hold one, else null; the basis
  is then Global's `attribution_basis` with repeats removed. `attribution_type` has no column in the shape.
- Targets come from the Receiver file (receiver_country x receiver_category, exact repeats removed); without it
  from Global's `receiver_country` and the nested `receiver_category` (one inner list per receiver), which
  match the Receiver file row for row in v1.1. A single country with several inner lists is paired with each.
- `Unknown` and `Not available` are kept verbatim: EuRepoC uses them for different things.
- Date precision (see `date_precision`): a date not on the 1st is a day; on the 1st it is a day only if the
  incident's name or description names that day, else a month (a month other than January, or "January YYYY"
  named in the text), else a year (YYYY-01-01, which is how v1.1 stores year-only dates such as "Cyberwar 2000").
- Rows that cannot be trusted (bad ID, repeated ID, unreadable date, wrong field count, an Attribution or
  Receiver row of no kept incident, receivers whose lists cannot be paired) go to `quarantine`, never dropped.
  A malformed list literal is a format error of the whole file and raises SourceFormatError.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from transforms.csv_rows import blank_to_none, read_csv_rows, row_record
from transforms.cyber_incidents.eurepoc_fields import (
    SOURCE,
    aligned,
    date_precision,
    iso_day,
    list_literal,
    lower_or_none,
    rows_frame,
)
from transforms.cyber_incidents.schema import INCIDENT_SCHEMA, INITIATOR_SCHEMA, TARGET_SCHEMA, IncidentTables
from transforms.errors import SourceFormatError
from transforms.reference.countries import resolve_country_names


GLOBAL_COLUMNS = (
    "ID", "name", "description", "start_date", "end_date", "incident_type", "receiver_country",
    "receiver_category", "initiator_name", "initiator_country", "initiator_category", "attribution_basis",
)
ATTRIBUTION_COLUMNS = (
    "incident_ID", "attribution_basis", "attributed_initiator", "attributed_initiator_country",
    "attributed_initiator_category",
)
RECEIVER_COLUMNS = ("ID", "receiver_country", "receiver_category")
_CIT_MARKER = "ci_subtype"
QUARANTINE_SCHEMA = pl.Schema({"source_file": pl.Utf8, "reason": pl.Utf8, "record": pl.Utf8})

# Initiator/target labels of v1.1 that name no state: their iso3 stays null by design (validation treats any
# other null as an unmapped name). Any label ending in " (region)" is a region too (is_expected_null_country).
EXPECTED_NULL_COUNTRY_LABELS: frozenset[str] = frozenset({
    "Unknown", "Not available", "ISIS",
    "Africa", "Caucasus", "Eastern Europe", "North America", "Northern Europe", "South America", "Western Europe",
    "Asia (region)", "Balkans (region)", "Central America (region)", "Central Asia (region)", "EU (region)",
    "Eastern Asia (region)", "Europe (region)", "Global (region)", "Gulf Countries (region)", "Mena Region (region)",
    "Middle East (region)", "NATO (region)", "Northeast Asia (region)", "Oceania (region)", "South Asia (region)",
    "South China Sea (region)", "Southeast Asia (region)",
    "European Space Agency", "International Association of Athletics Federations", "Interpol",
    "Organization for Security and Cooperation in Europe", "UNICEF", "United Nations",
    "United Nations Economic and Social Council", "United Nations Environment Programme",
    "United Nations Organization", "World Anti-Doping Agency",
})
_REGION_SUFFIX = " (region)"

_ID = re.compile(r"\d+")


def is_expected_null_country(label: str | None) -> bool:
    """True for a label that names no state (Unknown, Not available, a region, an organisation)."""
    return label is not None and (label in EXPECTED_NULL_COUNTRY_LABELS or label.endswith(_REGION_SUFFIX))


def _fail(file: str, problem: str) -> SourceFormatError:
    return SourceFormatError(SOURCE, file, problem)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = read_csv_rows(path, SOURCE, "a EuRepoC CSV")
    return rows[0], rows[1:]


def _kind(header: list[str], file: str) -> str:
    if "ID" in header and "name" in header and "start_date" in header:
        kind, required = "global", GLOBAL_COLUMNS
    elif "incident_ID" in header:
        kind, required = "attribution", ATTRIBUTION_COLUMNS
    elif _CIT_MARKER in header:
        return "cit"
    elif "ID" in header and "receiver_country" in header:
        kind, required = "receiver", RECEIVER_COLUMNS
    else:
        raise _fail(file, f"not a EuRepoC Global, Attribution or Receiver file (header starts {header[:4]})")
    missing = [c for c in required if c not in header]
    if missing:
        raise _fail(file, f"{kind} file lacks column {missing[0]!r}")
    return kind


def _quarantined(file: str, reason: str, header: list[str], row: list[str], number: int) -> dict:
    return {"source_file": file, "reason": reason, "record": row_record(header, row, number)}


def _whole_rows(header: list[str], rows: list[list[str]], file: str, quarantine: list[dict]) -> Iterator[tuple[int, list[str]]]:
    """(number, row) of each row with as many fields as the header; the others go to quarantine as they pass."""
    for number, row in enumerate(rows, 1):
        if len(row) == len(header):
            yield number, row
        else:
            quarantine.append(_quarantined(file, f"expected {len(header)} fields, found {len(row)}", header, row, number))


def _global(header: list[str], rows: list[list[str]], file: str) -> tuple[list[dict], list[dict], list[dict]]:
    """Incident rows, plus the parsed Global lists (for the single-file case) and quarantine rows."""
    quarantine: list[dict] = []
    by_id: dict[str, list[tuple[int, list[str]]]] = {}
    for number, row in _whole_rows(header, rows, file, quarantine):
        incident = row[header.index("ID")].strip()
        if not _ID.fullmatch(incident):
            quarantine.append(_quarantined(file, "ID is not a whole number", header, row, number))
            continue
        by_id.setdefault(incident, []).append((number, row))
    incidents, parsed = [], []
    for incident, copies in by_id.items():
        number, row = copies[0]
        if len(copies) > 1:
            identical = all(r == row for _, r in copies)
            keep = copies[1:] if identical else copies
            reason = "duplicate of an earlier row with the same ID" if identical else "ID repeated with different content"
            quarantine += [_quarantined(file, reason, header, r, n) for n, r in keep]
            if not identical:
                continue
        field = dict(zip(header, row))
        try:
            start, end = iso_day(field["start_date"]), iso_day(field["end_date"])
        except ValueError as e:
            quarantine.append(_quarantined(file, f"unreadable date {e.args[0]!r} (not YYYY-MM-DD)", header, row, number))
            continue
        text = f"{field['name']}\n{field['description']}"
        lists = {
            column: list_literal(field[column], column, incident, file, nested=column == "receiver_category")
            for column in ("receiver_country", "receiver_category", "initiator_country", "initiator_category",
                           "initiator_name")
        }
        incidents.append({
            "incident_id": f"{SOURCE}:{incident}",
            "source": SOURCE,
            "source_incident_id": incident,
            "title": blank_to_none(field["name"]),
            "description": blank_to_none(field["description"]),
            "start_date": start,
            "date_precision": date_precision(start, text),
            "end_date": end,
            "end_date_precision": date_precision(end, text),
            "incident_types_raw": [t.strip() for t in field["incident_type"].split(";") if t.strip()],
            "source_file": file,
        })
        parsed.append({"id": incident, "number": number, "row": row, "basis": field["attribution_basis"], **lists})
    return incidents, parsed, quarantine


def _initiators_from_global(parsed: dict) -> list[dict]:
    countries, names = parsed["initiator_country"], parsed["initiator_name"]
    bases = list(dict.fromkeys(b.strip() for b in parsed["basis"].split(";") if b.strip()))
    basis = "; ".join(bases) or None
    if countries:
        n = len(countries)
        actors, categories = aligned(names, n), aligned(parsed["initiator_category"], n)
    else:
        # An initiator named without a country (v1.1 has one) keeps its name.
        countries, actors = [None] * len(names), list(names)
        categories = aligned(parsed["initiator_category"], len(names))
    return [
        {"incident_id": f"{SOURCE}:{parsed['id']}", "country_raw": blank_to_none(c), "iso3": None, "actor": blank_to_none(a),
         "actor_type": lower_or_none(blank_to_none(t)), "attribution_basis": basis}
        for c, a, t in zip(countries, actors, categories)
    ]


def _targets_from_global(parsed: dict) -> list[dict] | None:
    """Receiver pairs from the Global lists; None when the two lists cannot be paired."""
    countries, categories = parsed["receiver_country"], parsed["receiver_category"]
    if not categories:
        pairs = [(c, None) for c in countries]
    elif len(countries) == len(categories):
        pairs = [(c, s) for c, inner in zip(countries, categories) for s in inner]
    elif len(countries) <= 1:
        # One receiver coded with several category lists (v1.1 incident 1864): the Receiver file pairs each.
        pairs = [(countries[0] if countries else None, s) for inner in categories for s in inner]
    else:
        return None
    return [
        {"incident_id": f"{SOURCE}:{parsed['id']}", "country_raw": blank_to_none(c), "iso3": None, "sector": blank_to_none(s)}
        for c, s in pairs
    ]


def _long_rows(
    kind: str, header: list[str], rows: list[list[str]], file: str, kept: set[str], rejected: set[str]
) -> tuple[list[dict], list[dict]]:
    """Initiator or target rows of an Attribution or Receiver file, and the rows of no kept incident."""
    out, quarantine = [], []
    key = "incident_ID" if kind == "attribution" else "ID"
    for number, row in _whole_rows(header, rows, file, quarantine):
        field = dict(zip(header, row))
        incident = field[key].strip()
        if incident in rejected:
            quarantine.append(_quarantined(file, "belongs to a quarantined incident", header, row, number))
            continue
        if incident not in kept:
            quarantine.append(_quarantined(file, "no incident with this ID in the Global file", header, row, number))
            continue
        if kind == "attribution":
            out.append({
                "incident_id": f"{SOURCE}:{incident}", "country_raw": blank_to_none(field["attributed_initiator_country"]),
                "iso3": None, "actor": blank_to_none(field["attributed_initiator"]),
                "actor_type": lower_or_none(blank_to_none(field["attributed_initiator_category"])),
                "attribution_basis": blank_to_none(field["attribution_basis"]),
            })
        else:
            out.append({"incident_id": f"{SOURCE}:{incident}", "country_raw": blank_to_none(field["receiver_country"]),
                        "iso3": None, "sector": blank_to_none(field["receiver_category"])})
    return out, quarantine


def read_eurepoc_snapshot(files: list[Path]) -> IncidentTables:
    """Parse a EuRepoC snapshot (Global file, optionally the Attribution and Receiver files) into IncidentTables."""
    by_kind: dict[str, list[tuple[str, list[str], list[list[str]]]]] = {}
    for path in files:
        path = Path(path)
        header, rows = _rows(path)
        by_kind.setdefault(_kind(header, path.name), []).append((path.name, header, rows))
    for kind, found in by_kind.items():
        if kind != "cit" and len(found) > 1:
            raise _fail(found[1][0], f"a second {kind} file in one snapshot (first: {found[0][0]})")
    if "global" not in by_kind:
        names = ", ".join(f.name for f in map(Path, files)) or "no files"
        raise _fail(names, "no EuRepoC Global Database file (header with ID, name, start_date)")
    file, header, rows = by_kind["global"][0]
    incidents, parsed, quarantine = _global(header, rows, file)
    kept = {p["id"] for p in parsed}
    all_ids = {r[header.index("ID")].strip() for r in rows if len(r) == len(header)}
    rejected = all_ids - kept
    targets: list[dict] = []
    if "attribution" in by_kind:
        name, a_header, a_rows = by_kind["attribution"][0]
        initiators, rejects = _long_rows("attribution", a_header, a_rows, name, kept, rejected)
        quarantine += rejects
    else:
        initiators = [row for p in parsed for row in _initiators_from_global(p)]
    if "receiver" in by_kind:
        name, r_header, r_rows = by_kind["receiver"][0]
        targets, rejects = _long_rows("receiver", r_header, r_rows, name, kept, rejected)
        quarantine += rejects
    else:
        for p in parsed:
            pairs = _targets_from_global(p)
            if pairs is None:
                reason = "receiver_country and receiver_category lists cannot be paired (different lengths)"
                quarantine.append(_quarantined(file, reason, header, p["row"], p["number"]))
            else:
                targets += pairs
    return IncidentTables(
        incidents=rows_frame(incidents, INCIDENT_SCHEMA),
        initiators=rows_frame(initiators, INITIATOR_SCHEMA).unique(maintain_order=True),
        targets=rows_frame(targets, TARGET_SCHEMA).unique(maintain_order=True),
        quarantine=rows_frame(quarantine, QUARANTINE_SCHEMA),
    )


def _resolve(frame: pl.DataFrame, years: pl.DataFrame, aliases: pl.DataFrame, crosswalk: pl.DataFrame) -> pl.DataFrame:
    schema = frame.schema
    resolved = resolve_country_names(
        frame.drop("iso3").join(years, on="incident_id", how="left", maintain_order="left"),
        "country_raw", aliases, crosswalk, year_col="_year",
    )
    # A non-state label never gets a country, even if some country's regex happens to match it.
    raw = pl.col("country_raw")
    expected = raw.is_in(list(EXPECTED_NULL_COUNTRY_LABELS)) | raw.str.ends_with(_REGION_SUFFIX)
    return resolved.with_columns(
        pl.when(expected.fill_null(False)).then(None).otherwise(pl.col("iso3")).alias("iso3")
    ).select(schema.names()).cast(dict(schema))


def stage_eurepoc(tables: IncidentTables, aliases: pl.DataFrame, crosswalk: pl.DataFrame) -> IncidentTables:
    """Resolve iso3 of initiators and targets (year-aware, by the incident's start year); non-state labels stay null."""
    years = tables.incidents.select("incident_id", pl.col("start_date").dt.year().cast(pl.Int32).alias("_year"))
    return IncidentTables(
        incidents=tables.incidents,
        initiators=_resolve(tables.initiators, years, aliases, crosswalk),
        targets=_resolve(tables.targets, years, aliases, crosswalk),
        quarantine=tables.quarantine,
    )
