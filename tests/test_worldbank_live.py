"""A live run through Dagster against a loopback stand-in for the World Bank API (no real endpoint)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.lib.config import SAMPLES_DIR, paths_from_env
from pipelines.run import run_pipeline
from pipelines.lib.snapshots import SnapshotStore
from tests.warehouse_compare import open_warehouse, warehouse_content

API = SAMPLES_DIR / "worldbank" / "api"
BULK = SAMPLES_DIR / "worldbank" / "bulk"
WORLDBANK_ONLY = 'key:"snapshot/worldbank"+'  # the World Bank and everything downstream, publish included


def serve_api(request: Request) -> Response:
    """Answer /v2/country and /v2/country/all/indicator/<code> from the sample pages."""
    page = int(request.args["page"])
    match = re.fullmatch(r"/v2/country/all/indicator/([A-Z.0-9]+)", request.path)
    stem = match.group(1) if match else "countries"
    path = API / f"{stem}.page-{page:03d}.json"
    return Response(path.read_bytes(), content_type="application/json;charset=utf-8")


def serve_bulk(request: Request) -> Response:
    """Answer /v2/en/indicator/<code>?downloadformat=csv with the sample zip and an ETag (304 when it matches)."""
    code = request.path.rsplit("/", 1)[1]
    etag = f'"{code}-v1"'
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers={"ETag": etag})
    return Response((BULK / f"{code}.csv.zip").read_bytes(), content_type="application/zip", headers={"ETag": etag})


@pytest.fixture
def worldbank_server(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tw_home: Path) -> HTTPServer:
    httpserver.expect_request(re.compile(r"^/v2/country(/all/indicator/.*)?$")).respond_with_handler(serve_api)
    httpserver.expect_request(re.compile(r"^/v2/en/indicator/.*$")).respond_with_handler(serve_bulk)
    monkeypatch.setenv("THREATWATCH_WORLDBANK_URL", httpserver.url_for("/").rstrip("/"))
    return httpserver


def test_live_api_run_fetches_every_page_and_publishes(worldbank_server: HTTPServer):
    summary = run_pipeline(offline=False, select=WORLDBANK_ONLY)
    assert summary.success, summary.render()
    store = SnapshotStore(paths_from_env().snapshots)
    (manifest,) = store.list("worldbank")
    assert manifest.origin == "http"
    assert sorted(f.name for f in manifest.files) == sorted(p.name for p in API.iterdir())
    assert all(f.url.startswith("http://localhost") or f.url.startswith("http://127.0.0.1") for f in manifest.files)
    for f in manifest.files:  # kept byte for byte
        assert store.file_path(manifest, f.name).read_bytes() == (API / f.name).read_bytes()
    user_agents = {req.headers.get("User-Agent") for req, _ in worldbank_server.log}
    assert len(user_agents) == 1 and user_agents.pop().startswith("ThreatWatch/")

    # Unchanged content: no new snapshot, identical warehouse.
    before = warehouse_content()
    again = run_pipeline(offline=False, select=WORLDBANK_ONLY)
    assert again.success, again.render()
    assert [m.snapshot_id for m in store.list("worldbank")] == [manifest.snapshot_id]
    assert warehouse_content() == before


def test_live_bulk_run_uses_conditional_get(worldbank_server: HTTPServer):
    first = run_pipeline(offline=False, select=WORLDBANK_ONLY, worldbank_format="bulk")
    assert first.success, first.render()
    second = run_pipeline(offline=False, select=WORLDBANK_ONLY, worldbank_format="bulk")
    assert second.success, second.render()
    conditional = [req for req, resp in worldbank_server.log if resp.status_code == 304]
    assert len(conditional) == 4  # every zip answered "not modified" the second time
    assert len(SnapshotStore(paths_from_env().snapshots).list("worldbank")) == 1
    assert dict(second.materialized)["snapshot/worldbank"]["how"] == "unchanged"


def test_offline_run_never_touches_the_network(worldbank_server: HTTPServer):
    summary = run_pipeline(offline=True)
    assert summary.success, summary.render()
    assert worldbank_server.log == []


def test_unreachable_source_without_a_snapshot_is_skipped_loudly(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
                                                                   tw_home: Path):
    httpserver.expect_request(re.compile(".*")).respond_with_data("<html>Not Found</html>", status=404,
                                                                   content_type="text/html")
    monkeypatch.setenv("THREATWATCH_WORLDBANK_URL", httpserver.url_for("/").rstrip("/"))
    summary = run_pipeline(offline=False, select=WORLDBANK_ONLY)
    output = summary.render()
    assert "snapshot/worldbank:fetch_succeeded" in output and "WARNING" in output
    assert "[worldbank]" in output and "404" in output  # the warning names the source and the cause
    assert dict(summary.materialized)["snapshot/worldbank"]["how"] == "skipped"
    assert SnapshotStore(paths_from_env().snapshots).list("worldbank") == []
    with open_warehouse() as con:
        assert con.execute("SELECT count(*) FROM core.fct_military_expenditure WHERE source='worldbank'").fetchone() == (0,)


def test_one_publisher_outage_keeps_its_last_snapshot_and_publishes_the_rest(
    worldbank_server: HTTPServer, monkeypatch: pytest.MonkeyPatch
):
    assert run_pipeline(offline=True).success  # every source has a snapshot now
    nato_before = SnapshotStore(paths_from_env().snapshots).latest("nato").snapshot_id
    worldbank_server.expect_request(re.compile(r"^/cps/.*")).respond_with_data("gone", status=404)
    monkeypatch.setenv("THREATWATCH_NATO_URL", worldbank_server.url_for("/").rstrip("/"))
    summary = run_pipeline(offline=False, select='key:"snapshot/worldbank"+ or key:"snapshot/nato"+',
                           worldbank_format="bulk")  # differs from the api-format sample: a real new snapshot
    output = summary.render()
    assert summary.success, output
    assert "snapshot/nato:fetch_succeeded" in output and "WARNING" in output
    assert "snapshot/worldbank:fetch_succeeded" in output
    assert dict(summary.materialized)["snapshot/nato"]["how"] == "kept (fetch failed)"
    assert SnapshotStore(paths_from_env().snapshots).latest("nato").snapshot_id == nato_before
    with open_warehouse() as con:
        sources = dict(con.execute("SELECT source, origin FROM meta.snapshots WHERE is_published"
                                   " AND source IN ('nato', 'sipri', 'worldbank')").fetchall())
    assert sources == {"nato": "sample", "sipri": "sample", "worldbank": "http"}
