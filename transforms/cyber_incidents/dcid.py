"""DCID 2.0 (Dyadic Cyber Incident and Campaign Data) workbook, sheet 1, to the conformed incident tables.

Decisions (../shared/data/cyber_incidents/SOURCES.md §4):
- Sheet 1 (the first sheet, whatever its truncated name) holds one row per incident; sheet 2's
  action/reaction pairs are not read. Headers are matched after trimming (`"Concession "`).
- `Dyadpair` concatenates the two states' Correlates of War codes, the lower first (2365 = US 2 + Russia 365).
  It is split at the `initiator` code, which must be one of the two: the other state is the target. A row whose
  initiator is in neither half (4 rows in the February 2023 file, e.g. a Turkey-Iraq dyad coded as initiated by
  Iran) goes to quarantine rather than guessing which field is wrong.
- COW codes resolve through the crosswalk's `cow_code`, year-aware on the start year (365 is RUS, not SUN).
- Dates are Excel datetimes. DCID writes a month-only date as day 01 (202 of 429 start dates fall on the 1st,
  no other day has more than 20), so a day-01 date has month precision, any other day has day precision.
  An end date before the start date is quarantined (2 rows: end year a year early).
- `incident_types_raw` holds `column=code` labels: the cyber objective first (DCID's coding of what the
  operation was for, so it leads as the primary type), then the method, then `Ransomware=1` and
  `information_operation=1` where flagged. `targettype` describes the victim and becomes the target's sector.
- Every initiator is a state (DCID codes only state-initiated incidents between rivals); `country_raw` is the
  COW code as published.
"""

from __future__ import annotations

import io
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl

from transforms.cyber_incidents.schema import INCIDENT_SCHEMA, INITIATOR_SCHEMA, TARGET_SCHEMA, IncidentTables
from transforms.errors import SourceFormatError
from transforms.reference.countries import resolve_country_codes
from transforms.zip_member import WORKBOOK_LIMITS, check_zip_container

SOURCE = "dcid"

COLUMNS = (
    "Cyberincidentnum", "Dyadpair", "StateA", "StateB", "Name", "interactionstartdate", "interactionenddate",
    "method", "targettype", "initiator", "cyber_objective", "information_operation", "objective_achievement",
    "Concession", "3rdpartyinitiator", "severity", "damage type", "Crit Inf", "Supply Ch", "Ransomware",
    "Political Objective", "Sources1", "Sources2", "Sources3", "Sources4", "Sources5", "Justice", "Cert", "FBI",
)
# The DCID codebook's codes (the codebook is not shipped with the file; these are its published meanings,
# and agree with the incident names, e.g. method 2 = "March DDoS", 4.4 = "QWERTY keystroke log").
TARGET_TYPES = {1: "private or non-state", 2: "government, non-military", 3: "government, military"}
METHODS = {
    "1": "vandalism (defacement)", "2": "denial of service", "3": "network intrusion",
    "3.1": "network intrusion by impersonation", "4": "network infiltration (malware)", "4.1": "logic bomb / wiper",
    "4.2": "virus", "4.3": "worm", "4.4": "keystroke logging",
}
OBJECTIVES = {"1": "disruption", "2": "short-term espionage", "3": "long-term espionage", "4": "degradation"}

QUARANTINE_ROWS_SCHEMA = pl.Schema(
    {
        "source_incident_id": pl.Utf8,
        "sheet_row": pl.Int32,
        "title": pl.Utf8,
        "dyad_pair": pl.Utf8,
        "initiator": pl.Utf8,
        "start_date": pl.Utf8,
        "end_date": pl.Utf8,
        "source_file": pl.Utf8,
        "reason": pl.Utf8,
    }
)


def _fail(file: str, problem: str) -> SourceFormatError:
    return SourceFormatError(SOURCE, file, problem)


def _rows(path: Path | bytes, file: str) -> list[tuple[int, dict[str, Any]]]:
    """(sheet row number, {trimmed header: value}) for every non-empty row of the first sheet."""
    raw = path if isinstance(path, bytes) else Path(path).read_bytes()
    if raw.startswith(b"PK\x03\x04"):  # anything else is refused by openpyxl below, naming the file
        check_zip_container(raw, source=SOURCE, file=file, limits=WORKBOOK_LIMITS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions, harmless here
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises zipfile, KeyError and its own errors for a non-workbook
        raise _fail(file, f"not an .xlsx workbook ({type(e).__name__}: {e})") from e
    try:
        lines = book.worksheets[0].iter_rows(values_only=True)
        header = next(lines, None)
        if header is None:
            raise _fail(file, "the first sheet is empty")
        names = [str(h).strip() if h is not None else "" for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise _fail(file, f"sheet 1 lacks column(s) {missing} (found {names[:8]}…)")
        index = {c: names.index(c) for c in COLUMNS}
        rows = []
        for number, line in enumerate(lines, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in line):
                continue
            padded = tuple(line) + (None,) * (len(names) - len(line))
            rows.append((number, {c: padded[i] for c, i in index.items()}))
        return rows
    finally:
        book.close()


def _code(value: Any) -> str | None:
    """A numeric code as DCID means it: 4.0 and 4 are '4', 3.1 stays '3.1'; None when not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _precision(day: date | None) -> str | None:
    if day is None:
        return None
    return "month" if day.day == 1 else "day"


def _text(value: Any) -> str | None:
    text = None if value is None else " ".join(str(value).split())
    return text or None


def _split_dyad(pair: str, initiator: str) -> tuple[str, str] | None:
    """(initiator, target) COW codes from the concatenated pair, or None if the initiator is in neither half."""
    found = set()
    if pair.startswith(initiator) and pair[len(initiator):][:1] not in ("", "0"):
        found.add(pair[len(initiator):])
    if pair.endswith(initiator) and pair[: -len(initiator)][:1] not in ("", "0"):
        found.add(pair[: -len(initiator)])
    found.discard(initiator)  # a dyad is two different states
    return (initiator, found.pop()) if len(found) == 1 else None


def _stage_row(row: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The parsed row, or the reason it is quarantined."""
    number, pair, initiator = _code(row["Cyberincidentnum"]), _code(row["Dyadpair"]), _code(row["initiator"])
    if number is None or "." in number:
        return None, f"Cyberincidentnum {row['Cyberincidentnum']!r} is not an integer"
    if pair is None or initiator is None or "." in pair or "." in initiator:
        return None, f"Dyadpair {row['Dyadpair']!r} or initiator {row['initiator']!r} is not a COW code"
    dyad = _split_dyad(pair, initiator)
    if dyad is None:
        return None, f"initiator {initiator} is not one of the two states of Dyadpair {pair}"
    start, end = _day(row["interactionstartdate"]), _day(row["interactionenddate"])
    if start is None:
        return None, f"interactionstartdate {row['interactionstartdate']!r} is not a date"
    if row["interactionenddate"] is not None and end is None:
        return None, f"interactionenddate {row['interactionenddate']!r} is not a date"
    if end is not None and end < start:
        return None, f"end date {end} is before start date {start}"
    method, objective, target_type = _code(row["method"]), _code(row["cyber_objective"]), _code(row["targettype"])
    if method not in METHODS:
        return None, f"unknown method code {row['method']!r}"
    if objective not in OBJECTIVES:
        return None, f"unknown cyber_objective code {row['cyber_objective']!r}"
    if target_type not in {str(k) for k in TARGET_TYPES}:
        return None, f"unknown targettype code {row['targettype']!r}"
    types = [f"cyber_objective={objective}", f"method={method}"]
    types += [f"{flag}=1" for flag in ("Ransomware", "information_operation") if _code(row[flag]) == "1"]
    return {
        "number": number, "initiator": dyad[0], "target": dyad[1], "start": start, "end": end, "types": types,
        "target_type": int(target_type), "title": _text(row["Name"]), "description": _text(row["Political Objective"]),
    }, None


def _resolve(frame: pl.DataFrame, crosswalk: pl.DataFrame | None) -> pl.DataFrame:
    if crosswalk is None:
        return frame.with_columns(pl.lit(None, pl.Utf8).alias("iso3"))
    return resolve_country_codes(frame, "country_raw", crosswalk, "cow_code", year_col="year")


def read_dcid_xlsx(path: Path | bytes, file_name: str, crosswalk: pl.DataFrame | None = None) -> IncidentTables:
    """Stage sheet 1 of a DCID 2.0 workbook in sheet order; with a crosswalk, COW codes resolve to iso3 (else null)."""
    staged, refused, seen = [], [], set()
    for sheet_row, row in _rows(path, file_name):
        parsed, reason = _stage_row(row)
        if parsed is not None and parsed["number"] in seen:
            parsed, reason = None, f"duplicate Cyberincidentnum {parsed['number']}"
        if parsed is None:
            refused.append({
                "source_incident_id": _text(row["Cyberincidentnum"]), "sheet_row": sheet_row,
                "title": _text(row["Name"]),
                "dyad_pair": _text(row["Dyadpair"]), "initiator": _text(row["initiator"]),
                "start_date": _text(row["interactionstartdate"]), "end_date": _text(row["interactionenddate"]),
                "source_file": file_name, "reason": reason,
            })
            continue
        seen.add(parsed["number"])
        staged.append(parsed)
    if not staged:
        raise _fail(file_name, "sheet 1 holds no usable incident row")
    incidents = pl.DataFrame(
        [{
            "incident_id": f"dcid:{r['number']}", "source": SOURCE, "source_incident_id": r["number"],
            "title": r["title"], "description": r["description"],
            "start_date": r["start"], "date_precision": _precision(r["start"]),
            "end_date": r["end"], "end_date_precision": _precision(r["end"]),
            "incident_types_raw": r["types"], "source_file": file_name,
        } for r in staged],
        schema=INCIDENT_SCHEMA,
    )
    sides = pl.DataFrame(
        [{"incident_id": f"dcid:{r['number']}", "initiator": r["initiator"], "target": r["target"],
          "year": r["start"].year, "target_type": r["target_type"]} for r in staged],
        schema={"incident_id": pl.Utf8, "initiator": pl.Utf8, "target": pl.Utf8, "year": pl.Int32,
                "target_type": pl.Int32},
    )
    initiators = _resolve(sides.select("incident_id", pl.col("initiator").alias("country_raw"), "year"), crosswalk)
    initiators = initiators.with_columns(
        pl.lit(None, pl.Utf8).alias("actor"), pl.lit("state").alias("actor_type"),
        pl.lit("initiator (DCID coding)").alias("attribution_basis"),
    ).select(INITIATOR_SCHEMA.names())
    targets = _resolve(
        sides.select("incident_id", pl.col("target").alias("country_raw"), "year", "target_type"), crosswalk
    )
    targets = targets.with_columns(
        pl.col("target_type").replace_strict(
            {k: f"{k}: {v}" for k, v in TARGET_TYPES.items()}, return_dtype=pl.Utf8
        ).alias("sector")
    ).select(TARGET_SCHEMA.names())
    return IncidentTables(
        incidents=incidents,
        initiators=initiators.cast(dict(INITIATOR_SCHEMA)),
        targets=targets.cast(dict(TARGET_SCHEMA)),
        quarantine=pl.DataFrame(refused, schema=QUARANTINE_ROWS_SCHEMA),
    )
