"""Conflict-event sources end to end against loopback publishers: live partition runs, re-runs, the GDELT sensor,
the schedules, and UCDP's / ACLED's credentials kept out of everything written.

Every run here goes through `run_backfill` (or the job a sensor asks for) with THREATWATCH_<SOURCE>_URL pointing at
a pytest-httpserver on 127.0.0.1, so the real fetch → snapshot → stage → GX → publish path is exercised.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from datetime import date, datetime, timezone
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import polars as pl
import pytest
from dagster import (
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
)
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.defs.acled import assets as acled_assets
from pipelines.defs.gdelt import assets as gdelt_assets
from pipelines.defs.ucdp_ged import assets as ucdp_assets
from pipelines.lib.source_spec import INCREMENTAL_TAG, RANGE_END, RANGE_START, EventWindow, FetchRequest, SnapshotConfig
from pipelines.defs.acled.schedules import acled_weekly
from pipelines.defs.gdelt.schedules import gdelt_new_files
from pipelines.defs.ucdp_acd.schedules import ucdp_acd_yearly
from pipelines.defs.ucdp_ged.schedules import ucdp_candidate_monthly, ucdp_ged_yearly
from pipelines.defs.warehouse.schedules import publish_after_event_run
from pipelines.lib.config import paths_from_env
from pipelines.definitions import build_definitions
from pipelines.lib.http import FetchError, HttpClient
from pipelines.run import RunSummary, run_backfill
from pipelines.lib.snapshots import SnapshotStore
from pipelines.defs.acled.fetch import fetch_acled_events
from pipelines.defs.ucdp_ged.fetch import fetch_ucdp_ged_api
from tests.conftest import REPO
from tests.warehouse_compare import open_warehouse, warehouse_content
from tests.fetch_fixtures import base_url

SAMPLES = REPO / "data" / "samples"
GDELT_EXPORTS = sorted((SAMPLES / "gdelt").glob("*.export.CSV.zip"))  # 3 on 2024-06-01, 3 on 2024-06-02
DAY1, DAY2 = "2024-06-01", "2024-06-02"
GDELT_TABLE = "stg_gdelt_event"

UCDP_TOKEN = "ucdp-L1ve-T0ken-s3cret"
ACLED_USER = "live-analyst@example.org"
ACLED_PASSWORD = "l1ve-pa55-w0rd-s3cret"
ACLED_ACCESS = "acled-access-T0ken-s3cret"
ACLED_REFRESH = "acled-refresh-T0ken-s3cret"


# --------------------------------------------------------------------------- helpers


class Site:
    """A loopback publisher: request path -> body, swappable between phases of a test; anything else is a 404."""

    def __init__(self, server: HTTPServer):
        self.files: dict[str, tuple[bytes, str]] = {}
        server.expect_request(re.compile(r"^/.*$")).respond_with_handler(self)

    def put(self, path: str, body: bytes, content_type: str) -> None:
        self.files[path] = (body, content_type)

    def __call__(self, request: Request) -> Response:
        if request.path not in self.files:
            return Response("not found", status=404)
        body, content_type = self.files[request.path]
        return Response(body, status=200, content_type=content_type)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _export_url(server: HTTPServer, path: Path) -> str:
    return f"{base_url(server)}/gdeltv2/{path.name}"


def _gdelt_list(server: HTTPServer, exports: list[Path], wrong_md5: tuple[str, ...] = ()) -> bytes:
    """A masterfilelist / lastupdate in GDELT's layout (size md5 url), URLs on the loopback server.

    Each export gets its mentions and gkg lines too, with URLs nobody serves: only exports may be fetched.
    """
    lines = []
    for path in exports:
        md5 = "0" * 32 if path.name in wrong_md5 else _md5(path)
        lines.append(f"{path.stat().st_size} {md5} {_export_url(server, path)}")
        stamp = path.name.split(".")[0]
        lines.append(f"1234 {'a' * 32} {base_url(server)}/gdeltv2/{stamp}.mentions.CSV.zip")
        lines.append(f"5678 {'b' * 32} {base_url(server)}/gdeltv2/{stamp}.gkg.csv.zip")
    return ("\n".join(lines) + "\n").encode()


def _serve_gdelt(site: Site, server: HTTPServer, listed: list[Path], *, wrong_md5: tuple[str, ...] = (),
                 which: str = "masterfilelist") -> None:
    site.put(f"/gdeltv2/{which}.txt", _gdelt_list(server, listed, wrong_md5), "text/plain")
    for path in listed:
        site.put(f"/gdeltv2/{path.name}", path.read_bytes(), "application/zip")


def _zip_rows(path: Path) -> int:
    """Rows of an export counted independently of the pipeline: lines of its one CSV member."""
    with zipfile.ZipFile(path) as archive:
        (member,) = archive.namelist()
        return len([line for line in archive.read(member).splitlines() if line.strip()])


def _staged_rows(home: Path, table: str) -> int:
    files = [p for p in (home / "lake" / table).glob("[0-9]*/*.parquet") if not p.name.endswith(".quarantine.parquet")]
    return sum(pl.read_parquet(p).height for p in files)


def _query(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    with open_warehouse(home) as con:
        return con.execute(sql, params or []).fetchall()


def _check(summary: RunSummary, asset: str, name: str) -> tuple[bool, str, bool]:
    found = [(passed, description, is_error) for a, n, passed, description, is_error in summary.checks
             if (a, n) == (asset, name)]
    assert len(found) == 1, summary.render()
    return found[0]


def _meta(summary: RunSummary, key: str) -> dict:
    found = [meta for k, meta in summary.materialized if k == key]
    assert len(found) == 1, summary.render()
    return found[0]


def _ok(summary: RunSummary) -> None:
    assert summary.success and summary.published and not summary.failures, summary.render()


def _files_containing(home: Path, *secrets: str) -> list[str]:
    """Every file under the home whose bytes contain one of the secrets (snapshots, lake, ledger, warehouse)."""
    hits = []
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path.relative_to(home)}: {s}" for s in secrets if s.encode() in data]
    return hits


def _all_text(home: Path, table: str) -> str:
    with open_warehouse(home) as con:
        return repr(con.execute(f"SELECT * FROM {table}").fetchall())


# --------------------------------------------------------------------------- GDELT: live backfill


def test_gdelt_live_backfill_refuses_a_bad_md5_and_the_sensor_fetches_the_file_later(
    tw_home: Path, server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THREATWATCH_GDELT_URL", base_url(server))
    site = Site(server)
    held, late = GDELT_EXPORTS[:-1], GDELT_EXPORTS[-1]  # the last export is listed only in the second phase
    _serve_gdelt(site, server, held)

    summary = run_backfill("gdelt", DAY1, DAY2)
    _ok(summary)
    assert _check(summary, "snapshot/gdelt", "fetch_succeeded")[0]
    store = SnapshotStore(tw_home / "snapshots")
    manifests = store.list("gdelt")
    assert sorted(f.name for m in manifests for f in m.files) == [p.name for p in held]
    assert all(len(m.files) == 1 and m.origin == "http" for m in manifests)  # one snapshot per export
    for m in manifests:
        (record,) = m.files
        zipped = SAMPLES / "gdelt" / record.name
        assert record.params["expected_md5"] == record.params["md5"] == _md5(zipped)
        assert record.params["expected_size"] == record.bytes == zipped.stat().st_size
        assert record.url == _export_url(server, zipped)
    fetched = {r.path for r, _ in server.log}
    assert not any("mentions" in p or "gkg" in p for p in fetched)  # only exports are downloaded
    assert "/gdeltv2/lastupdate.txt" not in fetched  # a range run reads the master list

    rows = sum(_zip_rows(p) for p in held)
    assert rows == 199
    assert _meta(summary, "staging/stg_gdelt_event")["dagster/row_count"] == rows == _staged_rows(tw_home, GDELT_TABLE)
    assert _query(tw_home, "SELECT count(*) FROM core.fct_conflict_event WHERE source = 'gdelt'") == [(rows,)]
    urls = _query(tw_home, "SELECT url FROM meta.snapshot_files f JOIN meta.snapshots s USING (snapshot_id) "
                           "WHERE s.source = 'gdelt' ORDER BY url")
    assert [u for (u,) in urls] == sorted(_export_url(server, p) for p in held)
    events_before = _query(tw_home, "SELECT event_id, snapshot_id FROM core.fct_conflict_event ORDER BY ALL")

    # The list now names the late export with a wrong md5: it is downloaded, refused, and nothing is lost.
    server.clear_log()
    _serve_gdelt(site, server, GDELT_EXPORTS, wrong_md5=(late.name,))
    summary = run_backfill("gdelt", DAY1, DAY2)
    assert summary.success and summary.published and not summary.failures, summary.render()
    passed, description, is_error = _check(summary, "snapshot/gdelt", "fetch_succeeded")
    assert not passed and not is_error  # a non-blocking warning, not a failed run
    assert f"{late.name} does not match the file list" in description and "0" * 32 in description
    assert _md5(late) in description
    assert _meta(summary, "snapshot/gdelt")["how"] == "kept (fetch failed)"
    assert "WARNING" in summary.render()
    assert [r.path for r, _ in server.log] == ["/gdeltv2/masterfilelist.txt", f"/gdeltv2/{late.name}"]
    assert [m.snapshot_id for m in store.list("gdelt")] == [m.snapshot_id for m in manifests]  # no snapshot for it
    assert not list((tw_home / "snapshots" / "gdelt").glob(".draft-*"))  # the refused download is gone
    assert _staged_rows(tw_home, GDELT_TABLE) == rows
    assert _query(tw_home, "SELECT event_id, snapshot_id FROM core.fct_conflict_event ORDER BY ALL") == events_before

    # Later lastupdate.txt names the late export with its right md5: the sensor asks for it, and its run adds
    # only that file beside the day's earlier ones.
    _sensor_fetches_the_new_export(tw_home, server, site, monkeypatch, late)


def _sensor_fetches_the_new_export(home: Path, server: HTTPServer, site: Site, monkeypatch: pytest.MonkeyPatch,
                                   new: Path) -> None:
    folder = home / "lake" / GDELT_TABLE / DAY2
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    earlier = [p for p in GDELT_EXPORTS if p.name.startswith("20240602") and p != new]
    assert len([n for n in before if re.fullmatch(r"[0-9TZ]+-[0-9a-f]{10}\.parquet", n)]) == len(earlier) == 2

    _serve_gdelt(site, server, [new], which="lastupdate")
    monkeypatch.delenv("THREATWATCH_OFFLINE", raising=False)
    context = build_sensor_context(cursor=earlier[-1].name.split(".")[0])
    result = gdelt_new_files(context)
    assert isinstance(result, list) and len(result) == 1, result
    (request,) = result
    assert isinstance(request, RunRequest)
    assert request.partition_key == DAY2 and request.run_key == new.name
    assert request.tags == {INCREMENTAL_TAG: "true"}
    assert request.run_config["ops"]["snapshot__gdelt"]["config"] == {
        "files": [_export_url(server, new)], "format": "lastupdate"}
    assert context.cursor == new.name.split(".")[0]

    again = gdelt_new_files(build_sensor_context(cursor=context.cursor))
    assert isinstance(again, SkipReason) and "no new export file" in again.skip_message
    monkeypatch.setenv("THREATWATCH_OFFLINE", "1")
    offline = gdelt_new_files(build_sensor_context(cursor=None))
    assert isinstance(offline, SkipReason) and "offline" in offline.skip_message
    monkeypatch.delenv("THREATWATCH_OFFLINE")

    # The requested run: only the new export is fetched (from lastupdate.txt, not the master list) and staged.
    server.clear_log()
    job = build_definitions(offline=False).resolve_job_def("gdelt_job")
    with DagsterInstance.ephemeral() as instance:
        run = job.execute_in_process(run_config=request.run_config, partition_key=request.partition_key,
                                     tags=request.tags, instance=instance, raise_on_error=False)
        assert run.success
        # A successful event run asks for a publish, keyed by the run.
        publish = publish_after_event_run(build_run_status_sensor_context(
            sensor_name="publish_after_event_run", dagster_event=run.get_run_success_event(),
            dagster_instance=instance, dagster_run=run.dagster_run))
        assert isinstance(publish, RunRequest) and publish.run_key == run.run_id
    assert [r.path for r, _ in server.log] == ["/gdeltv2/lastupdate.txt", f"/gdeltv2/{new.name}"]
    staging = [e.event_specific_data.materialization for e in run.get_asset_materialization_events()
               if e.event_specific_data.materialization.asset_key.to_user_string() == "staging/stg_gdelt_event"]
    assert len(staging) == 1
    assert staging[0].metadata["mode"].value == "incremental"
    assert staging[0].metadata["dagster/row_count"].value == _zip_rows(new)
    checks = {e.check_name: e.passed for e in run.get_asset_check_evaluations()}
    assert checks == {"fetch_succeeded": True, "gx_stg_gdelt_event": True}

    (snapshot,) = [m for m in SnapshotStore(home / "snapshots").list("gdelt") if m.files[0].name == new.name]
    assert snapshot.files[0].params["expected_md5"] == _md5(new)
    after = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    rejects = (".quarantine.parquet",) if staging[0].metadata["quarantined_rows"].value else ()  # none, no file
    assert set(after) - set(before) == {f"{snapshot.snapshot_id}{s}" for s in (".parquet", *rejects, ".validation.json")}
    assert {n: after[n] for n in before} == before  # earlier files (and their verdicts) untouched
    assert _staged_rows(home, GDELT_TABLE) == sum(_zip_rows(p) for p in GDELT_EXPORTS)


def test_gdelt_one_refused_export_does_not_block_the_rest_of_the_range(
    tw_home: Path, server: HTTPServer, client: HttpClient
) -> None:
    site = Site(server)
    bad = GDELT_EXPORTS[1]
    _serve_gdelt(site, server, GDELT_EXPORTS, wrong_md5=(bad.name,))
    store = SnapshotStore(tw_home / "snapshots")
    window = EventWindow(datetime(2024, 6, 1, tzinfo=timezone.utc), datetime(2024, 6, 3, tzinfo=timezone.utc),
                         (DAY1, DAY2))
    with pytest.raises(FetchError, match=re.escape(bad.name)):  # still reported, so fetch_succeeded warns
        gdelt_assets.fetch_gdelt(FetchRequest(client, store, base_url(server), SnapshotConfig(), window))
    assert sorted(f.name for m in store.list("gdelt") for f in m.files) == [p.name for p in GDELT_EXPORTS if p != bad]


# --------------------------------------------------------------------------- GDELT: a partition re-run


def _lake_files(home: Path, day: str, snapshot_ids: set[str]) -> dict[str, tuple[int, int]]:
    """(mtime_ns, bytes) of every lake file of one day: its partition folder and its snapshots' bookkeeping."""
    root = home / "lake" / GDELT_TABLE
    paths = list((root / day).iterdir())
    paths += [p for sub in ("_coverage", "_undated") if (root / sub).is_dir() for p in (root / sub).iterdir()
              if p.name.split(".")[0] in snapshot_ids]  # _undated holds only snapshots with undated rejects
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in paths}


def _day_snapshots(home: Path, day: str) -> set[str]:
    store = SnapshotStore(home / "snapshots")
    return {m.snapshot_id for m in store.list("gdelt") if m.files[0].name.startswith(day.replace("-", ""))}


def test_gdelt_partition_rerun_rewrites_only_its_day(tw_home: Path) -> None:
    _ok(run_backfill("gdelt", DAY1, DAY2, offline=True))
    before = warehouse_content(tw_home)
    day1_ids, day2_ids = _day_snapshots(tw_home, DAY1), _day_snapshots(tw_home, DAY2)
    assert len(day1_ids) == len(day2_ids) == 3
    day2_files = _lake_files(tw_home, DAY2, day2_ids)
    day1_files = _lake_files(tw_home, DAY1, day1_ids)
    day1_dir = tw_home / "lake" / GDELT_TABLE / DAY1
    day1_folder = day1_dir.stat().st_ino
    day1_frames = {p.name: pl.read_parquet(p) for p in day1_dir.glob("*[0-9a-f].parquet")}

    summary = run_backfill("gdelt", DAY1, DAY1, offline=True)
    _ok(summary)
    assert _meta(summary, "staging/stg_gdelt_event")["dagster/row_count"] == 121  # day 1's three exports only
    assert _day_snapshots(tw_home, DAY1) == day1_ids  # the samples reuse their snapshots

    assert _lake_files(tw_home, DAY2, day2_ids) == day2_files  # untouched, to the nanosecond
    after1 = _lake_files(tw_home, DAY1, day1_ids)
    assert after1.keys() == day1_files.keys()
    assert [k for k in after1 if after1[k][0] == day1_files[k][0]] == []  # every file of day 1 is rewritten
    assert day1_dir.stat().st_ino != day1_folder  # the folder was swapped whole
    for name, frame in day1_frames.items():
        assert pl.read_parquet(day1_dir / name).equals(frame)  # with the same rows

    after = warehouse_content(tw_home)
    assert after.keys() == before.keys()
    changed = sorted(t for t in before if before[t] != after[t])
    # A GX verdict is per suite run: day 1 is now judged by its own run, day 2 keeps the two-day run's verdict.
    # So meta.validation_results gains day 1's report and keeps the earlier one; every other table is equal.
    assert changed == ["meta.validation_results"], changed
    labels = lambda rows: {r[2] for r in rows}  # noqa: E731  (snapshot_id column: the suite run's label)
    assert set(before["meta.validation_results"]) < set(after["meta.validation_results"])
    assert labels(before["meta.validation_results"]) == {f"{DAY1}..{DAY2} (6 files)"}
    assert labels(after["meta.validation_results"]) == {f"{DAY1}..{DAY2} (6 files)", f"{DAY1} (3 files)"}
    assert all(r[6] for r in after["meta.validation_results"])  # success


# --------------------------------------------------------------------------- schedules


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(("when", "last_month", "this_month"), [
    (_at(2026, 10, 6, 8), "2026-09-01", "2026-10-01"),
    (_at(2027, 1, 5, 8), "2026-12-01", "2027-01-01"),  # across the year
])
def test_acled_weekly_pulls_last_and_this_month(when: datetime, last_month: str, this_month: str) -> None:
    request = acled_weekly(build_schedule_context(scheduled_execution_time=when))
    assert isinstance(request, RunRequest)
    assert request.tags[RANGE_START] == last_month and request.tags[RANGE_END] == this_month
    assert request.run_key == when.date().isoformat()
    # Both ends are partitions that exist at that time (ACLED's open current month included).
    keys = acled_assets.PARTITIONS.get_partition_keys(current_time=when)
    assert keys[-2:] == [last_month, this_month]


@pytest.mark.parametrize(("when", "month", "version"), [
    (_at(2026, 10, 15, 9), "2026-09-01", "26.0.9"),
    (_at(2026, 11, 15, 9), "2026-10-01", "26.0.10"),  # two-digit month, not zero-padded
    (_at(2027, 1, 15, 9), "2026-12-01", "26.0.12"),  # January asks for last year's December
])
def test_ucdp_candidate_monthly_asks_for_last_months_candidate(when: datetime, month: str, version: str) -> None:
    request = ucdp_candidate_monthly(build_schedule_context(scheduled_execution_time=when))
    assert request.partition_key == month and request.run_key == version
    assert request.run_config["ops"]["snapshot__ucdp_ged"]["config"] == {"format": "candidate", "version": version}
    assert ucdp_assets.PARTITIONS.get_partition_keys(current_time=when)[-1] == month  # the last complete month


def test_ucdp_yearly_schedules_name_the_release_and_its_range() -> None:
    when = _at(2026, 7, 1, 9)
    request = ucdp_ged_yearly(build_schedule_context(scheduled_execution_time=when))
    assert request.run_key == "26.1"
    assert request.tags == {RANGE_START: "1989-01-01", RANGE_END: "2025-12-01"}  # every month through last year
    assert request.run_config["ops"]["snapshot__ucdp_ged"]["config"] == {"format": "bulk", "version": "26.1"}
    keys = ucdp_assets.PARTITIONS.get_partition_keys(current_time=when)
    assert keys[0] == "1989-01-01" and "2025-12-01" in keys
    acd = ucdp_acd_yearly(build_schedule_context(scheduled_execution_time=_at(2026, 7, 2, 9)))
    assert acd.run_config["ops"]["snapshot__ucdp_acd"]["config"] == {"version": "26.1"}


# --------------------------------------------------------------------------- UCDP API


UCDP_PAGESIZE = 10  # the sample pages were cut at 10 events a page


def _serve_ucdp_api(server: HTTPServer, start: str, end: str) -> None:
    pages = sorted((SAMPLES / "ucdp_ged" / "api").glob("gedevents_25.1_page*.json"))
    path = "/api/gedevents/25.1"

    def page_url(n: int) -> str:
        query = {"pagesize": UCDP_PAGESIZE, "page": n, "StartDate": start, "EndDate": end}
        return f"{base_url(server)}{path}?{urlencode(query)}"

    bodies = []
    for n, page in enumerate(pages):
        body = json.loads(page.read_text(encoding="utf-8"))
        body["NextPageUrl"] = page_url(n + 1) if n + 1 < len(pages) else ""
        body["PreviousPageUrl"] = page_url(n - 1) if n else ""
        bodies.append(json.dumps(body).encode())

    def handler(request: Request) -> Response:
        if request.headers.get("x-ucdp-access-token") != UCDP_TOKEN:
            return Response("API token required. Add header: x-ucdp-access-token", status=401)
        args = request.args
        if (args.get("StartDate"), args.get("EndDate"), args.get("pagesize")) != (start, end, str(UCDP_PAGESIZE)):
            return Response(f"unexpected query {dict(args)}", status=400)
        return Response(bodies[int(args["page"])], status=200, content_type="application/json")

    server.expect_request(path).respond_with_handler(handler)


@pytest.fixture
def ucdp_api(tw_home: Path, server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    monkeypatch.setenv("THREATWATCH_UCDP_GED_URL", base_url(server))
    # The API's largest page is 1000 events; the bundled pages hold 10, so the run asks for 10 a page.
    monkeypatch.setattr(ucdp_assets, "fetch_ucdp_ged_api", partial(fetch_ucdp_ged_api, pagesize=UCDP_PAGESIZE))
    _serve_ucdp_api(server, "2024-01-01", "2024-06-30")
    return server


def test_ucdp_api_run_publishes_the_release_and_keeps_the_token_out(
    tw_home: Path, ucdp_api: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THREATWATCH_UCDP_TOKEN", UCDP_TOKEN)
    summary = run_backfill("ucdp_ged", "2024-01-01", "2024-06-01", fetch_format="api", version="25.1")
    _ok(summary)
    assert _check(summary, "snapshot/ucdp_ged", "fetch_succeeded")[0]
    assert [r.headers.get("x-ucdp-access-token") for r, _ in ucdp_api.log] == [UCDP_TOKEN] * 2
    assert [r.args["page"] for r, _ in ucdp_api.log] == ["0", "1"]

    (manifest,) = SnapshotStore(tw_home / "snapshots").list("ucdp_ged")
    assert [f.name for f in manifest.files] == [f"gedevents_25.1_2024-01-01_2024-06-30_p{n}.json" for n in (0, 1)]
    assert _meta(summary, "staging/stg_ucdp_ged_event")["dagster/row_count"] == 20
    published = _query(tw_home, "SELECT release, count(*), min(event_date), max(event_date) "
                                "FROM core.fct_conflict_event WHERE source = 'ucdp_ged' GROUP BY release")
    assert published == [("25.1", 20, date(2024, 1, 1), date(2024, 6, 23))]
    months = _query(tw_home, "SELECT DISTINCT strftime(event_date, '%Y-%m') FROM core.fct_conflict_event ORDER BY 1")
    assert [m for (m,) in months] == [f"2024-0{m}" for m in range(1, 7)]

    assert UCDP_TOKEN not in _all_text(tw_home, "meta.snapshot_files")
    assert UCDP_TOKEN not in summary.render()
    manifests = list((tw_home / "snapshots").rglob("manifest.json"))
    assert manifests and not any(UCDP_TOKEN in p.read_text(encoding="utf-8") for p in manifests)
    assert _files_containing(tw_home, UCDP_TOKEN) == []  # nor any other file written
    ledger = json.loads((tw_home / "snapshots" / ".quota" / "ucdp.json").read_text(encoding="utf-8"))
    assert sum(ledger["requests"].values()) == 2  # one request per page, counted on its UTC day


def test_ucdp_api_run_without_a_token_warns_and_does_not_crash(
    tw_home: Path, ucdp_api: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("THREATWATCH_UCDP_TOKEN", raising=False)
    summary = run_backfill("ucdp_ged", "2024-01-01", "2024-06-01", fetch_format="api", version="25.1")
    assert summary.success and not summary.failures, summary.render()
    passed, description, is_error = _check(summary, "snapshot/ucdp_ged", "fetch_succeeded")
    assert not passed and not is_error and "THREATWATCH_UCDP_TOKEN" in description
    assert ucdp_api.log == []  # nothing is sent without a token
    assert SnapshotStore(tw_home / "snapshots").list("ucdp_ged") == []
    ledger = tw_home / "snapshots" / ".quota" / "ucdp.json"
    assert not ledger.exists() or sum(json.loads(ledger.read_text())["requests"].values()) == 0


# --------------------------------------------------------------------------- ACLED OAuth


def _serve_acled(server: HTTPServer, start: str, end: str, limit: int) -> list[dict]:
    pages = [(SAMPLES / "acled" / "api" / f"acled_read_page{n}.json").read_bytes() for n in (1, 2)]
    logins: list[dict] = []

    def token(request: Request) -> Response:
        form = request.form.to_dict()
        logins.append(form)
        login = (form.get("username"), form.get("password"), form.get("grant_type"))
        if login != (ACLED_USER, ACLED_PASSWORD, "password"):
            return Response(json.dumps({"error": "invalid_grant"}), status=401, content_type="application/json")
        return Response(json.dumps({"access_token": ACLED_ACCESS, "refresh_token": ACLED_REFRESH, "expires_in": 86400,
                                    "token_type": "Bearer"}), status=200, content_type="application/json")

    def read(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {ACLED_ACCESS}":
            return Response(json.dumps({"error": "unauthorised"}), status=401, content_type="application/json")
        args = parse_qs(request.query_string.decode())
        expected = {"_format": ["json"], "event_date": [f"{start}|{end}"], "event_date_where": ["BETWEEN"],
                    "limit": [str(limit)]}
        if {k: args.get(k) for k in expected} != expected:
            return Response(json.dumps({"error": f"unexpected query {args}"}), status=400,
                            content_type="application/json")
        page = int(args["page"][0])
        body = pages[page - 1] if page <= len(pages) else json.dumps({"status": 200, "success": True, "count": 0,
                                                                      "data": []}).encode()
        return Response(body, status=200, content_type="application/json")

    server.expect_request("/oauth/token", method="POST").respond_with_handler(token)
    server.expect_request("/api/acled/read", method="GET").respond_with_handler(read)
    return logins


def test_acled_oauth_run_publishes_events_and_keeps_credentials_out(
    tw_home: Path, server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THREATWATCH_ACLED_URL", base_url(server))
    monkeypatch.setenv("THREATWATCH_ACLED_USERNAME", ACLED_USER)
    monkeypatch.setenv("THREATWATCH_ACLED_PASSWORD", ACLED_PASSWORD)
    # The bundled pages hold 12 and 8 events: with a limit of 12 the first page is full, the second ends the pull.
    monkeypatch.setattr(acled_assets, "fetch_acled_events", partial(fetch_acled_events, page_limit=12))
    logins = _serve_acled(server, "2024-05-01", "2024-06-30", limit=12)

    summary = run_backfill("acled", "2024-05-01", "2024-06-01")
    _ok(summary)
    assert _check(summary, "snapshot/acled", "fetch_succeeded")[0]
    assert len(logins) == 1 and logins[0]["client_id"] == "acled"  # one login serves both pages
    assert [(r.method, r.path) for r, _ in server.log] == [
        ("POST", "/oauth/token"), ("GET", "/api/acled/read"), ("GET", "/api/acled/read")]

    (manifest,) = SnapshotStore(tw_home / "snapshots").list("acled")
    assert [f.name for f in manifest.files] == [f"acled_2024-05-01_2024-06-30_p{n}.json" for n in (1, 2)]
    staged = _meta(summary, "staging/stg_acled_event")
    assert (staged["dagster/row_count"], staged["quarantined_rows"], staged["partitions_with_rows"]) == (20, 0, 2)
    published = _query(tw_home, "SELECT count(*), count(DISTINCT event_id), min(event_date), max(event_date) "
                                "FROM core.fct_conflict_event WHERE source = 'acled'")
    assert published == [(20, 20, date(2024, 5, 1), date(2024, 6, 29))]

    secrets = (ACLED_PASSWORD, ACLED_ACCESS, ACLED_REFRESH, ACLED_USER)
    manifests = list((tw_home / "snapshots").rglob("manifest.json"))
    assert manifests and not any(s in p.read_text(encoding="utf-8") for p in manifests for s in secrets)
    assert not any(s in _all_text(tw_home, "meta.snapshot_files") for s in secrets)
    assert not any(s in summary.render() for s in secrets)
    assert _files_containing(tw_home, *secrets) == []


def _gdelt_warehouse_files(home: Path) -> dict[str, set[tuple]]:
    """Day -> (data file, delete file) of staging.stg_gdelt_event in the committed warehouse."""
    with open_warehouse(home) as con:
        files = con.execute("SELECT data_file, delete_file FROM ducklake_list_files('warehouse', 'stg_gdelt_event', "
                            "schema => 'staging')").fetchall()
    by_day: dict[str, set[tuple]] = {}
    for data_file, delete_file in files:
        y, m, d = (int(part.split("=")[1]) for part in Path(data_file).parts[-4:-1])  # year=/month=/day= folders
        by_day.setdefault(f"{y:04}-{m:02}-{d:02}", set()).add((data_file, delete_file))
    return by_day


def test_a_rerun_day_replaces_its_warehouse_files_only_and_a_publish_of_nothing_new_rewrites_nothing(tw_home: Path):
    _ok(run_backfill("gdelt", DAY1, DAY2, offline=True))
    before = _gdelt_warehouse_files(tw_home)
    assert sorted(before) == [DAY1, DAY2]  # DuckLake partitions the table by the lake's day
    day2_rows = _query(tw_home, "SELECT * FROM staging.stg_gdelt_event WHERE CAST(date_added AS DATE) = $1 "
                                "ORDER BY event_id", [DAY2])

    _ok(run_backfill("gdelt", DAY1, DAY1, offline=True))
    after = _gdelt_warehouse_files(tw_home)
    assert after[DAY2] == before[DAY2]  # the same files, and no delete file on them
    assert after[DAY1] and not after[DAY1] & before[DAY1]  # day 1 deleted and inserted anew
    assert _query(tw_home, "SELECT * FROM staging.stg_gdelt_event WHERE CAST(date_added AS DATE) = $1 "
                           "ORDER BY event_id", [DAY2]) == day2_rows

    from pipelines.lib.publish import publish_warehouse

    report = publish_warehouse(paths_from_env())  # nothing re-staged since: no staged row is rewritten
    assert all(units == [] for units in report.replaced.values()), report.replaced
    assert _gdelt_warehouse_files(tw_home) == after
