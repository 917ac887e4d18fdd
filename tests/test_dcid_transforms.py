"""DCID 2.0 workbook to conformed incidents, initiators and targets; COW codes in the crosswalk.

`python -m tests.test_dcid_transforms` rewrites data/samples/dcid/ (invented incidents in DCID's layout).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from openpyxl.writer.excel import ExcelWriter

from pipelines.lib.config import REFERENCE_DIR
from pipelines.lib.reference import COW_CODES_CSV
from transforms.cyber_incidents.dcid import QUARANTINE_ROWS_SCHEMA, read_dcid_xlsx
from transforms.cyber_incidents.schema import INCIDENT_SCHEMA, INCIDENT_TYPES, INITIATOR_SCHEMA, TARGET_SCHEMA
from transforms.errors import SourceFormatError
from transforms.reference.countries import resolve_country_codes
from transforms.reference.country_crosswalk import build_country_crosswalk

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "samples" / "dcid"
FILE_NAME = "DCID_2.0_Release_update_February_2023.xlsx"
TYPES_CSV = REFERENCE_DIR / "cyber_types" / "dcid.csv"
DOC_TIME = datetime(2023, 2, 23, 21, 54, 37)
ZIP_TIME = (2023, 2, 23, 21, 54, 38)

HEADER = [
    "Cyberincidentnum", "Dyadpair", "StateA", "StateB", "Name", "interactionstartdate", "interactionenddate", "method",
    "targettype", "initiator", "cyber_objective", "information_operation", "objective_achievement", "Concession ",
    "3rdpartyinitiator", "severity", "damage type", "Crit Inf", "Supply Ch", "Ransomware", "Political Objective",
    "Sources1", "Sources2", "Sources3", "Sources4", "Sources5", "Justice", "Cert", "FBI",
]
D = datetime
# num, pair, A, B, name, start, end, method, targettype, initiator, objective, info_op, ransomware: all invented.
ROWS = [
    (1, 2365, "US", "Russia", "Sample Relay Intrusion", D(2009, 2, 1), D(2009, 5, 1), 3, 2, 365, 3, 0, 0),
    (2, 2365, "US ", "Russia", "Sample Wiper ", D(2012, 8, 15), D(2012, 8, 16), 4.1, 1, 365, 4, 0, 0),
    (3, 2710, "US", "China", "Sample Keystroke Theft", D(2013, 3, 1), D(2014, 7, 22), 4.4, 2, 710, 2, 0, 0),
    (4, 2710, "US", "China", "Sample Retaliation Probe", D(2015, 6, 3), D(2015, 6, 3), 3, 3, 2, 3, 0, 0),
    (5, 2630, "US", "Iran", "Sample Bank DDoS", D(2012, 9, 18), D(2013, 5, 1), 2, 1, 630, 1, 0, 0),
    (6, 2731, "US", "N Korea", "Sample Ransom Worm", D(2017, 5, 12), D(2017, 5, 15), 4.3, 1, 731, 4, 0, 1),
    (7, 200365, "UK", "Russia", "Sample Router Campaign", D(2018, 4, 1), D(2018, 4, 16), 3, 1, 365, 3, 0, 0),
    (8, 255365, "Germany", "Russia", "Sample Parliament Breach", D(2015, 5, 1), D(2015, 6, 1), 4.2, 2, 365, 2, 1, 0),
    (9, 365369, "Russia", "Ukraine", "Sample Grid Outage", D(2015, 12, 23), D(2015, 12, 23), 4.1, 1, 365, 4, 0, 0),
    (10, 710713, "China", "Taiwan", "Sample Portal Defacement", D(2016, 1, 1), D(2016, 1, 1), 1, 2, 710, 1, 1, 0),
    (11, 731732, "N Korea", "S Korea", "Sample Spoofed Vendor", D(2019, 11, 1), D(2020, 2, 1), 3.1, 1, 731, 3, 0, 0),
    (12, 750770, "India", "Pakistan", "Sample Mirror Intrusion", D(2020, 7, 9), D(2020, 9, 30), 4.0, 3, 770, 2, 0, 0),
    (13, 365640, "Russia ", "Turkey", "Sample Backdated Flood", D(2015, 11, 25), D(2015, 1, 15), 2, 1, 365, 1, 0, 0),
    (14, 640645, "Turkey", "Iraq", "Sample Miscoded Dyad", D(2018, 12, 1), D(2019, 1, 30), 3, 2, 630, 3, 0, 0),
    (15, 2365, "US", "Russia", "Sample Ongoing Access", D(2020, 3, 1), None, 3, 2, 365, 3, 0, 0),
]


def _sheet1_row(r: tuple) -> list:
    num, pair, a, b, name, start, end, method, target, initiator, objective, info_op, ransom = r
    severity = 2 + num % 4
    return [num, pair, a, b, name, start, end, method, target, initiator, objective, info_op, num % 2, 0, 0,
            severity, 1 + num % 2, num % 5, 0, ransom, f"Invented objective for sample incident {num} ",
            f"https://news.example.org/dcid-sample/{num}", f" https://blog.example.net/{num}" if num % 3 == 0 else None,
            None, None, None, None, None, None]


def build_workbook() -> openpyxl.Workbook:
    """DCID's two sheets: incidents (29 columns, 'mm-dd-yy' datetimes) and a stub of the action/reaction pairs."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "DCID_2.0_Release_public_June_20"
    ws.append(HEADER)
    for r in ROWS:
        ws.append(_sheet1_row(r))
    for row in ws.iter_rows(min_row=2, min_col=6, max_col=7):
        for cell in row:
            cell.number_format = "mm-dd-yy"
    pairs = wb.create_sheet("DCID_2.0_Release_update_Februar")
    pairs.append(["Cyberincidentnum", "Dyadpair", "StateA", "StateB", "Name", "interactionstartdate", "method",
                  "targettype", "initiator", "target", "cyber_objective", "Concession ", "severity"])
    for r in ROWS[:3]:
        pairs.append([r[0], r[1], r[2], r[3], r[4], r[5], r[7], r[8], r[9], int(str(r[1]).replace(str(r[9]), "", 1)),
                      r[10], 0, 3])
        pairs.append([r[0], r[1], r[2], r[3], "No Cyber", r[5], 0, 0, 0, r[9], 0, 0, 0])
    wb.properties.creator = wb.properties.lastModifiedBy = "ThreatWatch sample generator"
    wb.properties.created = wb.properties.modified = DOC_TIME
    return wb


def workbook_bytes(wb: openpyxl.Workbook) -> bytes:
    """Serialise without save() (which stamps the current time) and re-zip with fixed entry times."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type, info.create_system, info.external_attr = zipfile.ZIP_DEFLATED, 0, 0
            target.writestr(info, source.read(name), compresslevel=6)
    return out.getvalue()


def write_sample(folder: Path = SAMPLE_DIR) -> None:
    """Rewrite the bundled sample workbook (byte-identical on every run)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FILE_NAME).write_bytes(workbook_bytes(build_workbook()))


# --- the bundled sample -------------------------------------------------------------------------

def test_committed_sample_is_what_the_generator_writes():
    assert (SAMPLE_DIR / FILE_NAME).read_bytes() == workbook_bytes(build_workbook()), (
        "run python -m tests.test_dcid_transforms")
    assert [p.name for p in SAMPLE_DIR.iterdir()] == [FILE_NAME]


@pytest.fixture(scope="module")
def tables(crosswalk):
    return read_dcid_xlsx(SAMPLE_DIR / FILE_NAME, FILE_NAME, crosswalk)


def one(frame: pl.DataFrame, incident: str) -> dict:
    return frame.filter(pl.col("incident_id") == incident).row(0, named=True)


def test_shapes_and_counts(tables):
    assert tables.incidents.schema == INCIDENT_SCHEMA
    assert tables.initiators.schema == INITIATOR_SCHEMA
    assert tables.targets.schema == TARGET_SCHEMA
    assert tables.quarantine.schema == QUARANTINE_ROWS_SCHEMA
    kept = [f"dcid:{n}" for n in range(1, 16) if n not in (13, 14)]
    assert tables.incidents["incident_id"].to_list() == kept
    assert tables.initiators["incident_id"].to_list() == kept == tables.targets["incident_id"].to_list()


def test_quarantine_names_the_reason(tables):
    reasons = dict(tables.quarantine.select("source_incident_id", "reason").iter_rows())
    assert reasons == {
        "13": "end date 2015-01-15 is before start date 2015-11-25",
        "14": "initiator 630 is not one of the two states of Dyadpair 640645",
    }
    assert tables.quarantine["sheet_row"].to_list() == [14, 15]


def test_dyad_split_at_the_initiator(tables):
    sides = tables.initiators.join(tables.targets, on="incident_id", suffix="_target")
    got = {r[0]: (r[1], r[2]) for r in sides.select("incident_id", "iso3", "iso3_target").iter_rows()}
    assert got["dcid:1"] == ("RUS", "USA")
    assert got["dcid:4"] == ("USA", "CHN")  # the US initiated: the first code of 2710 is the initiator
    assert got["dcid:7"] == ("RUS", "GBR")  # 200365 = 200 + 365
    assert got["dcid:8"] == ("RUS", "DEU")  # COW 255 is Germany (GW would say 260)
    assert got["dcid:12"] == ("PAK", "IND")
    assert got["dcid:11"] == ("PRK", "KOR")
    assert one(tables.initiators, "dcid:8")["country_raw"] == "365"
    assert one(tables.targets, "dcid:8")["country_raw"] == "255"
    assert tables.initiators["actor_type"].unique().to_list() == ["state"]


def test_dates_and_precision(tables):
    relay = one(tables.incidents, "dcid:1")  # 01 Feb to 01 May: both month precision
    assert (relay["start_date"], relay["date_precision"]) == (date(2009, 2, 1), "month")
    assert (relay["end_date"], relay["end_date_precision"]) == (date(2009, 5, 1), "month")
    keys = one(tables.incidents, "dcid:3")
    assert (keys["date_precision"], keys["end_date"], keys["end_date_precision"]) == ("month", date(2014, 7, 22), "day")
    wiper = one(tables.incidents, "dcid:2")
    assert (wiper["start_date"], wiper["date_precision"]) == (date(2012, 8, 15), "day")
    ongoing = one(tables.incidents, "dcid:15")
    assert (ongoing["end_date"], ongoing["end_date_precision"]) == (None, None)


def test_types_labels_and_text(tables):
    assert one(tables.incidents, "dcid:2")["incident_types_raw"] == ["cyber_objective=4", "method=4.1"]
    assert one(tables.incidents, "dcid:6")["incident_types_raw"] == ["cyber_objective=4", "method=4.3", "Ransomware=1"]
    assert one(tables.incidents, "dcid:8")["incident_types_raw"] == [
        "cyber_objective=2", "method=4.2", "information_operation=1"]
    assert one(tables.incidents, "dcid:11")["incident_types_raw"] == ["cyber_objective=3", "method=3.1"]
    assert one(tables.incidents, "dcid:12")["incident_types_raw"] == ["cyber_objective=2", "method=4"]  # 4.0
    wiper = one(tables.incidents, "dcid:2")
    assert (wiper["title"], wiper["source_incident_id"], wiper["source"]) == ("Sample Wiper", "2", "dcid")
    assert wiper["description"] == "Invented objective for sample incident 2"
    assert one(tables.targets, "dcid:4")["sector"] == "3: government, military"
    assert one(tables.targets, "dcid:5")["sector"] == "1: private or non-state"


def test_without_a_crosswalk_codes_stay_raw():
    tables = read_dcid_xlsx((SAMPLE_DIR / FILE_NAME).read_bytes(), FILE_NAME)
    assert tables.initiators["iso3"].null_count() == tables.initiators.height == 13
    assert one(tables.targets, "dcid:7")["country_raw"] == "200"


def edited(change) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(build_workbook())))
    change(wb.worksheets[0])
    return workbook_bytes(wb)


def test_missing_column_fails_naming_it():
    with pytest.raises(SourceFormatError, match=r"lacks column\(s\) \['initiator'\]") as e:
        read_dcid_xlsx(edited(lambda ws: setattr(ws.cell(1, 10), "value", "initator")), FILE_NAME)
    assert FILE_NAME in str(e.value)


def test_blank_rows_are_skipped_and_bad_cells_quarantined():
    def change(ws):
        ws.append([None] * len(HEADER))
        ws.cell(3, 6).value = "sometime in 2012"  # incident 2's start date
        ws.cell(4, 8).value = 5  # incident 3's method
        ws.cell(5, 1).value = 1  # incident 4 reuses id 1
    tables = read_dcid_xlsx(edited(change), FILE_NAME)
    reasons = dict(tables.quarantine.select("sheet_row", "reason").iter_rows())
    assert reasons[3] == "interactionstartdate 'sometime in 2012' is not a date"
    assert reasons[4] == "unknown method code 5"
    assert reasons[5] == "duplicate Cyberincidentnum 1"
    assert tables.incidents.height == 10


def test_not_a_workbook():
    with pytest.raises(SourceFormatError, match="not an .xlsx workbook"):
        read_dcid_xlsx(b"<html>404</html>", FILE_NAME)


# --- the type map and the COW codes ------------------------------------------------------------

def test_type_map_covers_every_sample_label_with_known_types(tables):
    types = pl.read_csv(TYPES_CSV, infer_schema=False)
    assert types.columns == ["source", "raw_type", "incident_type"]
    assert types["source"].unique().to_list() == ["dcid"] and types["raw_type"].is_unique().all()
    assert set(types["incident_type"]) <= set(INCIDENT_TYPES)
    seen = set(tables.incidents["incident_types_raw"].explode().to_list())
    assert seen <= set(types["raw_type"])
    mapped = dict(types.select("raw_type", "incident_type").iter_rows())
    assert (mapped["method=2"], mapped["Ransomware=1"], mapped["cyber_objective=2"]) == (
        "denial_of_service", "ransomware", "espionage")


def test_cow_codes_in_the_committed_crosswalk(crosswalk):
    cow = dict(crosswalk.select("iso3", "cow_code").iter_rows())
    gw = dict(crosswalk.select("iso3", "gw_code").iter_rows())
    assert (cow["DEU"], gw["DEU"]) == (255, 260)
    assert (cow["SRB"], cow["YEM"], cow["KIR"], cow["TUV"]) == (345, 679, 946, 947)
    assert cow["VAT"] is None  # not in the COW state system
    assert (cow["USA"], cow["RUS"], cow["CHN"], cow["PRK"], cow["SUN"]) == (2, 365, 710, 731, 365)
    current = crosswalk.filter(~pl.col("is_historical") & pl.col("cow_code").is_not_null())
    assert current["cow_code"].is_unique().all()


def test_cow_code_resolution_is_year_aware(crosswalk):
    codes = pl.DataFrame({"code": ["365", "365", "345", "345", "679", "678"], "year": [1985, 2010, 1990, 2010, 2000, 1985]})
    got = resolve_country_codes(codes, "code", crosswalk, "cow_code", year_col="year")["iso3"].to_list()
    assert got == ["SUN", "RUS", "YUG", "SRB", "YEM", "YAR"]


def test_cow_overrides_in_the_build():
    coco = pl.DataFrame({"name_short": ["Germany", "Vatican"], "name_official": ["Germany", "Holy See"],
                         "regex": ["german", "vatican"], "ISO2": ["DE", "VA"], "ISO3": ["DEU", "VAT"],
                         "ISOnumeric": ["276", "336"], "GWcode": ["260", "327"], "UNregion": ["W", "S"],
                         "continent": ["Europe", "Europe"]})
    iso = pl.DataFrame({"iso3": ["DEU", "VAT", "FRA"], "iso2": ["DE", "VA", "FR"], "iso_numeric": ["276", "336", "250"],
                        "name": ["Germany", "Holy See", "France"], "official_name": [None, None, None],
                        "common_name": [None, None, None], "is_withdrawn": [False, False, False]},
                       schema_overrides={"official_name": pl.String, "common_name": pl.String})
    extra = pl.DataFrame({"iso3": ["FRA"], "gw_code": ["220"]}).with_columns(
        *(pl.lit(None, pl.String).alias(c) for c in
          ["name", "iso2", "iso_numeric", "region", "continent", "valid_from", "valid_until", "regex"]))
    members = pl.DataFrame(schema={"iso3": pl.String, "nato_member_since": pl.String, "eu_member_since": pl.String,
                                   "eu_member_until": pl.String})
    overrides = pl.DataFrame({"iso3": ["DEU", "VAT"], "cow_code": ["255", None], "note": ["", ""]})
    built = build_country_crosswalk(coco, iso, extra, members, overrides)
    assert dict(built.select("iso3", "cow_code").iter_rows()) == {"DEU": 255, "FRA": 220, "VAT": None}
    assert build_country_crosswalk(coco, iso, extra, members)["cow_code"].null_count() == 3  # no file: no COW codes
    with pytest.raises(ValueError, match="ZZZ"):
        build_country_crosswalk(coco, iso, extra, members, pl.DataFrame({"iso3": ["ZZZ"], "cow_code": ["1"]}))


def test_cow_codes_file_lists_only_differences(crosswalk):
    listed = pl.read_csv(COW_CODES_CSV, infer_schema=False)
    assert listed.columns == ["iso3", "cow_code", "note"] and listed["iso3"].is_unique().all()
    gw = dict(crosswalk.select("iso3", "gw_code").iter_rows())
    for iso3, code in listed.select("iso3", "cow_code").iter_rows():
        assert (int(code) if code else None) != gw[iso3], f"{iso3}: COW equals GW, no need to list it"


if __name__ == "__main__":
    write_sample()
    print(f"wrote {SAMPLE_DIR}")
