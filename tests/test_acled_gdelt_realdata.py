"""ACLED and GDELT staging on the real public files in ../shared/data/conflict_events (skipped when absent).

Expected values are computed here from the files with the csv module or plain string handling, independently
of the Polars parsers; the counts SOURCES.md states are checked as well.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import shared_path
from transforms.conflict_events.acled import read_acled_csv
from transforms.conflict_events.cameo import (
    CAMEO_REFERENCE_DIR,
    LOOKUP_HEADERS,
    build_cameo_eventcodes,
    read_cameo_lookup,
    write_cameo_reference,
)
from transforms.conflict_events.gdelt import GDELT_EVENT_COLUMNS, read_gdelt_export
from transforms.conflict_events.gdelt_files import parse_gdelt_file_list

pytestmark = pytest.mark.realdata

UTC = timezone.utc
GDELT_ROWS = {"20250104161500": 509, "20250104163000": 869, "20250104164500": 750, "20250104170000": 795}
CODE_COLUMNS = ("EventCode", "EventBaseCode", "EventRootCode")


# --- ACLED ---------------------------------------------------------------------------------------------

def test_acled_benin_export_stages_every_event(crosswalk):
    path = shared_path("conflict_events", "acled", "acled.csv")
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    events, rejected = read_acled_csv(path, crosswalk)
    assert len(rows) == 811 and events.height == 811 and rejected.is_empty()
    assert events["iso3"].unique().to_list() == ["BEN"]
    assert events["country_code_published"].unique().to_list() == ["204"]
    assert events["fatalities_best"].sum() == sum(int(r["fatalities"]) for r in rows)
    assert events["event_id_cnty"].to_list() == [r["event_id_cnty"] for r in rows]
    # The R copy writes missing values as NA: every NA cell is null, and nothing else is.
    na_cells = sum(v == "NA" for r in rows for v in r.values())
    staged_nulls = events.select(
        pl.col(c).is_null().sum() for c in ("actor2", "assoc_actor_1", "assoc_actor_2", "civilian_targeting",
                                            "admin1", "admin2", "admin3", "tags")
    ).sum_horizontal()[0]
    assert na_cells == staged_nulls == 2962
    precision = {"1": "day", "2": "week", "3": "month"}
    expected = {}
    for r in rows:
        expected[precision[r["time_precision"]]] = expected.get(precision[r["time_precision"]], 0) + 1
    assert dict(events["date_precision"].value_counts().iter_rows()) == expected
    first = events.row(0, named=True)
    assert first["event_date"] == datetime.strptime(rows[0]["event_date"], "%d %B %Y").date()
    assert first["timestamp"] == datetime.fromtimestamp(int(rows[0]["timestamp"]), UTC)
    assert events["disorder_type"].str.contains("; ").sum() == sum("; " in r["disorder_type"] for r in rows)


# --- GDELT exports ---------------------------------------------------------------------------------------

def gdelt_path(stamp: str) -> Path:
    return shared_path("conflict_events", "gdelt", f"{stamp}.export.CSV")


def independent_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_column_names_match_the_shared_column_label_file():
    path = shared_path("conflict_events", "gdelt", "GDELT_2.0_Events_Column_Labels_Header_Row_Sep2016.csv")
    with path.open(encoding="utf-8", newline="") as f:
        labels = [r["tableId"] for r in csv.DictReader(f)]
    assert tuple(labels) == GDELT_EVENT_COLUMNS


@pytest.mark.parametrize("stamp", sorted(GDELT_ROWS))
def test_gdelt_export_file(crosswalk, stamp):
    path = gdelt_path(stamp)
    rows = independent_rows(path)
    events, rejected = read_gdelt_export(path, crosswalk)
    assert len(rows) == GDELT_ROWS[stamp] == events.height and rejected.is_empty()
    assert all(len(r) == 61 for r in rows)
    ids = events["global_event_id"].to_list()
    assert ids == [int(r[0]) for r in rows] and ids == list(range(ids[0], ids[0] + len(ids)))
    column = {name: i for i, name in enumerate(GDELT_EVENT_COLUMNS)}
    for name, staged in zip(CODE_COLUMNS, ("event_code", "event_base_code", "event_root_code")):
        assert events[staged].to_list() == [r[column[name]] for r in rows]
        assert events[staged].str.starts_with("0").sum() == sum(r[column[name]].startswith("0") for r in rows)
    for actor in ("actor1_code", "actor2_code"):
        raw = [r[column["Actor1Code" if actor == "actor1_code" else "Actor2Code"]] or None for r in rows]
        assert events[actor].to_list() == raw
    no_geo = [r[column["ActionGeo_Type"]] == "0" for r in rows]
    staged_no_geo = events.filter(pl.col("action_geo_type") == 0)
    assert staged_no_geo.height == sum(no_geo)
    assert staged_no_geo["latitude"].is_null().all() and staged_no_geo["longitude"].is_null().all()
    assert events.filter(pl.col("action_geo_type") != 0)["latitude"].null_count() == 0
    added = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    assert events["date_added"].unique().to_list() == [added]
    assert events["source_url"].to_list() == [r[-1] for r in rows]
    unresolved = events.filter(pl.col("country_code_published").is_not_null() & pl.col("iso3").is_null())
    assert set(unresolved["country_code_published"]) <= {"OS", "PF", "PG"}


def test_gdelt_totals_as_sources_md_states(crosswalk):
    staged = pl.concat([read_gdelt_export(gdelt_path(s), crosswalk)[0] for s in sorted(GDELT_ROWS)])
    raw = [r for s in sorted(GDELT_ROWS) for r in independent_rows(gdelt_path(s))]
    assert staged.height == len(raw) == 2923
    leading_zero = sum(r[26].startswith("0") for r in raw)
    assert staged["event_code"].str.starts_with("0").sum() == leading_zero == 2116
    assert staged.filter(pl.col("action_geo_type") == 0).height == sum(r[51] == "0" for r in raw) == 97
    assert staged["actor1_code"].null_count() == sum(not r[5] for r in raw) == 316
    assert staged["actor2_code"].null_count() == sum(not r[15] for r in raw) == 859
    # SOURCES.md's "43 rows > ~1 month old": events dated before the month the file was added in.
    earlier = staged.filter(pl.col("event_date") < pl.col("date_added").dt.date().dt.month_start()).height
    assert earlier == sum(r[1][:6] < r[59][:6] for r in raw) == 43


# --- masterfilelist excerpt -------------------------------------------------------------------------------

def test_masterfilelist_excerpt_parses():
    path = shared_path("conflict_events", "gdelt", "masterfilelist_excerpt_first1000.txt")
    text = path.read_text(encoding="utf-8")
    listed = parse_gdelt_file_list(text, path.name)
    lines = [line.split(" ") for line in text.splitlines()]
    assert listed.height == len(lines) == 1000
    assert listed["size"].to_list() == [int(p[0]) for p in lines] and listed["md5"].to_list() == [p[1] for p in lines]
    assert listed["url"].to_list() == [p[2] for p in lines]
    kinds = {"export": ".export.CSV.zip", "mentions": ".mentions.CSV.zip", "gkg": ".gkg.csv.zip"}
    assert all(url.endswith(kinds[k]) for url, k in listed.select("url", "kind").iter_rows())
    stamps = sorted({p[2].rsplit("/", 1)[1][:14] for p in lines if p[2].endswith(".export.CSV.zip")})
    present = {datetime.strptime(s, "%Y%m%d%H%M%S").replace(tzinfo=UTC) for s in stamps}
    exports = listed.filter(pl.col("kind") == "export")["timestamp"]
    assert set(exports) == present
    assert (exports.min(), exports.max()) == (datetime(2015, 2, 18, 23, 0, tzinfo=UTC),
                                              datetime(2015, 2, 22, 12, 15, tzinfo=UTC))


# --- CAMEO lookups ----------------------------------------------------------------------------------------

def lookup(copy: str, kind: str) -> Path:
    return shared_path("conflict_events", "gdelt", copy, f"CAMEO.{kind}.txt")


def raw_pairs(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").replace("\r\n", "\n").splitlines()[1:]
    return [tuple(line.split("\t")) for line in lines if line]


@pytest.mark.parametrize("kind", ["country", "type", "knowngroup", "ethnic", "religion"])
def test_label_lookups_parse(kind):
    path = lookup("lookups", kind)
    pairs = raw_pairs(path)
    assert len(pairs) == {"country": 261, "type": 40, "knowngroup": 117, "ethnic": 641, "religion": 31}[kind]
    expected: dict[str, list[str]] = {}
    for code, label in pairs:
        labels = expected.setdefault(code, [])
        if label.strip() not in labels:
            labels.append(label.strip())
    parsed = read_cameo_lookup(path, kind)
    assert parsed.rows() == [(code, " | ".join(labels)) for code, labels in expected.items()]
    assert parsed["code"].is_unique().all()


def test_repeated_label_codes_are_the_known_ones():
    knowngroup = dict(read_cameo_lookup(lookup("lookups", "knowngroup"), "knowngroup").iter_rows())
    assert knowngroup["CEM"] == (
        "Common Market for Eastern and Southern Africa | Monetary and Economic Community of Central Africa"
    )
    assert knowngroup["WTO"] == "World Trade Organization | World Trade Organization (WTO)"
    assert dict(read_cameo_lookup(lookup("lookups", "type"), "type").iter_rows())["UIS"] == "Unidentified State Actor"


def test_both_cameo_copies_agree_except_the_glued_106_defect():
    current = read_cameo_lookup(lookup("lookups", "eventcodes"), "eventcodes")
    old = read_cameo_lookup(lookup("lookups_2013_copy", "eventcodes"), "eventcodes")
    # The defect as published: 310 lines, one of them holding two entries.
    assert len(raw_pairs(lookup("lookups", "eventcodes"))) == 310 and current.height == old.height == 311
    assert current.select("code", "label").rows() == old.select("code", "label").rows()
    assert current.filter(pl.col("goldstein_in_label").is_not_null()).rows() == [("106", "Demand withdrawal", -5.0)]
    assert old["goldstein_in_label"].null_count() == old.height
    current_g = read_cameo_lookup(lookup("lookups", "goldsteinscale"), "goldsteinscale")
    old_g = read_cameo_lookup(lookup("lookups_2013_copy", "goldsteinscale"), "goldsteinscale")
    assert set(old_g["code"]) - set(current_g["code"]) == {"106"} and current_g.height == 310
    both = old_g.join(current_g, on="code")
    assert both.filter(pl.col("goldstein_scale") != pl.col("goldstein_scale_right")).is_empty()
    # Filled from the glued [-5.0], the current copy builds the same table as the 2013 copy.
    assert build_cameo_eventcodes(current, current_g).equals(build_cameo_eventcodes(old, old_g))


def test_committed_cameo_tables_are_what_the_generator_writes_and_not_copies(tmp_path):
    lookups = lookup("lookups", "eventcodes").parent
    for written in write_cameo_reference(lookups, tmp_path):
        committed = CAMEO_REFERENCE_DIR / written.name
        assert written.read_bytes() == committed.read_bytes(), "run `python -m transforms.conflict_events.cameo`"
    for name, kind in (("eventcodes.csv", "eventcodes"), ("country.csv", "country")):
        assert (CAMEO_REFERENCE_DIR / name).read_bytes() != lookup("lookups", kind).read_bytes()
    committed = pl.read_csv(CAMEO_REFERENCE_DIR / "country.csv", infer_schema=False)
    assert committed.height == 261 and LOOKUP_HEADERS["country"] == ("CODE", "LABEL")
