"""UCDP/PRIO Armed Conflict: conflict-years and the locations bridge, on the sample and on inline files."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import dict_rows
from transforms.conflict_events.ucdp_acd import (
    ACD_SCHEMA,
    LOCATION_SCHEMA,
    read_ucdp_acd_csv,
)
from transforms.errors import SourceFormatError

REPO = Path(__file__).resolve().parents[1]
ACD_SAMPLE = REPO / "data" / "samples" / "ucdp_acd" / "UcdpPrioConflict_v25_1.csv"


def test_acd_sample(crosswalk):
    conflict_years, locations, rejected = read_ucdp_acd_csv(ACD_SAMPLE, crosswalk)
    rows = dict_rows(ACD_SAMPLE)
    assert conflict_years.height == len(rows) == 20
    assert conflict_years.schema == ACD_SCHEMA and locations.schema == LOCATION_SCHEMA
    pieces = sum(len(r["gwno_loc"].split(",")) for r in rows)
    assert locations.height + rejected.height == pieces
    two = locations.filter((pl.col("conflict_id") == 91101) & (pl.col("year") == 2023))
    assert two.select("gw_code", "iso3", "region").rows() == [(651, "EGY", 2), (666, "ISR", 2)]
    row = conflict_years.filter((pl.col("conflict_id") == 91101) & (pl.col("year") == 2023)).row(0, named=True)
    assert row["gwno_loc"] == "651, 666" and row["region"] == [2] and row["gwno_a"] == "651,  663"
    assert row["start_date"] == date(2022, 3, 2) and row["ep_end"] is False and row["ep_end_date"] is None
    assert row["version"] == "25.1" and row["source_file"] == ACD_SAMPLE.name
    assert conflict_years.filter(pl.col("conflict_id") == 91106)["region"].to_list() == [[3, 5]]
    assert locations.filter(pl.col("conflict_id") == 91106).select("iso3", "region").rows() == [("AFG", 3), ("USA", 5)]
    iso = {(c, y): i for c, y, i in locations.select("conflict_id", "year", "iso3").iter_rows()}
    assert [iso[(91102, y)] for y in (1990, 1991, 1992, 1993)] == ["SUN", "SUN", "RUS", "RUS"]
    assert [iso[(91107, y)] for y in (1991, 1998, 1999)] == ["YUG", "SCG", "SCG"]
    assert [iso[(91103, y)] for y in (1989, 1990, 2015, 2016)] == ["YAR", "YAR", "YEM", "YEM"]
    assert rejected.select("record_key", "reason").rows() == [
        (f"91104:{y}:680", f"gwno_loc 680 (Gleditsch-Ward) does not resolve to a country in {y}; "
                           "this location row is left out, the record is kept")
        for y in (1965, 1966)
    ]
    assert conflict_years.filter(pl.col("conflict_id") == 91104).height == 2  # the conflict-years stay


def test_acd_rules_and_drift(tmp_path, crosswalk):
    rows = dict_rows(ACD_SAMPLE)[:3]
    path = tmp_path / "UcdpPrioConflict_v25_1.csv"

    def write(records: list[dict[str, str]], columns: list[str] | None = None) -> Path:
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, columns or list(rows[0]), quoting=csv.QUOTE_ALL, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(records)
        return path

    bad = [rows[0], {**rows[1], "start_date2": "31/12/2023"}, rows[0]]
    years, locations, rejected = read_ucdp_acd_csv(write(bad), crosswalk)
    assert years.height == 1 and locations.height == 2
    assert rejected["reason"].to_list() == [
        "unparseable start_date2 '31/12/2023'", "duplicate conflict_id 91101, year 2022 (first occurrence kept)"
    ]
    with pytest.raises(SourceFormatError, match=r"missing column\(s\) \['gwno_loc'\]"):
        read_ucdp_acd_csv(write(rows, [c for c in rows[0] if c != "gwno_loc"]), crosswalk)
    with pytest.raises(SourceFormatError, match="'gwno_loc' holds '651; 666', not a list of integer codes"):
        read_ucdp_acd_csv(write([{**rows[0], "gwno_loc": "651; 666"}]), crosswalk)
    with pytest.raises(SourceFormatError, match="'type_of_conflict' holds code 5"):
        read_ucdp_acd_csv(write([{**rows[0], "type_of_conflict": "5"}]), crosswalk)
    with pytest.raises(SourceFormatError, match="'ep_end' holds 'yes', not 0 or 1"):
        read_ucdp_acd_csv(write([{**rows[0], "ep_end": "yes"}]), crosswalk)
