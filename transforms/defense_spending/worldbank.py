"""World Bank WDI military indicators: API v2 JSON pages and bulk CSVs (loose or zipped) to tidy Polars frames."""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from pathlib import Path

import polars as pl

from transforms.errors import SourceFormatError
from transforms.zip_member import ZipLimits, read_zip_members

SOURCE = "worldbank"

WORLDBANK_MEASURES: dict[str, tuple[str, str]] = {
    "MS.MIL.XPND.GD.ZS": ("share_of_gdp", "percent"),
    "MS.MIL.XPND.CD": ("current_usd", "usd"),
    "MS.MIL.XPND.ZS": ("share_of_government_spending", "percent"),
    "MS.MIL.TOTL.P1": ("armed_forces_personnel", "persons"),
}

# The 48 empty-Region rows of Metadata_Country (identical in the 2024, 2025 and 2026 files) plus INX
# ("Not classified"), which the data files carry but Metadata_Country does not list.
WORLDBANK_AGGREGATE_CODES: frozenset[str] = frozenset(
    "AFE AFW ARB CEB CSS EAP EAR EAS ECA ECS EMU EUU FCS HIC HPC IBD IBT IDA IDB IDX INX LAC LCN LDC "
    "LIC LMC LMY LTE MEA MIC MNA NAC OED OSS PRE PSS PST SAS SSA SSF SST TEA TEC TLA TMN TSA TSS UMC WLD".split()
)

OBSERVATION_SCHEMA = pl.Schema(
    {
        "country_code": pl.Utf8,
        "country_name": pl.Utf8,
        "indicator_code": pl.Utf8,
        "year": pl.Int32,
        "value": pl.Float64,
        "obs_status": pl.Utf8,
        "last_updated": pl.Utf8,  # the WDI release date, YYYY-MM-DD, when the file states it
        "source_file": pl.Utf8,
    }
)
COUNTRY_METADATA_SCHEMA = pl.Schema(
    {"country_code": pl.Utf8, "region": pl.Utf8, "income_group": pl.Utf8, "is_aggregate": pl.Boolean}
)
COUNTRIES_SCHEMA = pl.Schema(
    {
        "iso3": pl.Utf8,
        "country_code": pl.Utf8,
        "country_name": pl.Utf8,
        "indicator_code": pl.Utf8,
        "measure": pl.Utf8,
        "unit": pl.Utf8,
        "year": pl.Int32,
        "value": pl.Float64,
        "is_estimate": pl.Boolean,
        "release": pl.Utf8,
        "release_sort": pl.Utf8,
        "snapshot_id": pl.Utf8,
        "source_file": pl.Utf8,
    }
)
AGGREGATES_SCHEMA = pl.Schema(
    {
        "aggregate_code": pl.Utf8,
        "aggregate_name": pl.Utf8,
        "indicator_code": pl.Utf8,
        "measure": pl.Utf8,
        "unit": pl.Utf8,
        "year": pl.Int32,
        "value": pl.Float64,
        "release": pl.Utf8,
        "release_sort": pl.Utf8,
        "snapshot_id": pl.Utf8,
        "source_file": pl.Utf8,
    }
)
QUARANTINE_ROWS_SCHEMA = pl.Schema({**COUNTRIES_SCHEMA, "reason": pl.Utf8})

# One indicator's bulk zip unpacks to ~0.3 MB (data CSV ~0.25 MB); the caps only stop what no WDI file could be.
_ZIP_LIMITS = ZipLimits(max_member_bytes=32 * 1024**2, max_total_bytes=64 * 1024**2, max_ratio=100.0)
_ID_COLUMNS = ("Country Name", "Country Code", "Indicator Name", "Indicator Code")
_METADATA_COLUMNS = ("Country Code", "Region", "IncomeGroup")
_PAGE_FILE = re.compile(r"(?P<stem>.+)\.page-(?P<page>\d+)\.json", re.IGNORECASE)
_YEAR = re.compile(r"\d{4}")


def _fail(file: str, problem: str) -> SourceFormatError:
    return SourceFormatError(SOURCE, file, problem)


def _read(path: Path | bytes) -> bytes:
    return path if isinstance(path, bytes) else Path(path).read_bytes()


def _looks_like_markup(raw: bytes) -> bool:
    return raw.removeprefix(b"\xef\xbb\xbf")[:200].lstrip().startswith(b"<")


def _text(raw: bytes, file: str, expected: str) -> str:
    """Decode UTF-8 (BOM optional), refusing an HTML/XML error page served in place of the data."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if _looks_like_markup(raw):
        raise _fail(file, f"got HTML/XML instead of {expected}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _fail(file, f"not UTF-8 text ({e.reason} at byte {e.start})") from e


def _from_header(text: str, first_field: str, file: str) -> str:
    """Cut the text at its header line: WB puts 4 preamble lines first, a hand-edited file none."""
    header = re.compile(rf'\s*"?{re.escape(first_field)}"?\s*(,|$)')
    offset = 0
    for line in text.split("\n", 10)[:10]:
        if header.match(line):
            return text[offset:]
        offset += len(line) + 1
    raise _fail(file, f"no {first_field!r} header line in the first 10 lines")


def _read_table(text: str, file: str) -> pl.DataFrame:
    try:
        table = pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema=False)
    except pl.exceptions.PolarsError as e:
        raise _fail(file, f"unreadable CSV: {e}") from e
    # Every WB line ends with a comma: an unnamed, empty last column that carries nothing.
    for name in [c for c in table.columns if not c.strip()]:
        if table[name].drop_nulls().str.strip_chars().ne("").any():
            raise _fail(file, "an unnamed header column holds values")
        table = table.drop(name)
    return table


def _require(table: pl.DataFrame, columns: tuple[str, ...], file: str) -> None:
    for column in columns:
        if column not in table.columns:
            raise _fail(file, f"missing header column {column!r} (found {table.columns[:6]})")


def _blank_to_null(column: str) -> pl.Expr:
    text = pl.col(column).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


_LAST_UPDATED = re.compile(r'^\W*"?Last Updated Date"?\s*,\s*"?([^",\r\n]+)"?', re.MULTILINE)


def _last_updated(text: str) -> str | None:
    """The preamble's release date as YYYY-MM-DD; an Excel re-save writes it as M/D/YYYY."""
    match = _LAST_UPDATED.search(text[:2000])
    if not match:
        return None
    raw = match.group(1).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return raw
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw):
        return f"{m[3]}-{int(m[1]):02d}-{int(m[2]):02d}"
    return None


def parse_worldbank_bulk_csv(path: Path | bytes, file_name: str) -> pl.DataFrame:
    """Parse one bulk-download data CSV (any preamble, BOM, quoting, line ending) into observations."""
    text = _text(_read(path), file_name, "CSV")
    table = _read_table(_from_header(text, "Country Name", file_name), file_name)
    _require(table, _ID_COLUMNS, file_name)
    years = [c for c in table.columns if c not in _ID_COLUMNS]
    for column in years:
        if not _YEAR.fullmatch(column):
            raise _fail(file_name, f"unexpected header column {column!r} (expected a year)")
    if not years:
        raise _fail(file_name, "no year columns")
    _check_codes(table, file_name)
    long = (
        table.unpivot(index=["Country Code", "Country Name", "Indicator Code"], on=years, variable_name="year")
        .filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
        .with_columns(number=pl.col("value").cast(pl.Float64, strict=False))
    )
    bad = long.filter(pl.col("number").is_null() | ~pl.col("number").is_finite())
    if bad.height:
        row = bad.row(0, named=True)
        raise _fail(file_name, f"non-numeric value {row['value']!r} for {row['Country Code']} in {row['year']}")
    return long.select(
        country_code=pl.col("Country Code"),
        country_name=pl.col("Country Name"),
        indicator_code=pl.col("Indicator Code"),
        year=pl.col("year").cast(pl.Int32),
        value=pl.col("number"),
        obs_status=pl.lit(None, pl.Utf8),
        last_updated=pl.lit(_last_updated(text), pl.Utf8),
        source_file=pl.lit(file_name, pl.Utf8),
    ).sort("country_code", "indicator_code", "year")


def _check_codes(table: pl.DataFrame, file: str) -> None:
    if table["Country Code"].fill_null("").str.strip_chars().eq("").any():
        raise _fail(file, "a row has an empty 'Country Code'")
    unknown = sorted(set(table["Indicator Code"].fill_null("").to_list()) - WORLDBANK_MEASURES.keys())
    if unknown:
        raise _fail(file, f"unknown indicator code {unknown[0]!r}")
    dup = table.filter(pl.struct("Country Code", "Indicator Code").is_duplicated())
    if dup.height:
        raise _fail(file, f"duplicate rows for {dup['Country Code'][0]} / {dup['Indicator Code'][0]}")


def parse_worldbank_country_metadata_csv(path: Path | bytes, file_name: str) -> pl.DataFrame:
    """Parse Metadata_Country_*.csv into country metadata; an empty Region marks an aggregate."""
    table = _read_table(_from_header(_text(_read(path), file_name, "CSV"), "Country Code", file_name), file_name)
    _require(table, _METADATA_COLUMNS, file_name)
    out = table.select(
        country_code=_blank_to_null("Country Code"),
        region=_blank_to_null("Region"),
        income_group=_blank_to_null("IncomeGroup"),
    ).with_columns(is_aggregate=pl.col("region").is_null())
    return _checked_metadata(out, file_name)


def _checked_metadata(out: pl.DataFrame, file: str) -> pl.DataFrame:
    if out["country_code"].null_count():
        raise _fail(file, "a row has an empty country code")
    dup = out.filter(pl.col("country_code").is_duplicated())
    if dup.height:
        raise _fail(file, f"duplicate country code {dup['country_code'][0]!r}")
    return out.cast(dict(COUNTRY_METADATA_SCHEMA)).sort("country_code")


def _load_page(file: str, raw: bytes) -> tuple[dict, list]:
    """One API page as (meta, rows), refusing error replies and anything not shaped [meta, rows]."""
    try:
        doc = json.loads(_text(raw, file, "JSON"))
    except json.JSONDecodeError as e:
        raise _fail(file, f"not valid JSON ({e.msg}, line {e.lineno})") from e
    # The API reports bad requests as HTTP 200 with [{"message": [{"id", "key", "value"}]}].
    if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "message" in doc[0]:
        messages = doc[0]["message"] if isinstance(doc[0]["message"], list) else [doc[0]["message"]]
        said = "; ".join(f"{m.get('id')} {m.get('key')}: {m.get('value')}" for m in messages if isinstance(m, dict))
        raise _fail(file, f"World Bank API error reply: {said or doc[0]['message']!r}")
    if not (isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], dict)):
        raise _fail(file, "not an API page of the form [meta, rows]")
    if doc[1] is not None and not isinstance(doc[1], list):
        raise _fail(file, "not an API page of the form [meta, rows]: rows is not a list")
    meta = {"lastupdated": doc[0].get("lastupdated")}
    for key in ("page", "pages", "per_page", "total"):
        value = doc[0].get(key)
        # per_page comes as a string ("50") from some endpoints, as a number from others.
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            raise _fail(file, f"page meta {key!r} is missing or not an integer: {value!r}")
        meta[key] = int(value)
    return meta, doc[1] or []


def _page_rows(pages: list[tuple[str, bytes]]) -> list[tuple[str, object, str | None]]:
    """Load a page set, check pages 1..N are there once and agree, and return (file, row) for all rows."""
    loaded = sorted(((*_load_page(name, raw), name) for name, raw in pages), key=lambda t: t[0]["page"])
    first, _, first_file = loaded[0]
    for meta, rows, file in loaded:
        for key in ("pages", "per_page", "total", "lastupdated"):
            if meta[key] != first[key]:
                raise _fail(file, f"page meta {key}={meta[key]!r} disagrees with {first_file} ({first[key]!r})")
        if len(rows) > meta["per_page"]:
            raise _fail(file, f"{len(rows)} rows on a page of per_page={meta['per_page']}")
    numbers = [meta["page"] for meta, _, _ in loaded]
    expected = list(range(1, max(first["pages"], 1) + 1))
    if numbers != expected:
        missing = sorted(set(expected) - set(numbers))
        problem = f"pages {missing} missing" if missing else f"pages {numbers} are not exactly 1..{first['pages']}"
        raise _fail(first_file, f"{problem} (meta says {first['pages']} pages)")
    found = sum(len(rows) for _, rows, _ in loaded)
    if found != first["total"]:
        raise _fail(first_file, f"{found} rows across {len(loaded)} pages, but meta total is {first['total']}")
    updated = first["lastupdated"] if isinstance(first["lastupdated"], str) else None
    return [(file, row, updated) for _, rows, file in loaded for row in rows]


def parse_worldbank_api_pages(pages: list[tuple[str, bytes]]) -> pl.DataFrame:
    """Parse one indicator's API v2 JSON pages ((file name, body) pairs) into observations, nulls dropped."""
    if not pages:
        return pl.DataFrame(schema=OBSERVATION_SCHEMA)
    records, seen = [], set()
    for file, row, updated in _page_rows(pages):
        try:
            indicator, name = row["indicator"]["id"], row["country"]["value"]
            code, date, value = row["countryiso3code"], row["date"], row["value"]
        except (KeyError, TypeError) as e:
            raise _fail(file, f"a row lacks field {e}") from e
        if indicator not in WORLDBANK_MEASURES:
            raise _fail(file, f"unknown indicator code {indicator!r}")
        if not (isinstance(date, str) and _YEAR.fullmatch(date)):
            raise _fail(file, f"date {date!r} of {code} is not a year")
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if value is not None and not numeric:
            raise _fail(file, f"non-numeric value {value!r} for {code} in {date}")
        if not code:
            if value is None:
                continue
            raise _fail(file, f"{row['country'].get('id')!r} has a value in {date} but no countryiso3code")
        if (code, indicator, date) in seen:
            raise _fail(file, f"duplicate rows for {code} / {indicator} / {date}")
        seen.add((code, indicator, date))
        if value is not None:
            status = row.get("obs_status") or None  # "" means the publisher gave no flag
            records.append((code, name, indicator, int(date), float(value), status, updated, file))
    frame = pl.DataFrame(records, schema=OBSERVATION_SCHEMA, orient="row")
    return frame.sort("country_code", "indicator_code", "year")


def parse_worldbank_api_countries(pages: list[tuple[str, bytes]]) -> pl.DataFrame:
    """Parse /v2/country JSON pages into country metadata; region "Aggregates" marks an aggregate."""
    if not pages:
        return pl.DataFrame(schema=COUNTRY_METADATA_SCHEMA)
    records = []
    for file, row, _ in _page_rows(pages):
        try:
            code, region, income = row["id"], row["region"]["value"], row["incomeLevel"]["value"]
        except (KeyError, TypeError) as e:
            raise _fail(file, f"a country entry lacks field {e}") from e
        region, income = (region or "").strip(), (income or "").strip()  # the API pads some names with spaces
        is_aggregate = region == "Aggregates"
        records.append((code or None, None if is_aggregate else region or None,
                        None if income in ("", "Aggregates") else income, is_aggregate))
    out = pl.DataFrame(records, schema=COUNTRY_METADATA_SCHEMA, orient="row")
    return _checked_metadata(out, pages[0][0])


def _zip_members(path: Path) -> list[tuple[str, bytes]]:
    """(member name, bytes) of every file in a zip, through the checked zip reader (names, sizes, ratio)."""
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            html = _looks_like_markup(fh.read(512))
        raise _fail(path.name, "got HTML/XML instead of a zip" if html else "not a readable zip archive")
    members = read_zip_members(path, source=SOURCE, limits=_ZIP_LIMITS,
                               skip=lambda info: info.filename.startswith("__MACOSX/"))  # macOS re-zip debris
    if not members:
        raise _fail(path.name, "zip holds no files")
    return members


def _csv_kind(base: str, raw: bytes) -> str:
    """'data', 'country' or 'indicator' from the WB file name, else from the first header field."""
    for prefix, kind in (("Metadata_Country", "country"), ("Metadata_Indicator", "indicator"), ("API_", "data")):
        if base.startswith(prefix):
            return kind
    head = raw.removeprefix(b"\xef\xbb\xbf").lstrip()[:40].replace(b'"', b"")
    if head.startswith(b"Country Code"):
        return "country"
    return "indicator" if head.startswith(b"INDICATOR_CODE") else "data"


def read_worldbank_snapshot(files: list[Path]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read every file of a snapshot (JSON pages, CSVs, zips, in any mix) into (observations, country metadata)."""
    observations, metadata, page_sets = [], [], {}
    for path in sorted(map(Path, files), key=lambda p: p.name):
        name = path.name
        if name == "manifest.json":  # the snapshot store's own record, not publisher data
            continue
        if match := _PAGE_FILE.fullmatch(name):
            page_sets.setdefault(match["stem"], []).append((name, path.read_bytes()))
        elif name.lower().endswith(".zip"):
            for member, raw in _zip_members(path):
                _read_csv_file(f"{name}!{member}", member.rsplit("/", 1)[-1], raw, observations, metadata)
        elif name.lower().endswith(".csv"):
            _read_csv_file(name, name, path.read_bytes(), observations, metadata)
        else:
            raise _fail(name, "not a World Bank file (expected *.page-NNN.json, *.csv or *.zip)")
    for stem, pages in sorted(page_sets.items()):
        if stem == "countries":
            metadata.append((pages[0][0], parse_worldbank_api_countries(pages)))
        else:
            observations.append(parse_worldbank_api_pages(pages))
    frame = pl.concat(observations) if observations else pl.DataFrame(schema=OBSERVATION_SCHEMA)
    dup = frame.filter(pl.struct("country_code", "indicator_code", "year").is_duplicated())
    if dup.height:
        first = dup.sort("source_file").row(0, named=True)
        key = {k: first[k] for k in ("country_code", "indicator_code", "year")}
        files_ = sorted(set(dup.filter(**key)["source_file"]))
        raise _fail(files_[0], f"{' / '.join(map(str, key.values()))} also in {files_[1:]}")
    return frame.sort("country_code", "indicator_code", "year"), _merge_metadata(metadata)


def _read_csv_file(label: str, base: str, raw: bytes, observations: list, metadata: list) -> None:
    if not base.lower().endswith(".csv"):
        raise _fail(label, "not a World Bank file (expected a CSV)")
    kind = _csv_kind(base, raw)
    if kind == "data":
        observations.append(parse_worldbank_bulk_csv(raw, label))
    elif kind == "country":
        metadata.append((label, parse_worldbank_country_metadata_csv(raw, label)))


def _merge_metadata(frames: list[tuple[str, pl.DataFrame]]) -> pl.DataFrame:
    """One row per code; each zip repeats Metadata_Country, so only a flip of is_aggregate is an error."""
    merged: dict[str, tuple[str, dict]] = {}
    for label, frame in frames:
        for row in frame.iter_rows(named=True):
            kept = merged.setdefault(row["country_code"], (label, row))
            if kept[1]["is_aggregate"] != row["is_aggregate"]:
                raise _fail(label, f"{row['country_code']} is an aggregate here but not in {kept[0]} (or vice versa)")
    rows = [row for _, row in merged.values()]
    return pl.DataFrame(rows, schema=COUNTRY_METADATA_SCHEMA).sort("country_code")


def _release_columns(snapshot_id: str) -> dict[str, pl.Expr]:
    """Which WDI release a value belongs to: its Last Updated date, else the day the snapshot was taken."""
    taken = f"{snapshot_id[:4]}-{snapshot_id[4:6]}-{snapshot_id[6:8]}"
    return {
        "release": pl.when(pl.col("last_updated").is_not_null())
        .then(pl.format("WDI {}", pl.col("last_updated")))
        .otherwise(pl.lit(f"WDI as retrieved {taken}")),
        "release_sort": pl.coalesce(pl.col("last_updated"), pl.lit(taken)),
    }


def stage_worldbank(
    observations: pl.DataFrame, country_metadata: pl.DataFrame, known_iso3: pl.DataFrame, snapshot_id: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split observations into (countries, aggregates, quarantine) with measures, units and ISO3 attached."""
    if country_metadata["country_code"].is_duplicated().any():
        raise ValueError("country_metadata must have one row per country_code")
    measures = pl.DataFrame(
        [(code, measure, unit) for code, (measure, unit) in WORLDBANK_MEASURES.items()],
        schema={"indicator_code": pl.Utf8, "measure": pl.Utf8, "unit": pl.Utf8},
        orient="row",
    )
    unknown = observations.join(measures, on="indicator_code", how="anti")
    if unknown.height:
        raise _fail(unknown["source_file"][0], f"unknown indicator code {unknown['indicator_code'][0]!r}")
    rows = (
        observations.join(measures, on="indicator_code", how="left")
        .join(country_metadata.select("country_code", "is_aggregate"), on="country_code", how="left")
        .with_columns(
            # metadata decides when it lists the code; the constant covers INX and lone data files
            is_aggregate=pl.col("is_aggregate").fill_null(
                pl.col("country_code").is_in(list(WORLDBANK_AGGREGATE_CODES))
            ),
            snapshot_id=pl.lit(snapshot_id, pl.Utf8),
            **_release_columns(snapshot_id),
        )
        .sort("country_code", "indicator_code", "year")
    )
    aggregates = rows.filter(pl.col("is_aggregate")).select(
        pl.col("country_code").alias("aggregate_code"),
        pl.col("country_name").alias("aggregate_name"),
        *list(AGGREGATES_SCHEMA)[2:],
    )
    known = known_iso3["iso3"].drop_nulls().unique().to_list()
    countries = rows.filter(~pl.col("is_aggregate")).with_columns(
        iso3=pl.when(pl.col("country_code").is_in(known)).then(pl.col("country_code")),
        is_estimate=pl.when(pl.col("obs_status").is_not_null()).then(pl.col("obs_status") == "E"),
        reason=pl.when(pl.col("value") < 0)
        .then(pl.lit("negative value"))
        # Spending cannot exceed the government budget it is part of; a share of GDP above 100
        # can be real (Kuwait 1991), so that one is left to the validation suite's reviewed exceptions.
        .when((pl.col("measure") == "share_of_government_spending") & (pl.col("value") > 100))
        .then(pl.lit("share of government spending above 100")),
    )
    quarantine = countries.filter(pl.col("reason").is_not_null()).select(list(QUARANTINE_ROWS_SCHEMA))
    countries = countries.filter(pl.col("reason").is_null()).select(list(COUNTRIES_SCHEMA))
    return (
        countries.cast(dict(COUNTRIES_SCHEMA)),
        aggregates.cast(dict(AGGREGATES_SCHEMA)),
        quarantine.cast(dict(QUARANTINE_ROWS_SCHEMA)),
    )
