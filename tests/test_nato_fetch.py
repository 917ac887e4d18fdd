"""NATO fetching against a loopback site: Excel-tables discovery on the topic page, conditional GET, retries."""

from __future__ import annotations

import hashlib

import pytest
from pytest_httpserver import HTTPServer

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_manifest import MANIFEST, Manifest
from pipelines.lib.snapshots import SnapshotStore
from pipelines.defs.nato.fetch import discover_nato_workbook_url, fetch_nato_snapshot
from tests.fetch_fixtures import base_url

TERMS = dict(publisher="NATO", licence="credit NATO", licence_url="https://example.org/l", citation="NATO def-exp")
PAGE = "https://www.nato.int/cps/en/natohq/topics_49198.htm"
TOPIC = "/cps/en/natohq/topics_49198.htm"
DAM = "/content/dam/nato/webready/documents/finance"
LEGACY = "/nato_static_fl2014/assets/pdf/2024/6/pdf"
CURRENT = "def-exp-2025-en.xlsx"
XLSX = b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4  # enough of a zip for the signature check


def _topic(*hrefs: str) -> str:
    """A topic page shaped like NATO's: navigation, press releases, PDF and Excel per edition."""
    links = "\n".join(f'<li><a href="{h}" target="_blank">{h.rsplit("/", 1)[-1]}</a></li>' for h in hrefs)
    return f"""<!DOCTYPE html><html><head><title>NATO - Topic: Funding NATO</title></head>
<body><div id="nav"><a href="/cps/en/natohq/index.htm">Home</a><a href="/cps/en/natohq/topics.htm">Topics</a></div>
<p>Defence Expenditure of NATO Countries (2014-2025):</p><ul>
<li><a href="{DAM}/def-exp-2025-en.pdf">Press Release (PDF)</a></li>
<li><a href="https://www.nato.int/docu/pr/2019/PR-2019-069-eng.xlsx">2019 tables</a></li>
{links}</ul></body></html>"""


@pytest.mark.parametrize(
    ("hrefs", "expected"),
    [
        # the edition year decides, dated or not
        ([f"{LEGACY}/240617-def-exp-2024-TABLES-en.xlsx", f"{DAM}/def-exp-2026-en.xlsx", f"{DAM}/{CURRENT}"],
         f"https://www.nato.int{DAM}/def-exp-2026-en.xlsx"),
        # two editions in one year (March and June 2024): the later yymmdd date wins
        ([f"{LEGACY}/240314-def-exp-2024-TABLES-en.xlsx", f"{LEGACY}/240617-def-exp-2024-TABLES-en.xlsx"],
         f"https://www.nato.int{LEGACY}/240617-def-exp-2024-TABLES-en.xlsx"),
        # a newer PDF or a non-def-exp workbook does not count
        ([f"{DAM}/def-exp-2026-en.pdf", f"{LEGACY}/240617-def-exp-2024-TABLES-en.xlsx", "/docu/pr/2027/PR-2027-069-eng.xlsx"],
         f"https://www.nato.int{LEGACY}/240617-def-exp-2024-TABLES-en.xlsx"),
        # both languages linked: the English tables, whatever the order
        ([f"{DAM}/def-exp-2025-fr.xlsx", f"{DAM}/{CURRENT}"], f"https://www.nato.int{DAM}/{CURRENT}"),
        # absolute links, upper-case extensions and query strings are kept as published
        (["https://cdn.example.org/DEF-EXP-2026-EN.XLSX?v=3", f"{DAM}/{CURRENT}"],
         "https://cdn.example.org/DEF-EXP-2026-EN.XLSX?v=3"),
    ],
)
def test_discovery_picks_the_newest_edition(hrefs: list[str], expected: str) -> None:
    assert discover_nato_workbook_url(_topic(*hrefs), PAGE) == expected


def test_no_excel_tables_link_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match=r"topic page has no def-exp \.xlsx link \(4 links seen\)") as err:
        discover_nato_workbook_url(_topic(), PAGE)
    assert err.value.source == "nato" and err.value.url == PAGE


def _serve_topic(server: HTTPServer, *names: str, path: str = TOPIC) -> None:
    # the older edition by relative link, the ones under test by absolute link
    hrefs = [f"{LEGACY}/240617-def-exp-2024-TABLES-en.xlsx"] + [server.url_for(f"{DAM}/{n}") for n in names]
    server.expect_ordered_request(path).respond_with_data(_topic(*hrefs), content_type="text/html;charset=UTF-8")


def _fetch(client: HttpClient, store: SnapshotStore, base: str, **kw: str) -> tuple[list[str], Manifest | None]:
    with store.draft("nato") as draft:
        names = fetch_nato_snapshot(client, draft, base, **kw)
        return names, draft.commit("http", **TERMS)


def test_first_fetch_stores_only_the_workbook(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    _serve_topic(server, CURRENT)
    server.expect_ordered_request(f"{DAM}/{CURRENT}").respond_with_data(XLSX, headers={"ETag": '"n1"'})
    names, manifest = _fetch(client, store, base_url(server))
    server.check_assertions()
    assert names == [CURRENT] and [f.name for f in manifest.files] == [CURRENT]
    record = manifest.file(CURRENT)
    assert record.sha256 == hashlib.sha256(XLSX).hexdigest() and record.bytes == len(XLSX)
    assert record.params == {"discovered_from": f"{base_url(server)}{TOPIC}"}
    assert sorted(p.name for p in store.dir_of(manifest).iterdir()) == sorted([CURRENT, MANIFEST])


def test_topic_path_is_configurable(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    path = "/en/what-we-do/introduction-to-nato/defence-expenditures-and-natos-5-commitment"
    _serve_topic(server, "def-exp-2026-en.xlsx", path=path)
    server.expect_ordered_request(f"{DAM}/def-exp-2026-en.xlsx").respond_with_data(XLSX)
    names, _ = _fetch(client, store, base_url(server) + "/", topic_path=path.lstrip("/"))
    server.check_assertions()
    assert names == ["def-exp-2026-en.xlsx"]


def test_unchanged_workbook_answered_304_makes_no_snapshot(
    server: HTTPServer, client: HttpClient, store: SnapshotStore
) -> None:
    _serve_topic(server, CURRENT)
    server.expect_ordered_request(f"{DAM}/{CURRENT}").respond_with_data(XLSX, headers={"ETag": '"n1"'})
    _serve_topic(server, CURRENT)
    server.expect_ordered_request(f"{DAM}/{CURRENT}", headers={"If-None-Match": '"n1"'}).respond_with_data(
        "", status=304
    )
    _, first = _fetch(client, store, base_url(server))
    names, second = _fetch(client, store, base_url(server))
    server.check_assertions()
    assert names == [CURRENT] and second is None
    assert store.list("nato") == [first]


def test_new_edition_on_the_page_makes_a_new_snapshot(
    server: HTTPServer, client: HttpClient, store: SnapshotStore
) -> None:
    newer, new_body = "def-exp-2026-en.xlsx", XLSX + b"2026"
    _serve_topic(server, CURRENT)
    server.expect_ordered_request(f"{DAM}/{CURRENT}").respond_with_data(XLSX, headers={"ETag": '"n1"'})
    _serve_topic(server, CURRENT, newer)
    server.expect_ordered_request(f"{DAM}/{newer}").respond_with_data(new_body, headers={"ETag": '"n2"'})
    _, first = _fetch(client, store, base_url(server))
    names, second = _fetch(client, store, base_url(server))
    server.check_assertions()
    assert names == [newer]
    assert second is not None and second.snapshot_id > first.snapshot_id
    assert [f.name for f in second.files] == [newer]
    assert second.file(newer).sha256 == hashlib.sha256(new_body).hexdigest()
    assert "If-None-Match" not in server.log[3][0].headers


def test_html_where_the_workbook_should_be(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    _serve_topic(server, CURRENT)
    # a soft 404 served as a spreadsheet: the body, not the header, gives it away
    server.expect_ordered_request(f"{DAM}/{CURRENT}").respond_with_data(
        "\r\n<html><body>Page not found</body></html>", content_type="application/vnd.ms-excel"
    )
    with store.draft("nato") as draft:
        with pytest.raises(FetchError, match="expected a zip archive, got HTML") as err:
            fetch_nato_snapshot(client, draft, base_url(server))
        assert list(draft.dir.iterdir()) == []
    assert err.value.source == "nato"


def test_workbook_503_then_200_is_retried(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, sleeps: list[float]
) -> None:
    _serve_topic(server, CURRENT)
    server.expect_ordered_request(f"{DAM}/{CURRENT}").respond_with_data("unavailable", status=503)
    server.expect_ordered_request(f"{DAM}/{CURRENT}").respond_with_data(XLSX)
    _, manifest = _fetch(client, store, base_url(server))
    server.check_assertions()
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 1.0  # backoff of the first retry, with jitter
    assert manifest.file(CURRENT).sha256 == hashlib.sha256(XLSX).hexdigest()
