"""Conflict events end to end on the bundled samples: every event published once, counts and deaths equal to
an independent reading of the sample files, coverage-aware NULLs, quarantine, provenance and licences."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.config import SAMPLES_DIR, paths_from_env
from pipelines.lib.export import export_table
from tests.warehouse_compare import open_warehouse

def query(home: Path, sql: str) -> list[tuple]:
    with open_warehouse(home) as con:
        return con.execute(sql).fetchall()


def ucdp_sample_events() -> dict[str, dict]:
    """Every GED event of the samples by id, read with the csv and json modules (HXL row skipped)."""
    events: dict[str, dict] = {}
    for path in sorted((SAMPLES_DIR / "ucdp_ged").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            rows = [r for r in csv.DictReader(f) if not any(v.startswith("#") for v in r.values())]  # HXL row
        events.update({r["id"]: r for r in rows})
    for path in sorted((SAMPLES_DIR / "ucdp_ged" / "api").glob("*.json")):
        events.update({str(r["id"]): r for r in json.loads(path.read_text(encoding="utf-8"))["Result"]})
    return events


def acled_sample_events() -> dict[str, dict]:
    """ACLED sample events by id: the newest copy of each (timestamp), without negative fatalities."""
    rows = []
    with (SAMPLES_DIR / "acled" / "acled_export_2024.csv").open(encoding="utf-8", newline="") as f:
        rows += list(csv.DictReader(f))
    for path in sorted((SAMPLES_DIR / "acled" / "api").glob("*.json")):
        rows += json.loads(path.read_text(encoding="utf-8"))["data"]
    newest: dict[str, dict] = {}
    for r in rows:
        if r["event_id_cnty"] not in newest or int(r["timestamp"]) > int(newest[r["event_id_cnty"]]["timestamp"]):
            newest[r["event_id_cnty"]] = r
    return {k: r for k, r in newest.items() if int(r["fatalities"]) >= 0}


def gdelt_sample_lines() -> list[list[str]]:
    lines = []
    for path in sorted((SAMPLES_DIR / "gdelt").glob("*.export.CSV.zip")):
        with zipfile.ZipFile(path) as archive:
            text = archive.read(archive.namelist()[0]).decode("utf-8")
        lines += [line.split("\t") for line in text.splitlines() if line]
    return lines


def test_every_ucdp_event_is_published_once_with_its_deaths(published_home: Path):
    expected = ucdp_sample_events()
    rows = query(published_home, """SELECT source_event_id, fatalities_best, fatalities_low, fatalities_high
                                    FROM core.fct_conflict_event WHERE source = 'ucdp_ged'""")
    assert len(rows) == len({r[0] for r in rows}) == len(expected)  # the HDX and API copies are not double counted
    assert {r[0]: r[1:] for r in rows} == {
        k: (int(e["best"]), int(e["low"]), int(e["high"])) for k, e in expected.items()}


def test_every_acled_event_is_published_and_rejects_are_quarantined_with_reasons(published_home: Path):
    expected = acled_sample_events()
    rows = query(published_home, "SELECT source_event_id, fatalities_best FROM core.fct_conflict_event WHERE source = 'acled'")
    assert {k: v for k, v in rows} == {k: int(e["fatalities"]) for k, e in expected.items()}
    reasons = [r for (r,) in query(published_home, "SELECT reason FROM meta.quarantine WHERE source = 'acled'")]
    assert reasons and any("fatalities" in r for r in reasons) and any("duplicate" in r for r in reasons)


def test_every_gdelt_row_is_published_as_media_coded_with_its_md5_checked(published_home: Path):
    lines = gdelt_sample_lines()
    rows = query(published_home, """SELECT e.source_event_id, e.source_kind, e.fatalities_best, e.event_type,
                                           s.file_md5 = s.expected_md5
                                    FROM core.fct_conflict_event e JOIN staging.stg_gdelt_event s USING (event_id)""")
    assert sorted(r[0] for r in rows) == sorted(line[0] for line in lines)
    assert {(kind, best, md5_ok) for _, kind, best, _, md5_ok in rows} == {("media_coded", None, True)}
    root_codes = {line[28] for line in lines}  # EventRootCode, as text with its leading zero
    assert any(code.startswith("0") for code in root_codes)
    assert set(r for (r,) in query(published_home, "SELECT DISTINCT source_event_type FROM core.fct_conflict_event "
                                                   "WHERE source = 'gdelt'")) == root_codes
    described = query(published_home, """SELECT count(*), count(c.description) FROM staging.stg_gdelt_event e
                                         LEFT JOIN core.dim_cameo_event_code c ON c.code = e.event_code""")
    assert described == [(len(lines), len(lines))]


def test_every_event_has_a_conformed_type_and_a_traceable_snapshot(published_home: Path):
    assert query(published_home, "SELECT count(*) FROM core.fct_conflict_event WHERE event_type IS NULL") == [(0,)]
    licences = dict(query(published_home, """SELECT DISTINCT e.source, l.licence FROM core.fct_conflict_event e
                                             JOIN meta.source_licences l USING (source)"""))
    assert set(licences) == {"ucdp_ged", "acled", "gdelt"} and "CC BY 4.0" in licences["ucdp_ged"]
    assert "redistribution" in licences["acled"].lower() or "licence" in licences["acled"].lower()


def test_conflict_monthly_adds_up_to_the_events_and_keeps_gdelt_deaths_null(published_home: Path):
    assert query(published_home, """
        SELECT source, sum(events), sum(fatalities_best) FROM marts.conflict_monthly GROUP BY 1 ORDER BY 1""") == query(
        published_home, """SELECT source, count(*), sum(fatalities_best) FROM core.fct_conflict_event
                           WHERE iso3 IS NOT NULL GROUP BY 1 ORDER BY 1""")
    kinds = dict(query(published_home, "SELECT DISTINCT source, source_kind FROM marts.conflict_monthly"))
    assert kinds == {"ucdp_ged": "verified_event", "acled": "verified_event", "gdelt": "media_coded"}
    assert query(published_home, """SELECT count(*) FROM marts.conflict_monthly
                                    WHERE source = 'gdelt' AND (fatalities_best IS NOT NULL OR material_conflict_events IS NULL)
                                       OR source <> 'gdelt' AND material_conflict_events IS NOT NULL""") == [(0,)]


def test_country_year_counts_are_null_outside_coverage_and_zero_inside(published_home: Path):
    acled_countries = {r["iso"] for r in acled_sample_events().values()}
    rows = query(published_home, """
        SELECT c.iso_numeric, i.year, i.acled_events, i.ucdp_events, i.gdelt_events, i.gdelt_days_covered
        FROM marts.country_year_indicators i JOIN core.dim_country c USING (iso3)
        WHERE i.year IN (2023, 2024)""")
    by_key = {(iso, year): rest for iso, year, *rest in rows}
    for (iso, year), (acled, ucdp, gdelt, days) in by_key.items():
        if year == 2024:
            # ACLED covers only the countries its pulls were filtered to; UCDP's release and GDELT are global.
            assert (acled is not None) == (iso.zfill(3) in {c.zfill(3) for c in acled_countries}), iso
            assert ucdp is not None and gdelt is not None and days == 2
        else:
            assert (acled, ucdp, gdelt, days) == (None, None, None, None)
    # Inside coverage, a country without events is a zero, not a missing value (Iceland: no sample has it).
    iceland = query(published_home, """SELECT acled_events, ucdp_events, ucdp_deaths_best, gdelt_events
                                       FROM marts.country_year_indicators WHERE iso3 = 'ISL' AND year = 2024""")
    assert iceland == [(None, 0, 0, 0)]


def test_ucdp_and_acled_deaths_are_compared_where_both_cover_a_country_year(published_home: Path):
    rows = query(published_home, """SELECT iso3, year, ucdp_deaths_best, acled_fatalities, ucdp_deaths_low,
                                           ucdp_deaths_high, within_tolerance FROM marts.conflict_deaths_ucdp_vs_acled""")
    indicators = query(published_home, """SELECT iso3, year, ucdp_deaths_best, acled_fatalities
                                          FROM marts.country_year_indicators
                                          WHERE ucdp_deaths_best IS NOT NULL AND acled_fatalities IS NOT NULL
                                            AND (ucdp_events > 0 OR acled_events > 0)""")
    assert sorted(r[:4] for r in rows) == sorted(indicators) and rows
    for _, _, best, acled, low, high, within in rows:
        assert within == (low <= acled <= high or abs(acled - best) <= max(25, 0.5 * max(acled, best)))
    assert {r[-1] for r in rows} == {True, False}  # the samples hold an agreeing and a disagreeing country-year


def test_acled_terms_travel_with_an_export_of_conflict_events(published_home: Path, tmp_path: Path):
    notice = export_table(paths_from_env(published_home), "marts.conflict_monthly", tmp_path / "m.csv")
    text = notice.read_text(encoding="utf-8")
    assert "[acled]" in text and "redistribution" in text and "[gdelt]" in text and "[sipri]" not in text


def test_conflict_staging_tables_match_the_transforms_schemas():
    from pipelines.lib.publish import sql_files
    from transforms.conflict_events.acled import read_acled_csv
    from transforms.conflict_events.gdelt import read_gdelt_export_zip
    from transforms.conflict_events.ucdp_ged import read_ucdp_ged_csv
    from pipelines.lib.reference import load_country_crosswalk

    crosswalk = load_country_crosswalk()
    frames = {
        "stg_ucdp_ged_event": read_ucdp_ged_csv(SAMPLES_DIR / "ucdp_ged" / "GEDEvent_v25_1.csv", crosswalk)[0],
        "stg_acled_event": read_acled_csv(SAMPLES_DIR / "acled" / "acled_export_2024.csv", crosswalk)[0],
        "stg_gdelt_event": read_gdelt_export_zip(sorted((SAMPLES_DIR / "gdelt").glob("*.zip"))[0], crosswalk)[0],
    }
    added = {"stg_ucdp_ged_event": ["snapshot_out_of_order_share"], "stg_gdelt_event": ["file_md5", "expected_md5"]}
    con = duckdb.connect()
    for path in sql_files("ddl"):
        con.execute(path.read_text(encoding="utf-8"))
    for table, frame in frames.items():
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'staging' AND table_name = ? "
            "ORDER BY column_index", [table]).fetchall()]
        assert columns == [*frame.columns, *added.get(table, []), "snapshot_id"], table


def test_a_final_ucdp_release_replaces_the_candidates_of_its_months(tw_home: Path, tmp_path: Path):
    from pipelines.cli import main
    from pipelines.run import run_pipeline

    release = SAMPLES_DIR / "ucdp_ged" / "GEDEvent_v25_1.csv"
    with release.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    last_final_month = max(r["date_start"][:7] for r in rows)
    # A monthly candidate file: one event the final release also has, one new event in a month the final
    # release covers (superseded), and two in a later month (still the newest word, so kept).
    later = f"{last_final_month[:4]}-{int(last_final_month[5:]) + 1:02d}-15 00:00:00.000"
    candidate_rows = [dict(rows[0], best="99", low="99", high="99", deaths_unknown="99", deaths_a="0", deaths_b="0",
                           deaths_civilians="0"),
                      dict(rows[1], id="990001"),
                      dict(rows[2], id="990002", date_start=later, date_end=later, year=later[:4]),
                      dict(rows[3], id="990003", date_start=later, date_end=later, year=later[:4])]
    candidate = tmp_path / "GEDEvent_v25_0_7.csv"
    with candidate.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(candidate_rows)
    for path in (release, candidate):
        assert main(["snapshot", "import", "ucdp_ged", str(path)]) == 0
    summary = run_pipeline(offline=True, select='key:"snapshot/ucdp_ged"+ or group:warehouse')
    assert summary.success, summary.render()

    published = dict(query(tw_home, """SELECT source_event_id, release FROM core.fct_conflict_event
                                       WHERE source = 'ucdp_ged'"""))
    assert published[rows[0]["id"]] == "25.1"  # the final release's copy, not the candidate's 99 deaths
    assert "990001" not in published  # superseded: the final release covers its month
    assert published["990002"] == published["990003"] == "25.0.7"
    assert len(published) == len(rows) + 2
    # Both stay in staging: nothing is lost, the view decides what is current.
    assert query(tw_home, "SELECT count(*) FROM staging.stg_ucdp_ged_event")[0][0] == len(rows) + len(candidate_rows)


def test_ucdp_release_zips_are_read_through_the_checked_unzip(tmp_path: Path):
    from pipelines.defs.ucdp_acd.assets import stage_acd_files
    from pipelines.defs.ucdp_ged.assets import read_ucdp_ged_files
    from pipelines.lib.reference import load_country_crosswalk
    from transforms.errors import SourceFormatError

    crosswalk = load_country_crosswalk()
    ged = tmp_path / "ged251-csv.zip"
    with zipfile.ZipFile(ged, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(SAMPLES_DIR / "ucdp_ged" / "GEDEvent_v25_1.csv", "GEDEvent_v25_1.csv")
    events, _ = read_ucdp_ged_files([ged], crosswalk, None)
    assert events.height == len(ucdp_sample_events_of("GEDEvent_v25_1.csv"))
    assert set(events["source_file"]) == {"ged251-csv.zip!GEDEvent_v25_1.csv"} and set(events["release"]) == {"25.1"}
    acd = tmp_path / "ucdp-prio-acd-251-csv.zip"
    with zipfile.ZipFile(acd, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(SAMPLES_DIR / "ucdp_acd" / "UcdpPrioConflict_v25_1.csv", "UcdpPrioConflict_v25_1.csv")
    assert stage_acd_files([acd], "s")["stg_ucdp_acd_conflict_year"][0].height > 0
    escaping = tmp_path / "ged-evil.zip"
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("../GEDEvent_v25_1.csv", "id\n")
    with pytest.raises(SourceFormatError, match="directory part"):
        read_ucdp_ged_files([escaping], crosswalk, None)


def ucdp_sample_events_of(name: str) -> list[dict]:
    with (SAMPLES_DIR / "ucdp_ged" / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_a_bad_gdelt_file_read_among_many_names_its_snapshot_and_replaces_nothing(tmp_path: Path):
    from pipelines.defs.gdelt.assets import SPEC, export_day
    from pipelines.lib.acquire import register_event_sample
    from pipelines.lib.lake import Lake, PartitionedLake
    from pipelines.lib.partition_staging import READ_BATCH, stage_window
    from pipelines.lib.reference import load_country_crosswalk
    from pipelines.lib.snapshots import SnapshotStore
    from transforms.errors import SourceFormatError

    samples = sorted((SAMPLES_DIR / "gdelt").glob("*.export.CSV.zip"))
    assert len(samples) + 1 <= READ_BATCH  # the bad file is read in one batch with the good ones
    store, lake, crosswalk = SnapshotStore(tmp_path / "snapshots"), Lake(tmp_path / "lake"), load_country_crosswalk()
    for path in samples:
        register_event_sample(store, "gdelt", [path])
    days = tuple(sorted({export_day(p.name) for p in samples}))
    stage_window(SPEC, store, lake, days, crosswalk)
    plake = PartitionedLake(lake, SPEC.table.name)
    before = {day: plake.files(day) for day in days}
    bad = tmp_path / "20240601234500.export.CSV.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("20240601234500.export.CSV", "1\t2\t3\n")
    (bad_id,) = [register_event_sample(store, "gdelt", [bad]).snapshot_id]
    with pytest.raises(SourceFormatError, match=f"snapshot {bad_id}, file '{bad.name}': line 1 has 3"):
        stage_window(SPEC, store, lake, days, crosswalk)
    assert {day: plake.files(day) for day in days} == before and all(before.values())
