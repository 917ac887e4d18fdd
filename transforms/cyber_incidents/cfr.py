"""CFR Cyber Operations Tracker "export incidents" CSV (user copies) to the conformed cyber shape.

The format: ../shared/data/cyber_incidents/SOURCES.md §1.

Decisions:
- incident_id is `cfr:<slug of Title>-<ISO date or 'undated'>`: the export has no id, and CFR's own pages are
  keyed by title. Two different rows with the same title and date both get `-<8 hex of the row's sha1>` added,
  so the id never depends on row order. source_incident_id holds the same key without the prefix.
- Date `M/D/YYYY` (or the newer copy's `YYYY-MM-DD`) is day precision; empty means no date (precision null).
- Sponsor is split on ", ", except that a piece which is a name qualifier ("State of", "Republic of", "The",
  "Rep.", "Province of China") belongs to the name before it, so `Palestine, State of` stays one sponsor.
  Each sponsor is an initiator (actor_type 'state', basis 'sponsor (CFR)', actor = Affiliations as published);
  an Affiliations without a Sponsor is one initiator without a country (basis 'affiliation (CFR)').
- Targets: one per Category sector. Victims is free text: before staging a target row carries the whole
  Victims text in country_raw; stage_cfr replaces it by every country name found in it (alias-table names,
  whole words, longest first), one row per country x sector, or by null when it names no country.
- Quarantined, never dropped: a wrong field count; a row shifted by a lost or extra field (Type or Category
  holding a URL or the other column's label, Sponsor holding a type/sector label or a stray quote); an
  unreadable Date; garbled text ('??', the lost non-ASCII of copy (b)) when `quarantine_garbled`; an exact
  repeat of an earlier row.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import date
from pathlib import Path

import polars as pl

from transforms.cyber_incidents.schema import INCIDENT_SCHEMA, INITIATOR_SCHEMA, TARGET_SCHEMA, IncidentTables
from transforms.csv_rows import blank_to_none, read_csv_rows, row_record
from transforms.errors import SourceFormatError
from transforms.reference.countries import normalize_country_name, resolve_country_names

SOURCE = "cfr"

REQUIRED_COLUMNS = ("Title", "Date", "Affiliations", "Description", "Response", "Victims", "Sponsor", "Type", "Category")
CFR_TYPES = ("Espionage", "Sabotage", "Denial of service", "Data destruction", "Financial Theft", "Doxing", "Defacement")
CFR_SECTORS = ("Government", "Private sector", "Civil society", "Military")
QUARANTINE_SCHEMA = pl.Schema({"source_file": pl.Utf8, "reason": pl.Utf8, "record": pl.Utf8})
SPONSOR_BASIS = "sponsor (CFR)"
AFFILIATION_BASIS = "affiliation (CFR)"

# Every Sponsor in both stored copies names a state, so no sponsor label is expected to stay without iso3;
# target country_raw is only ever a found country name. Kept for validation's common interface.
EXPECTED_NULL_COUNTRY_LABELS: frozenset[str] = frozenset()

# How Victims prose names a country where the alias table has no entry: dotted abbreviations and the adjectives
# seen in the stored copies ("Ukrainian government officials"). Ambiguous ones (Korean, Congolese) are left out.
VICTIM_COUNTRY_WORDS: dict[str, str] = {
    "U.S.": "United States", "U.K.": "United Kingdom", "American": "United States", "British": "United Kingdom",
    "Afghan": "Afghanistan", "Albanian": "Albania", "Armenian": "Armenia", "Australian": "Australia",
    "Austrian": "Austria", "Azerbaijani": "Azerbaijan", "Bahraini": "Bahrain", "Belarusian": "Belarus",
    "Belgian": "Belgium", "Brazilian": "Brazil", "Burmese": "Myanmar", "Cambodian": "Cambodia", "Canadian": "Canada",
    "Chinese": "China", "Czech": "Czechia", "Dutch": "Netherlands", "Egyptian": "Egypt", "Estonian": "Estonia",
    "Ethiopian": "Ethiopia", "French": "France", "Georgian": "Georgia", "German": "Germany", "Hungarian": "Hungary",
    "Indian": "India", "Indonesian": "Indonesia", "Iranian": "Iran", "Iraqi": "Iraq", "Israeli": "Israel",
    "Italian": "Italy", "Japanese": "Japan", "Jordanian": "Jordan", "Kazakh": "Kazakhstan", "Kuwaiti": "Kuwait",
    "Latvian": "Latvia", "Lebanese": "Lebanon", "Lithuanian": "Lithuania", "Malaysian": "Malaysia",
    "Mexican": "Mexico", "Mongolian": "Mongolia", "Montenegrin": "Montenegro", "North Korean": "North Korea",
    "Norwegian": "Norway", "Pakistani": "Pakistan", "Palauan": "Palau", "Palestinian": "Palestine",
    "Philippine": "Philippines", "Polish": "Poland", "Qatari": "Qatar", "Russian": "Russia", "Saudi": "Saudi Arabia",
    "Saudi Arabian": "Saudi Arabia", "Slovakian": "Slovakia", "South African": "South Africa",
    "South Korean": "South Korea", "South Sudanese": "South Sudan", "Sri Lankan": "Sri Lanka", "Swedish": "Sweden",
    "Syrian": "Syria", "Taiwanese": "Taiwan", "Togolese": "Togo", "Turkish": "Turkey", "Ugandan": "Uganda",
    "Ukrainian": "Ukraine", "Vietnamese": "Vietnam",
}
# Phrases that contain a country word but name no country; matched first (longest), then skipped.
VICTIM_NON_COUNTRY = ("New Mexico", "New Jersey", "North American", "South American", "Latin American",
                      "Central American")

_GARBLED = "??"
_TEXT_COLUMNS = ("Title", "Date", "Affiliations", "Description", "Response", "Victims", "Sponsor", "Type", "Category")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_URL = re.compile(r"https?://", re.IGNORECASE)
_QUALIFIER = re.compile(r"(?i)(the|(.+ )?of( the)?|(.+ )?rep\.|province of .+)")
_TOKEN = re.compile(r"[^\W_]+(?:[.'\u2019-][^\W_]+)*\.?")


def _fail(file: str, problem: str) -> SourceFormatError:
    return SourceFormatError(SOURCE, file, problem)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = read_csv_rows(path, SOURCE, "the CFR CSV export")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise _fail(path.name, f"missing header column {missing[0]!r} (found {header})")
    return header, rows[1:]


def split_sponsors(value: str) -> list[str]:
    """Sponsor names from a ', '-joined Sponsor field, keeping 'Palestine, State of'-style names whole."""
    names: list[str] = []
    for piece in (p.strip() for p in value.split(",")):
        if not piece:
            continue
        if names and _QUALIFIER.fullmatch(piece):
            names[-1] = f"{names[-1]}, {piece}"
        else:
            names.append(piece)
    return names


def _parse_date(value: str) -> date | None:
    """M/D/YYYY or YYYY-MM-DD, None when empty; ValueError otherwise."""
    value = value.strip()
    if not value:
        return None
    if m := _US_DATE.fullmatch(value):
        return date(int(m[3]), int(m[1]), int(m[2]))
    if m := _ISO_DATE.fullmatch(value):
        return date(int(m[1]), int(m[2]), int(m[3]))
    raise ValueError(value)


def _parts(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def _shift(field: dict[str, str]) -> str | None:
    """Why the row looks shifted by a lost or extra field, or None."""
    checks = (
        ("Type", lambda p: bool(_URL.match(p)) or p in CFR_SECTORS, field["Type"]),
        ("Category", lambda p: bool(_URL.match(p)) or p in CFR_TYPES, field["Category"]),
        ("Sponsor", lambda p: bool(_URL.match(p)) or p in CFR_TYPES or p in CFR_SECTORS or '"' in p, field["Sponsor"]),
    )
    for column, bad, value in checks:
        hit = next((p for p in _parts(value) if bad(p)), None)
        if hit is not None:
            return f"columns shifted: {column} holds {hit[:40]!r}"
    return None


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "untitled"


def _accepted(header: list[str], rows: list[list[str]], file: str, quarantine_garbled: bool):
    """(number, fields, date) of the rows kept, and quarantine rows for the others."""
    kept, quarantine, seen = [], [], {}
    for number, row in enumerate(rows, 1):
        field = dict(zip(header, row))
        reason = None
        if len(row) != len(header):
            reason = f"expected {len(header)} fields, found {len(row)}"
        elif not field["Title"].strip():
            reason = "empty Title"
        else:
            reason = _shift(field)
        day = None
        if reason is None:
            try:
                day = _parse_date(field["Date"])
            except ValueError:
                reason = f"unreadable Date {field['Date'][:20]!r} (not M/D/YYYY)"
        if reason is None and quarantine_garbled:
            garbled = [c for c in _TEXT_COLUMNS if _GARBLED in field[c]]
            if garbled:
                reason = f"garbled text ('??') in {', '.join(garbled)}"
        if reason is None and tuple(row) in seen:
            reason = f"duplicate of row {seen[tuple(row)]}"
        if reason is not None:
            quarantine.append({"source_file": file, "reason": reason, "record": row_record(header, row, number)})
            continue
        seen[tuple(row)] = number
        kept.append((number, field, day))
    return kept, quarantine


def _keys(kept: list[tuple[int, dict, date | None]]) -> list[str]:
    """The title-date key of each kept row, with a content hash where two rows share one."""
    base = [f"{_slug(f['Title'])}-{d.isoformat() if d else 'undated'}" for _, f, d in kept]
    counts: dict[str, int] = {}
    for key in base:
        counts[key] = counts.get(key, 0) + 1
    out = []
    for key, (_, field, _) in zip(base, kept):
        if counts[key] > 1:
            digest = hashlib.sha1(json.dumps(field, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
            key = f"{key}-{digest[:8]}"
        out.append(key)
    return out


def _read_file(path: Path, quarantine_garbled: bool) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    header, rows = _rows(path)
    kept, quarantine = _accepted(header, rows, path.name, quarantine_garbled)
    incidents, initiators, targets = [], [], []
    for key, (_, field, day) in zip(_keys(kept), kept):
        incident_id = f"{SOURCE}:{key}"
        incidents.append({
            "incident_id": incident_id, "source": SOURCE, "source_incident_id": key,
            "title": blank_to_none(field["Title"]), "description": blank_to_none(field["Description"]),
            "start_date": day, "date_precision": "day" if day else None,
            "end_date": None, "end_date_precision": None,
            "incident_types_raw": list(dict.fromkeys(_parts(field["Type"]))), "source_file": path.name,
        })
        actor = blank_to_none(field["Affiliations"])
        sponsors = split_sponsors(field["Sponsor"])
        initiators += [
            {"incident_id": incident_id, "country_raw": s, "iso3": None, "actor": actor, "actor_type": "state",
             "attribution_basis": SPONSOR_BASIS}
            for s in sponsors
        ]
        if not sponsors and actor:
            initiators.append({"incident_id": incident_id, "country_raw": None, "iso3": None, "actor": actor,
                               "actor_type": None, "attribution_basis": AFFILIATION_BASIS})
        victims = blank_to_none(field["Victims"])
        sectors = list(dict.fromkeys(_parts(field["Category"]))) or ([None] if victims else [])
        targets += [{"incident_id": incident_id, "country_raw": victims, "iso3": None, "sector": s} for s in sectors]
    return incidents, initiators, targets, quarantine


def read_cfr_snapshot(files: list[Path], *, quarantine_garbled: bool = True) -> IncidentTables:
    """Parse CFR export CSVs into IncidentTables (target country_raw = the raw Victims text until stage_cfr)."""
    parts = [_read_file(Path(p), quarantine_garbled) for p in files]
    if not parts:
        raise _fail("no files", "a CFR snapshot needs at least one export CSV")
    incidents, initiators, targets, quarantine = ([row for part in parts for row in part[i]] for i in range(4))
    return IncidentTables(
        incidents=pl.DataFrame(incidents, schema=INCIDENT_SCHEMA, orient="row"),
        initiators=pl.DataFrame(initiators, schema=INITIATOR_SCHEMA, orient="row"),
        targets=pl.DataFrame(targets, schema=TARGET_SCHEMA, orient="row"),
        quarantine=pl.DataFrame(quarantine, schema=QUARANTINE_SCHEMA, orient="row"),
    )


def _token_key(token: str) -> str:
    return normalize_country_name(token).strip(".'")


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_token_key(t) for t in _TOKEN.findall(text))


def _name_table(aliases: pl.DataFrame) -> tuple[dict[tuple[str, ...], str | None], int]:
    """Country names (not codes, not blocked labels) as token tuples -> alias key, and the longest one's length."""
    names = aliases.filter(pl.col("iso3").is_not_null() & ~pl.col("origin").is_in(["iso2", "iso3"]))
    table: dict[tuple[str, ...], str | None] = {}
    for key in names["alias_key"].to_list():
        if tokens := _tokens(key):
            table[tokens] = key
    for word, name in VICTIM_COUNTRY_WORDS.items():
        table[_tokens(word)] = normalize_country_name(name)
    table.update(dict.fromkeys(map(_tokens, VICTIM_NON_COUNTRY)))
    return table, max(map(len, table), default=1)


def find_country_names(
    text: str, table: dict[tuple[str, ...], str | None], longest: int
) -> list[tuple[str, str]]:
    """(text as written, alias key) of each country name in free text: whole words, longest match first."""
    matches = list(_TOKEN.finditer(text))
    keys = [_token_key(m.group(0)) for m in matches]
    found, i = [], 0
    while i < len(matches):
        for n in range(min(longest, len(matches) - i), 0, -1):
            phrase = tuple(keys[i:i + n])
            if phrase not in table:
                continue
            hit = table[phrase]
            if hit is not None:
                start, end = matches[i].start(), matches[i + n - 1].end()
                if text[start:end].count("(") > text[start:end].count(")") and text[end:end + 1] == ")":
                    end += 1  # 'Korea (Republic of)': the closing parenthesis is no word character
                span = text[start:end]
                if span.endswith(".") and "." not in span[:-1]:
                    span = span[:-1]  # a sentence's full stop, unlike the dots of 'U.S.'
                found.append((span, hit))
            i += n
            break
        else:
            i += 1
    return list(dict.fromkeys(found))


def stage_cfr(tables: IncidentTables, aliases: pl.DataFrame, crosswalk: pl.DataFrame) -> IncidentTables:
    """Resolve sponsors to iso3 and turn each Victims text into one target row per named country."""
    years = tables.incidents.select("incident_id", pl.col("start_date").dt.year().cast(pl.Int32).alias("_year"))
    initiators = resolve_country_names(
        tables.initiators.drop("iso3").join(years, on="incident_id", how="left", maintain_order="left"),
        "country_raw", aliases, crosswalk, year_col="_year",
    ).select(INITIATOR_SCHEMA.names())
    table, longest = _name_table(aliases)
    rows = []
    for incident_id, victims, sector in tables.targets.select("incident_id", "country_raw", "sector").iter_rows():
        found = find_country_names(victims, table, longest) if victims else []
        rows += [{"incident_id": incident_id, "country_raw": span, "_key": key, "sector": sector} for span, key in found]
        if not found and sector is not None:
            rows.append({"incident_id": incident_id, "country_raw": None, "_key": None, "sector": sector})
    found_frame = pl.DataFrame(rows, schema={"incident_id": pl.Utf8, "country_raw": pl.Utf8, "_key": pl.Utf8,
                                             "sector": pl.Utf8}, orient="row")
    # Resolve the alias key that matched (so 'U.S.' counts as the United States), year-aware like the sponsors.
    targets = resolve_country_names(
        found_frame.join(years, on="incident_id", how="left", maintain_order="left"),
        "_key", aliases, crosswalk, year_col="_year",
    ).select(TARGET_SCHEMA.names())
    # 'South Korea' and 'South Korean' in one text are one target country.
    targets = targets.unique(
        subset=["incident_id", "sector", pl.coalesce("iso3", "country_raw")], keep="first", maintain_order=True
    )
    return IncidentTables(
        incidents=tables.incidents,
        initiators=initiators.cast(dict(INITIATOR_SCHEMA)),
        targets=targets.cast(dict(TARGET_SCHEMA)),
        quarantine=tables.quarantine,
    )
