"""World Bank files to observations: bulk-download CSVs (any preamble), Metadata_Country and API v2 JSON pages.

Each parser checks what it reads and fails naming the file (SourceFormatError); worldbank.py assembles a
snapshot's files and stages them.
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import polars as pl

from transforms.errors import SourceFormatError

SOURCE = "worldbank"

WORLDBANK_MEASURES: dict[str, tuple[str, str]] = {
    "MS.MIL.XPND.GD.ZS": ("share_of_gdp", "percent"),
    "MS.MIL.XPND.CD": ("current_usd", "usd"),
    "MS.MIL.XPND.ZS": ("share_of_government_spending", "percent"),
    "MS.MIL.TOTL.P1": ("armed_forces_personnel", "persons"),
}

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
_ID_COLUMNS = ("Country Name", "Country Code", "Indicator Name", "Indicator Code")
_METADATA_COLUMNS = ("Country Code", "Region", "IncomeGroup")
_YEAR = re.compile(r"\d{4}")


def format_error(file: str, problem: str) -> SourceFormatError:
    """The error for a World Bank file that is not what it should be."""
    return SourceFormatError(SOURCE, file, problem)


def _read(path: Path | bytes) -> bytes:
    return path if isinstance(path, bytes) else Path(path).read_bytes()


def looks_like_markup(raw: bytes) -> bool:
    """An HTML/XML page (an error or login page) served where data was expected."""
    return raw.removeprefix(b"\xef\xbb\xbf")[:200].lstrip().startswith(b"<")


def _text(raw: bytes, file: str, expected: str) -> str:
    """Decode UTF-8 (BOM optional), refusing an HTML/XML error page served in place of the data."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if looks_like_markup(raw):
        raise format_error(file, f"got HTML/XML instead of {expected}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise format_error(file, f"not UTF-8 text ({e.reason} at byte {e.start})") from e


def _from_header(text: str, first_field: str, file: str) -> str:
    """Cut the text at its header line: WB puts 4 preamble lines first, a hand-edited file none."""
    header = re.compile(rf'\s*"?{re.escape(first_field)}"?\s*(,|$)')
    offset = 0
    for line in text.split("\n", 10)[:10]:
        if header.match(line):
            return text[offset:]
        offset += len(line) + 1
    raise format_error(file, f"no {first_field!r} header line in the first 10 lines")


def _read_table(text: str, file: str) -> pl.DataFrame:
    try:
        table = pl.read_csv(io.BytesIO(text.encode("utf-8")), infer_schema=False)
    except pl.exceptions.PolarsError as e:
        raise format_error(file, f"unreadable CSV: {e}") from e
    # Every WB line ends with a comma: an unnamed, empty last column that carries nothing.
    for name in [c for c in table.columns if not c.strip()]:
        if table[name].drop_nulls().str.strip_chars().ne("").any():
            raise format_error(file, "an unnamed header column holds values")
        table = table.drop(name)
    return table


def _require(table: pl.DataFrame, columns: tuple[str, ...], file: str) -> None:
    for column in columns:
        if column not in table.columns:
            raise format_error(file, f"missing header column {column!r} (found {table.columns[:6]})")


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
            raise format_error(file_name, f"unexpected header column {column!r} (expected a year)")
    if not years:
        raise format_error(file_name, "no year columns")
    _check_codes(table, file_name)
    long = (
        table.unpivot(index=["Country Code", "Country Name", "Indicator Code"], on=years, variable_name="year")
        .filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
        .with_columns(number=pl.col("value").cast(pl.Float64, strict=False))
    )
    bad = long.filter(pl.col("number").is_null() | ~pl.col("number").is_finite())
    if bad.height:
        row = bad.row(0, named=True)
        raise format_error(file_name, f"non-numeric value {row['value']!r} for {row['Country Code']} in {row['year']}")
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
        raise format_error(file, "a row has an empty 'Country Code'")
    unknown = sorted(set(table["Indicator Code"].fill_null("").to_list()) - WORLDBANK_MEASURES.keys())
    if unknown:
        raise format_error(file, f"unknown indicator code {unknown[0]!r}")
    dup = table.filter(pl.struct("Country Code", "Indicator Code").is_duplicated())
    if dup.height:
        raise format_error(file, f"duplicate rows for {dup['Country Code'][0]} / {dup['Indicator Code'][0]}")


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
        raise format_error(file, "a row has an empty country code")
    dup = out.filter(pl.col("country_code").is_duplicated())
    if dup.height:
        raise format_error(file, f"duplicate country code {dup['country_code'][0]!r}")
    return out.cast(dict(COUNTRY_METADATA_SCHEMA)).sort("country_code")


def _load_page(file: str, raw: bytes) -> tuple[dict, list]:
    """One API page as (meta, rows), refusing error replies and anything not shaped [meta, rows]."""
    try:
        doc = json.loads(_text(raw, file, "JSON"))
    except json.JSONDecodeError as e:
        raise format_error(file, f"not valid JSON ({e.msg}, line {e.lineno})") from e
    # The API reports bad requests as HTTP 200 with [{"message": [{"id", "key", "value"}]}].
    if isinstance(doc, list) and doc and isinstance(doc[0], dict) and "message" in doc[0]:
        messages = doc[0]["message"] if isinstance(doc[0]["message"], list) else [doc[0]["message"]]
        said = "; ".join(f"{m.get('id')} {m.get('key')}: {m.get('value')}" for m in messages if isinstance(m, dict))
        raise format_error(file, f"World Bank API error reply: {said or doc[0]['message']!r}")
    if not (isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], dict)):
        raise format_error(file, "not an API page of the form [meta, rows]")
    if doc[1] is not None and not isinstance(doc[1], list):
        raise format_error(file, "not an API page of the form [meta, rows]: rows is not a list")
    meta = {"lastupdated": doc[0].get("lastupdated")}
    for key in ("page", "pages", "per_page", "total"):
        value = doc[0].get(key)
        # per_page comes as a string ("50") from some endpoints, as a number from others.
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            raise format_error(file, f"page meta {key!r} is missing or not an integer: {value!r}")
        meta[key] = int(value)
    return meta, doc[1] or []


def _page_rows(pages: list[tuple[str, bytes]]) -> list[tuple[str, object, str | None]]:
    """Load a page set, check pages 1..N are there once and agree, and return (file, row) for all rows."""
    loaded = sorted(((*_load_page(name, raw), name) for name, raw in pages), key=lambda t: t[0]["page"])
    first, _, first_file = loaded[0]
    for meta, rows, file in loaded:
        for key in ("pages", "per_page", "total", "lastupdated"):
            if meta[key] != first[key]:
                raise format_error(file, f"page meta {key}={meta[key]!r} disagrees with {first_file} ({first[key]!r})")
        if len(rows) > meta["per_page"]:
            raise format_error(file, f"{len(rows)} rows on a page of per_page={meta['per_page']}")
    numbers = [meta["page"] for meta, _, _ in loaded]
    expected = list(range(1, max(first["pages"], 1) + 1))
    if numbers != expected:
        missing = sorted(set(expected) - set(numbers))
        problem = f"pages {missing} missing" if missing else f"pages {numbers} are not exactly 1..{first['pages']}"
        raise format_error(first_file, f"{problem} (meta says {first['pages']} pages)")
    found = sum(len(rows) for _, rows, _ in loaded)
    if found != first["total"]:
        raise format_error(first_file, f"{found} rows across {len(loaded)} pages, but meta total is {first['total']}")
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
            raise format_error(file, f"a row lacks field {e}") from e
        if indicator not in WORLDBANK_MEASURES:
            raise format_error(file, f"unknown indicator code {indicator!r}")
        if not (isinstance(date, str) and _YEAR.fullmatch(date)):
            raise format_error(file, f"date {date!r} of {code} is not a year")
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if value is not None and not numeric:
            raise format_error(file, f"non-numeric value {value!r} for {code} in {date}")
        if not code:
            if value is None:
                continue
            raise format_error(file, f"{row['country'].get('id')!r} has a value in {date} but no countryiso3code")
        if (code, indicator, date) in seen:
            raise format_error(file, f"duplicate rows for {code} / {indicator} / {date}")
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
            raise format_error(file, f"a country entry lacks field {e}") from e
        region, income = (region or "").strip(), (income or "").strip()  # the API pads some names with spaces
        is_aggregate = region == "Aggregates"
        records.append((code or None, None if is_aggregate else region or None,
                        None if income in ("", "Aggregates") else income, is_aggregate))
    out = pl.DataFrame(records, schema=COUNTRY_METADATA_SCHEMA, orient="row")
    return _checked_metadata(out, pages[0][0])
