"""World Bank parsers on the real WDI files in ../shared/data (skipped when that folder is absent)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest

from transforms.defense_spending.worldbank import (
    WORLDBANK_AGGREGATE_CODES,
    parse_worldbank_bulk_csv,
    parse_worldbank_country_metadata_csv,
    read_worldbank_snapshot,
    stage_worldbank,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
WB_DIR = SHARED / "defense_spending" / "worldbank"
pytestmark = [pytest.mark.realdata, pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared/data here")]

ALL_CSVS = sorted(WB_DIR.rglob("*.csv")) if WB_DIR.is_dir() else []
DATA_CSVS = [p for p in ALL_CSVS if p.name.startswith("API_")]
PRISTINE = [p for p in DATA_CSVS if p.parent.name != "older_or_modified"]
METADATA_CSVS = [p for p in ALL_CSVS if p.name.startswith("Metadata_Country")]
ZIPS = sorted(WB_DIR.glob("*.zip")) if WB_DIR.is_dir() else []
FOLDERS_WITH_METADATA = sorted({p.parent for p in METADATA_CSVS})


def stdlib_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data rows, read independently of the parser with the csv module."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Country Name")
    return rows[start], [r for r in rows[start + 1:] if r]


def known_iso3(fallback_codes: set[str]) -> pl.DataFrame:
    """The project crosswalk when another engineer has built it, else the codes the files show."""
    if (REPO / "data" / "reference" / "countries.csv").exists():
        try:
            from pipelines.lib.reference import load_country_crosswalk

            return load_country_crosswalk().select("iso3")
        except (ImportError, AttributeError):
            pass
    return pl.DataFrame({"iso3": sorted(fallback_codes)}, schema={"iso3": pl.Utf8})


def metadata_of(folder: Path) -> pl.DataFrame:
    path = next(folder.glob("Metadata_Country*.csv"))
    return parse_worldbank_country_metadata_csv(path, path.name)


@pytest.mark.parametrize("path", ALL_CSVS + ZIPS, ids=lambda p: str(p.relative_to(WB_DIR)))
def test_every_file_parses(path):
    observations, metadata = read_worldbank_snapshot([path])
    if path.name.startswith("Metadata_Indicator"):
        assert observations.is_empty() and metadata.is_empty()
    elif path.name.startswith("Metadata_Country"):
        assert metadata.height == 265 and observations.is_empty()
    else:
        assert observations.height > 5000
        assert observations["indicator_code"].n_unique() == 1
        assert observations["year"].min() >= 1960 and observations["year"].max() <= 2025


@pytest.mark.parametrize("path", DATA_CSVS, ids=lambda p: str(p.relative_to(WB_DIR)))
def test_values_equal_an_independent_reading(path):
    header, rows = stdlib_rows(path)
    years = {i: int(name) for i, name in enumerate(header) if name.isdigit()}
    expected = {(r[1], years[i]): float(v) for r in rows for i, v in enumerate(r) if i in years and v != ""}
    parsed = parse_worldbank_bulk_csv(path, path.name)
    got = {(c, y): v for c, y, v in parsed.select("country_code", "year", "value").iter_rows()}
    assert parsed.height == len(expected) == len(got)
    assert got == expected  # exact float equality, not approximate
    assert len(rows) == (264 if "1740297" in path.name else 266)


@pytest.mark.parametrize("folder", FOLDERS_WITH_METADATA, ids=lambda p: p.name)
def test_country_metadata_split(folder):
    metadata = metadata_of(folder)
    aggregates = set(metadata.filter(pl.col("is_aggregate"))["country_code"])
    assert metadata.height == 265 and len(aggregates) == 48 and metadata.height - len(aggregates) == 217
    assert aggregates | {"INX"} == WORLDBANK_AGGREGATE_CODES
    data = next(folder.glob("API_*.csv"))
    codes = {r[1] for r in stdlib_rows(data)[1]}
    assert len(codes) == 266 and codes == set(metadata["country_code"]) | {"INX"}


@pytest.mark.parametrize("folder", FOLDERS_WITH_METADATA, ids=lambda p: p.name)
def test_staging_keeps_aggregates_out_of_countries(folder):
    observations, metadata = read_worldbank_snapshot(sorted(folder.iterdir()))
    economies = set(metadata.filter(~pl.col("is_aggregate"))["country_code"])
    countries, aggregates, quarantine = stage_worldbank(observations, metadata, known_iso3(economies), "real")
    assert set(countries["country_code"]) <= economies
    assert set(aggregates["aggregate_code"]) <= WORLDBANK_AGGREGATE_CODES and "WLD" in set(aggregates["aggregate_code"])
    assert not set(countries["country_code"]) & WORLDBANK_AGGREGATE_CODES
    assert countries.height + aggregates.height + quarantine.height == observations.height
    # independently: only impossible values are quarantined (negative, or a share of government spending
    # above 100); KWT 1991 at 117 % of GDP is real and must reach the warehouse
    impossible = observations.filter(
        ~pl.col("country_code").is_in(list(WORLDBANK_AGGREGATE_CODES)),
        (pl.col("value") < 0) | ((pl.col("indicator_code") == "MS.MIL.XPND.ZS") & (pl.col("value") > 100)),
    )
    assert sorted(quarantine["country_code"] + quarantine["year"].cast(pl.Utf8)) == sorted(
        impossible["country_code"] + impossible["year"].cast(pl.Utf8)
    )
    if "MS.MIL.XPND.GD.ZS" in set(observations["indicator_code"]):
        assert countries.filter(pl.col("country_code") == "KWT", pl.col("year") == 1991)["value"].item() > 100


def test_files_without_metadata_fall_back_to_the_constant_list():
    for path in DATA_CSVS:
        if any(path.parent.glob("Metadata_Country*.csv")):
            continue
        observations, metadata = read_worldbank_snapshot([path])
        countries, aggregates, quarantine = stage_worldbank(observations, metadata, known_iso3(set()), "real")
        assert metadata.is_empty() and "WLD" in set(aggregates["aggregate_code"])
        assert not set(countries["country_code"]) & WORLDBANK_AGGREGATE_CODES
        assert countries.height + aggregates.height + quarantine.height == observations.height


@pytest.mark.parametrize("zip_path", ZIPS, ids=lambda p: p.name)
def test_zip_reads_like_its_unzipped_folder(zip_path):
    from_zip = read_worldbank_snapshot([zip_path])
    from_folder = read_worldbank_snapshot(sorted((WB_DIR / zip_path.stem).iterdir()))
    assert from_zip[0].drop("source_file").equals(from_folder[0].drop("source_file"))
    assert from_zip[1].equals(from_folder[1])
    assert all(f.startswith(zip_path.name + "!API_") for f in from_zip[0]["source_file"].unique())


def test_documented_values_and_revisions():
    """Values quoted in SOURCES.md: a 2026 figure and a revision between the 2020 and 2025 vintages."""

    def value(path_glob: str, code: str, year: int) -> float:
        path = next(WB_DIR.glob(path_glob))
        frame = parse_worldbank_bulk_csv(path, path.name)
        return frame.filter(pl.col("country_code") == code, pl.col("year") == year)["value"].item()

    assert str(value("*_211/API_*.csv", "POL", 2024)).startswith("4.15439")
    assert abs(value("older_or_modified/*1740297.csv", "USA", 2016) - 3.41894) < 1e-5
    assert abs(value("*_26302/API_*.csv", "USA", 2016) - 3.40260) < 1e-5
    assert value("*_26302/API_*.csv", "AGO", 1985) == 1.715e-05
