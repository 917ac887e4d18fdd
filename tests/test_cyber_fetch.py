"""Live fetching of the cyber sources against loopback stand-ins: conditional GET, credentials, missing links."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from pipelines.lib.config import SAMPLES_DIR
from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.http_settings import HttpSettings
from pipelines.run import run_pipeline
from pipelines.lib.snapshots import SnapshotStore
from pipelines.defs.cisa_kev.fetch import FEED_PATH, fetch_cisa_kev_snapshot
from pipelines.defs.dcid.fetch import fetch_dcid_snapshot
from pipelines.defs.eurepoc.fetch import RELEASE_FILES, fetch_eurepoc_snapshot
from pipelines.defs.mitre_attack.fetch import DOMAINS, fetch_mitre_attack_snapshot

KEV = (SAMPLES_DIR / "cisa_kev" / "known_exploited_vulnerabilities.json").read_bytes()


def client() -> HttpClient:
    return HttpClient(HttpSettings(max_attempts=2), sleep=lambda s: None)


def commit(draft):
    return draft.commit(origin="http", publisher="p", licence="l", licence_url="u", citation="c")


def test_kev_second_fetch_answered_304_creates_no_snapshot(httpserver: HTTPServer, tmp_path: Path):
    def feed(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"kev-1"':
            return Response(status=304, headers={"ETag": '"kev-1"'})
        return Response(KEV, content_type="application/json", headers={"ETag": '"kev-1"'})

    httpserver.expect_request(FEED_PATH).respond_with_handler(feed)
    store = SnapshotStore(tmp_path)
    with store.draft("cisa_kev") as draft:
        fetch_cisa_kev_snapshot(client(), draft, httpserver.url_for("/"))
        first = commit(draft)
    assert store.file_path(first, "known_exploited_vulnerabilities.json").read_bytes() == KEV
    with store.draft("cisa_kev") as draft:
        fetch_cisa_kev_snapshot(client(), draft, httpserver.url_for("/"))
        assert commit(draft) is None
    assert [r.status_code for _, r in httpserver.log] == [200, 304]


def test_attack_fetches_one_bundle_per_domain(httpserver: HTTPServer, tmp_path: Path):
    bundle = json.dumps({"type": "bundle", "objects": []}).encode()
    httpserver.expect_request(re.compile(r"^/(enterprise|mobile|ics)-attack/.*\.json$")).respond_with_data(
        bundle, content_type="application/json")
    store = SnapshotStore(tmp_path)
    with store.draft("mitre_attack") as draft:
        names = fetch_mitre_attack_snapshot(client(), draft, httpserver.url_for("/"))
        manifest = commit(draft)
    assert names == [f"{d}.json" for d in DOMAINS]
    assert sorted(f.name for f in manifest.files) == sorted(names)
    assert sorted(req.path for req, _ in httpserver.log) == sorted(f"/{d}/{d}.json" for d in DOMAINS)


def test_dcid_without_a_workbook_url_says_how_to_get_it(tmp_path: Path):
    with SnapshotStore(tmp_path).draft("dcid") as draft:
        with pytest.raises(FetchError, match="THREATWATCH_DCID_URL"):
            fetch_dcid_snapshot(client(), draft, "https://www.ryanmaness.com")


def test_eurepoc_sends_the_token_and_never_logs_it(httpserver: HTTPServer, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    monkeypatch.setenv("THREATWATCH_EUREPOC_TOKEN", "s3cret-token")
    for name in RELEASE_FILES:
        httpserver.expect_request(f"/{name}").respond_with_data(
            (SAMPLES_DIR / "eurepoc" / name).read_bytes(), content_type="text/csv")
    with SnapshotStore(tmp_path).draft("eurepoc") as draft:
        fetch_eurepoc_snapshot(client(), draft, httpserver.url_for("/"))
        manifest = commit(draft)
    assert {req.headers.get("Authorization") for req, _ in httpserver.log} == {"Bearer s3cret-token"}
    assert "s3cret-token" not in manifest.to_json() and "s3cret-token" not in caplog.text


def test_eurepoc_without_credentials_is_skipped_loudly_and_others_still_publish(
    httpserver: HTTPServer, tw_home: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("THREATWATCH_EUREPOC_TOKEN", raising=False)
    httpserver.expect_request(FEED_PATH).respond_with_data(KEV, content_type="application/json")
    monkeypatch.setenv("THREATWATCH_CISA_KEV_URL", httpserver.url_for("/").rstrip("/"))
    summary = run_pipeline(offline=False, select='key:"snapshot/eurepoc"+ or key:"snapshot/cisa_kev"+')
    output = summary.render()
    assert summary.success, output
    assert "skipped   snapshot/eurepoc" in output and "THREATWATCH_EUREPOC_TOKEN" in output
    assert "snapshot/eurepoc:fetch_succeeded" in output and "WARNING" in output
    assert SnapshotStore(tw_home / "snapshots").list("eurepoc") == []
    assert [m.origin for m in SnapshotStore(tw_home / "snapshots").list("cisa_kev")] == ["http"]
    assert "Published" in output
