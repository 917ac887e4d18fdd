"""ACLED staging: the export CSV and the read API's JSON pages to the conformed event shape."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from transforms.conflict_events.acled import (
    ACLED_COLUMNS,
    EXTRA_SCHEMA,
    REJECTED_SCHEMA,
    read_acled_api_pages,
    read_acled_csv,
)
from transforms.conflict_events.schema import DATE_PRECISIONS, EVENT_COLUMNS
from transforms.errors import SourceFormatError

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples" / "acled"
EXPORT = SAMPLES / "acled_export_2024.csv"
PAGES = sorted((SAMPLES / "api").glob("acled_read_page*.json"))
STAGED_SCHEMA = pl.Schema({**EVENT_COLUMNS, **EXTRA_SCHEMA})


def event(**values: str) -> dict[str, str]:
    """One plausible export row (all 31 columns as text), with `values` replacing fields."""
    row = dict.fromkeys(ACLED_COLUMNS, "")
    row.update({
        "event_id_cnty": "NIG100", "event_date": "5 March 2024", "year": "2024", "time_precision": "1",
        "disorder_type": "Political violence", "event_type": "Battles", "sub_event_type": "Armed clash",
        "actor1": "Military Forces of Nigeria (2023-)", "inter1": "1", "actor2": "Invented Front", "inter2": "2",
        "interaction": "12", "iso": "566", "region": "Western Africa", "country": "Nigeria", "admin1": "Borno",
        "admin2": "Maiduguri", "location": "Maiduguri", "latitude": "11.8333", "longitude": "13.15",
        "geo_precision": "1", "source": "Invented Daily", "source_scale": "National",
        "notes": "On 5 March 2024, an invented clash, NA here stays text.", "fatalities": "3",
        "timestamp": "1710000000",
    })
    unknown = set(values) - set(ACLED_COLUMNS)
    assert not unknown, unknown
    row.update(values)
    return row


def write_export(path: Path, *rows: dict[str, str], columns: tuple[str, ...] = ACLED_COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_page(path: Path, rows: list[dict], **envelope) -> Path:
    body = {"status": 200, "success": True, "count": len(rows), "messages": [], "data": rows, **envelope}
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


# --- the sample export ----------------------------------------------------------------------------------

def test_sample_export_stages_with_two_documented_rejects(crosswalk):
    events, rejected = read_acled_csv(EXPORT, crosswalk)
    with EXPORT.open(encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    assert len(raw) == 60 and events.height == 58 and rejected.height == 2
    assert events.schema == STAGED_SCHEMA and rejected.schema == REJECTED_SCHEMA
    reasons = dict(zip(rejected["event_id_cnty"], rejected["reason"]))
    negative = next(r["event_id_cnty"] for r in raw if r["fatalities"].startswith("-"))
    assert reasons.pop(negative) == "negative fatalities -1"
    (duplicate, reason), = reasons.items()
    assert reason.startswith(f"duplicate event_id_cnty {duplicate}")
    versions = [r for r in raw if r["event_id_cnty"] == duplicate]
    newest = max(versions, key=lambda r: int(r["timestamp"]))
    kept = events.filter(pl.col("event_id_cnty") == duplicate).row(0, named=True)
    assert kept["fatalities_best"] == int(newest["fatalities"])
    assert kept["timestamp"] == datetime.fromtimestamp(int(newest["timestamp"]), timezone.utc)
    assert events["event_id"].is_unique().all()
    assert sorted(events["iso3"].unique()) == ["MEX", "NGA", "UKR"]
    assert events["event_date"].min() >= date(2024, 1, 1) and events["event_date"].max() <= date(2024, 6, 30)
    assert set(events["date_precision"]) <= set(DATE_PRECISIONS)


def test_sample_export_conformed_columns(crosswalk):
    events, _ = read_acled_csv(EXPORT, crosswalk)
    row = events.filter(pl.col("iso3") == "UKR").row(0, named=True)
    assert row["event_id"] == f"acled:{row['event_id_cnty']}" == f"acled:{row['source_event_id']}"
    assert (row["source"], row["source_kind"], row["country_code_published"], row["country_name"]) == (
        "acled", "verified_event", "804", "Ukraine")
    assert row["event_date_end"] == row["event_date"] and row["release"] is None
    assert row["fatalities_low"] is None and row["fatalities_high"] is None
    assert row["source_file"] == EXPORT.name and row["reported_by"]
    # Raw exports leave cells empty: they stage as null, never as ''.
    assert events.filter(pl.col("admin3") == "").is_empty() and events["assoc_actor_2"].is_null().all()


# --- inline fixtures ------------------------------------------------------------------------------------

def test_na_and_empty_cells_are_both_missing_but_only_as_whole_cells(tmp_path, crosswalk):
    path = write_export(
        tmp_path / "r_copy.csv",
        event(event_id_cnty="NIG1", actor2="NA", admin3="NA", tags="NA", civilian_targeting="NA", inter2="0"),
        event(event_id_cnty="NIG2", actor2="", admin3="", tags="", civilian_targeting=""),
        event(event_id_cnty="NIG3", actor2=" NA ", tags="NAB"),
    )
    events, rejected = read_acled_csv(path, crosswalk)
    assert rejected.is_empty()
    assert events.select("actor2", "admin3", "tags", "civilian_targeting").rows() == [
        (None, None, None, None), (None, None, None, None), (None, None, "NAB", None)]
    assert events["notes"][0].endswith("NA here stays text.")


def test_types_dates_and_precisions(tmp_path, crosswalk):
    path = write_export(
        tmp_path / "a.csv",
        event(event_id_cnty="NIG1", event_date="28 December 2022", time_precision="1"),
        event(event_id_cnty="NIG2", event_date="2022-12-28", time_precision="2"),
        event(event_id_cnty="NIG3", event_date="1 July 2023", time_precision="3", iso="566.0"),
        event(event_id_cnty="NIG4", time_precision="4"),
    )
    events, rejected = read_acled_csv(path, crosswalk)
    assert rejected.is_empty()
    assert events["event_date"].to_list()[:3] == [date(2022, 12, 28), date(2022, 12, 28), date(2023, 7, 1)]
    assert events["date_precision"].to_list() == ["day", "week", "month", None]
    assert events["time_precision"].to_list() == [1, 2, 3, 4]
    assert events["country_code_published"].to_list() == ["566"] * 4 and events["iso3"].unique().to_list() == ["NGA"]
    assert events["timestamp"][0] == datetime(2024, 3, 9, 16, 0, tzinfo=timezone.utc)
    assert events.select("inter1", "interaction", "geo_precision", "year").row(0) == ("1", "12", 1, 2024)


def test_iso_numeric_keeps_three_digits(tmp_path, crosswalk):
    path = write_export(tmp_path / "a.csv", event(iso="4", country="Afghanistan"))
    events, _ = read_acled_csv(path, crosswalk)
    assert events.select("country_code_published", "iso3").row(0) == ("004", "AFG")


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"event_date": "31 February 2024"}, "unreadable event_date '31 February 2024'"),
        ({"event_date": ""}, "unreadable event_date ''"),
        ({"fatalities": "-2"}, "negative fatalities -2"),
        ({"fatalities": "some"}, "unreadable fatalities 'some'"),
        ({"latitude": "91.5"}, "latitude 91.5 out of range"),
        ({"longitude": "-190"}, "longitude -190.0 out of range"),
        ({"latitude": "N12"}, "unreadable latitude 'N12'"),
        ({"iso": "999"}, "iso '999' (country 'Nigeria') not in the country crosswalk"),
        ({"iso": ""}, "iso '' (country 'Nigeria') not in the country crosswalk"),
        ({"timestamp": "yesterday"}, "unreadable timestamp 'yesterday'"),
        ({"event_id_cnty": ""}, "empty event_id_cnty"),
    ],
)
def test_row_rules_quarantine_with_a_reason(tmp_path, crosswalk, values, reason):
    path = write_export(tmp_path / "a.csv", event(event_id_cnty="NIG1"), event(**{"event_id_cnty": "NIG2", **values}))
    events, rejected = read_acled_csv(path, crosswalk)
    assert events["event_id_cnty"].to_list() == ["NIG1"]
    assert rejected["reason"].to_list()[0].startswith(reason)
    assert rejected.select("source_file", "row").row(0) == ("a.csv", 2)


def test_duplicate_ids_keep_the_newest_version_even_when_it_comes_first_or_is_invalid(tmp_path, crosswalk):
    path = write_export(
        tmp_path / "a.csv",
        event(event_id_cnty="NIG1", fatalities="5", timestamp="1710000500"),
        event(event_id_cnty="NIG1", fatalities="3", timestamp="1710000000"),
        event(event_id_cnty="NIG2", fatalities="1", timestamp="1710000000"),
        event(event_id_cnty="NIG2", fatalities="-4", timestamp="1710009999"),
        event(event_id_cnty="NIG3", fatalities="7", timestamp="1710000000"),
        event(event_id_cnty="NIG3", fatalities="8", timestamp="1710000000"),
    )
    events, rejected = read_acled_csv(path, crosswalk)
    assert events.select("event_id_cnty", "fatalities_best").rows() == [("NIG1", 5), ("NIG3", 7)]
    assert rejected.select("event_id_cnty", "row").rows() == [("NIG1", 2), ("NIG2", 3), ("NIG2", 4), ("NIG3", 6)]
    assert rejected["reason"].to_list()[1].startswith("duplicate") and rejected["reason"][2].startswith("negative")


def test_missing_column_names_it(tmp_path, crosswalk):
    columns = tuple(c for c in ACLED_COLUMNS if c != "fatalities")
    path = write_export(tmp_path / "drift.csv", event(), columns=columns)
    with pytest.raises(SourceFormatError, match=r"\[acled\].*drift\.csv.*missing column 'fatalities'"):
        read_acled_csv(path, crosswalk)


def test_extra_columns_and_another_order_are_fine(tmp_path, crosswalk):
    columns = tuple(reversed(ACLED_COLUMNS)) + ("iso3",)
    path = write_export(tmp_path / "a.csv", {**event(), "iso3": "NGA"}, columns=columns)
    events, _ = read_acled_csv(path, crosswalk)
    assert events.select("event_id_cnty", "iso3", "fatalities_best").row(0) == ("NIG100", "NGA", 3)


def test_ragged_row_fails_naming_its_line(tmp_path, crosswalk):
    path = write_export(tmp_path / "a.csv", event())
    path.write_text(path.read_text() + "NIG9,1 March 2024\n")
    with pytest.raises(SourceFormatError, match="line 3: 2 fields"):
        read_acled_csv(path, crosswalk)


# --- the read API's JSON --------------------------------------------------------------------------------

def test_sample_api_pages(crosswalk):
    events, rejected = read_acled_api_pages(PAGES, crosswalk)
    counts = [json.loads(p.read_text())["count"] for p in PAGES]
    assert len(PAGES) == 2 and events.height == sum(counts) == 20 and rejected.is_empty()
    assert events.schema == STAGED_SCHEMA
    assert events["source_file"].value_counts().sort("source_file").rows() == [
        ("acled_read_page1.json", counts[0]), ("acled_read_page2.json", counts[1])]
    assert events["event_date"].min() >= date(2024, 5, 1)


def test_api_pages_give_the_same_events_as_the_csv(tmp_path, crosswalk):
    with EXPORT.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    # The API's values are strings, or numbers and nulls in places; the dates ISO.
    api_rows = []
    for r in rows:
        item: dict = dict(r)
        item["event_date"] = datetime.strptime(r["event_date"], "%d %B %Y").date().isoformat()
        item["timestamp"] = int(r["timestamp"])
        item["admin3"] = r["admin3"] or None
        api_rows.append(item)
    pages = [write_page(tmp_path / "p1.json", api_rows[:35]), write_page(tmp_path / "p2.json", api_rows[35:])]
    from_csv, csv_rejected = read_acled_csv(EXPORT, crosswalk)
    from_api, api_rejected = read_acled_api_pages(pages, crosswalk)
    assert from_api.drop("source_file").equals(from_csv.drop("source_file"))
    assert api_rejected["reason"].to_list() == csv_rejected["reason"].to_list()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": 200, "success": False, "error": {"message": "Access denied"}}, "reported failure"),
        ({"status": 403, "success": True, "data": []}, "reported failure"),
        ({"status": 200, "success": True, "count": 3, "data": [event()]}, "'count' is 3 but 'data' holds 1"),
        ({"status": 200, "success": True}, "'data' list"),
        ([1, 2], "'data' list"),
        ({"status": 200, "success": True, "data": [{"event_id_cnty": "NIG1"}]}, "missing column 'event_date'"),
        ({"status": 200, "success": True, "data": ["NIG1"]}, "record 1 is not an object"),
    ],
)
def test_api_errors_and_drift_fail_the_page(tmp_path, crosswalk, body, message):
    path = tmp_path / "page.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(SourceFormatError, match=message):
        read_acled_api_pages([path], crosswalk)


def test_api_page_that_is_not_json(tmp_path, crosswalk):
    path = tmp_path / "page.json"
    path.write_text("<html>login</html>", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="not JSON"):
        read_acled_api_pages([path], crosswalk)
    with pytest.raises(SourceFormatError, match="at least one page"):
        read_acled_api_pages([], crosswalk)
