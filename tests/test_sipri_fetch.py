"""SIPRI fetching against a loopback site: workbook discovery on the landing page, conditional GET, retries."""

from __future__ import annotations

import hashlib
import io

import openpyxl
import pytest
from pytest_httpserver import HTTPServer

from pipelines.lib.http import FetchError, HttpClient
from pipelines.lib.snapshot_manifest import MANIFEST, Manifest
from pipelines.lib.snapshots import SnapshotStore
from pipelines.defs.sipri.fetch import discover_sipri_workbook_url, fetch_sipri_snapshot
from tests.fetch_fixtures import base_url

TERMS = dict(publisher="SIPRI", licence="SIPRI terms", licence_url="https://example.org/l", citation="SIPRI Milex")
PAGE = "https://www.sipri.org/databases/milex"
FILES = "/sites/default/files"
CURRENT = "SIPRI-Milex-data-1949-2025_v1.2.xlsx"


def _landing(*hrefs: str) -> str:
    """A landing page shaped like SIPRI's Drupal page: navigation, a fact-sheet PDF, workbook links."""
    links = "\n".join(f'<li><a href="{h}" class="file">{h.rsplit("/", 1)[-1]}</a></li>' for h in hrefs)
    return f"""<!DOCTYPE html><html lang="en"><head><title>SIPRI Military Expenditure Database | SIPRI</title></head>
<body><nav><a href="/">Home</a><a href="/databases">Databases</a><a href="#main">Skip</a><a>no href</a></nav>
<main><p>Data for all countries from 1949&ndash;2025 are available in Excel format:</p>
<ul>{links}</ul>
<a href="{FILES}/2026-04/fs_2604_milex_2025.pdf">Trends in world military expenditure, 2025</a>
<a href="https://milex.sipri.org/sipri">Data portal</a></main></body></html>"""


def _xlsx(title: str) -> bytes:
    """A real, tiny Milex-like workbook."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Share of GDP"
    ws["A1"] = title
    ws.append(["Country", "Notes", 2024, 2025])
    ws.append(["Poland", None, 0.0415, 0.0448])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("hrefs", "expected"),
    [
        # the highest end year wins over a bigger suffix of an older vintage
        ([f"{FILES}/2025-04/SIPRI-Milex-data-1949-2024_2.xlsx", f"{FILES}/{CURRENT}"],
         f"https://www.sipri.org{FILES}/{CURRENT}"),
        # the end year decides, not the start year
        ([f"{FILES}/SIPRI-Milex-data-1948-2023.xlsx", f"{FILES}/SIPRI-Milex-data-1949-2022.xlsx"],
         f"https://www.sipri.org{FILES}/SIPRI-Milex-data-1948-2023.xlsx"),
        # same end year: a re-issue beats the plain name, _2 beats _0, v1.10 beats v1.2 (numbers, not text)
        ([f"{FILES}/SIPRI-Milex-data-1949-2020.xlsx", f"{FILES}/SIPRI-Milex-data-1949-2020_0.xlsx"],
         f"https://www.sipri.org{FILES}/SIPRI-Milex-data-1949-2020_0.xlsx"),
        ([f"{FILES}/SIPRI-Milex-data-1949-2024_2.xlsx", f"{FILES}/SIPRI-Milex-data-1949-2024_0.xlsx"],
         f"https://www.sipri.org{FILES}/SIPRI-Milex-data-1949-2024_2.xlsx"),
        ([f"{FILES}/SIPRI-Milex-data-1949-2025_v1.2.xlsx", f"{FILES}/SIPRI-Milex-data-1949-2025_v1.10.xlsx"],
         f"https://www.sipri.org{FILES}/SIPRI-Milex-data-1949-2025_v1.10.xlsx"),
        # absolute links on another host, odd case and a query string are kept as published
        (["https://cdn.example.org/f/sipri-milex-data-1949-2025_V1.2.XLSX?itok=x",
          f"{FILES}/SIPRI-Milex-data-1949-2024.xlsx"],
         "https://cdn.example.org/f/sipri-milex-data-1949-2025_V1.2.XLSX?itok=x"),
        # a relative link without a leading slash resolves against the page; look-alikes are ignored
        ([f"../sites/{CURRENT}", f"{FILES}/{CURRENT}.pdf", f"{FILES}/SIPRI-Milex-data-1949-2030.pdf",
          f"{FILES}/Copy-of-SIPRI-Milex-data-1949-2030.xlsx"], f"https://www.sipri.org/sites/{CURRENT}"),
        # percent-encoded names are matched decoded
        ([f"{FILES}/SIPRI%2DMilex-data-1949-2026.xlsx", f"{FILES}/{CURRENT}"],
         f"https://www.sipri.org{FILES}/SIPRI%2DMilex-data-1949-2026.xlsx"),
    ],
)
def test_discovery_picks_the_current_workbook(hrefs: list[str], expected: str) -> None:
    assert discover_sipri_workbook_url(_landing(*hrefs), PAGE) == expected


def test_discovery_honours_base_href() -> None:
    html = f'<html><head><base href="https://mirror.example.org/sipri/"></head><body><a href="{CURRENT}">x</a></body></html>'
    assert discover_sipri_workbook_url(html, PAGE) == f"https://mirror.example.org/sipri/{CURRENT}"


def test_no_workbook_link_is_a_fetch_error() -> None:
    html = _landing(f"{FILES}/SIPRI-Milex-data-1949-2025.csv")  # 3 navigation links, the csv, the PDF, the portal
    with pytest.raises(FetchError, match=r"no Milex workbook link \(6 links seen\)") as err:
        discover_sipri_workbook_url(html, PAGE)
    assert err.value.source == "sipri" and err.value.url == PAGE


def _serve_landing(server: HTTPServer, *names: str) -> None:
    # one relative and one absolute link, as Drupal pages mix both
    hrefs = [f"{FILES}/2024-04/SIPRI-Milex-data-1948-2023.xlsx"]
    hrefs += [f"{FILES}/{names[0]}"] + [server.url_for(f"{FILES}/{n}") for n in names[1:]]
    server.expect_ordered_request("/databases/milex").respond_with_data(
        _landing(*hrefs), content_type="text/html; charset=utf-8"
    )


def _fetch(client: HttpClient, store: SnapshotStore, base: str) -> tuple[list[str], Manifest | None]:
    with store.draft("sipri") as draft:
        names = fetch_sipri_snapshot(client, draft, base)
        return names, draft.commit("http", **TERMS)


def test_first_fetch_stores_only_the_workbook(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    body = _xlsx("SIPRI Military Expenditure Database 1949-2025")
    _serve_landing(server, CURRENT)
    server.expect_ordered_request(f"{FILES}/{CURRENT}").respond_with_data(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={"ETag": '"m1"'}
    )
    names, manifest = _fetch(client, store, base_url(server))
    server.check_assertions()
    assert names == [CURRENT]
    assert [f.name for f in manifest.files] == [CURRENT]
    record = manifest.file(CURRENT)
    assert record.sha256 == hashlib.sha256(body).hexdigest() and record.bytes == len(body)
    assert record.url == server.url_for(f"{FILES}/{CURRENT}") and record.etag == '"m1"'
    assert record.params == {"discovered_from": f"{base_url(server)}/databases/milex"}
    assert sorted(p.name for p in store.dir_of(manifest).iterdir()) == sorted([CURRENT, MANIFEST])
    assert store.file_path(manifest, CURRENT).read_bytes() == body


def test_unchanged_workbook_answered_304_makes_no_snapshot(
    server: HTTPServer, client: HttpClient, store: SnapshotStore
) -> None:
    body = _xlsx("1949-2025")
    _serve_landing(server, CURRENT)
    server.expect_ordered_request(f"{FILES}/{CURRENT}").respond_with_data(
        body, headers={"ETag": '"m1"', "Last-Modified": "Mon, 27 Apr 2026 08:00:00 GMT"}
    )
    _serve_landing(server, CURRENT)  # the page itself is re-fetched every run
    server.expect_ordered_request(f"{FILES}/{CURRENT}", headers={"If-None-Match": '"m1"'}).respond_with_data(
        "", status=304
    )
    _, first = _fetch(client, store, base_url(server))
    names, second = _fetch(client, store, base_url(server))
    server.check_assertions()
    assert names == [CURRENT] and second is None
    assert server.log[3][0].headers["If-Modified-Since"] == "Mon, 27 Apr 2026 08:00:00 GMT"
    assert store.list("sipri") == [first]


def test_new_release_on_the_page_makes_a_new_snapshot(
    server: HTTPServer, client: HttpClient, store: SnapshotStore
) -> None:
    newer = "SIPRI-Milex-data-1949-2026.xlsx"
    _serve_landing(server, CURRENT)
    server.expect_ordered_request(f"{FILES}/{CURRENT}").respond_with_data(_xlsx("2025"), headers={"ETag": '"m1"'})
    _serve_landing(server, CURRENT, newer)
    new_body = _xlsx("2026")
    server.expect_ordered_request(f"{FILES}/{newer}").respond_with_data(new_body, headers={"ETag": '"m2"'})
    _, first = _fetch(client, store, base_url(server))
    names, second = _fetch(client, store, base_url(server))
    server.check_assertions()
    assert names == [newer]
    assert second is not None and second.snapshot_id > first.snapshot_id
    assert [f.name for f in second.files] == [newer]
    assert second.file(newer).sha256 == hashlib.sha256(new_body).hexdigest()
    assert "If-None-Match" not in server.log[3][0].headers  # validators belong to the old file only


def test_html_where_the_workbook_should_be(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    _serve_landing(server, CURRENT)
    server.expect_ordered_request(f"{FILES}/{CURRENT}").respond_with_data(
        "<!DOCTYPE html><html><body>Access denied</body></html>", content_type="text/html"
    )
    with store.draft("sipri") as draft:
        with pytest.raises(FetchError, match="expected a zip archive, got HTML") as err:
            fetch_sipri_snapshot(client, draft, base_url(server))
        assert list(draft.dir.iterdir()) == []
    assert err.value.source == "sipri" and err.value.url.endswith(CURRENT)
    assert store.list("sipri") == []


def test_no_link_on_the_served_page(server: HTTPServer, client: HttpClient, store: SnapshotStore) -> None:
    server.expect_request("/databases/milex").respond_with_data(_landing(), content_type="text/html")
    with store.draft("sipri") as draft:
        with pytest.raises(FetchError, match="landing page has no Milex workbook link"):
            fetch_sipri_snapshot(client, draft, base_url(server) + "/")
        assert list(draft.dir.iterdir()) == []


def test_workbook_503_then_200_is_retried(
    server: HTTPServer, client: HttpClient, store: SnapshotStore, sleeps: list[float]
) -> None:
    body = _xlsx("1949-2025")
    _serve_landing(server, CURRENT)
    server.expect_ordered_request(f"{FILES}/{CURRENT}").respond_with_data("busy", status=503, headers={"Retry-After": "7"})
    server.expect_ordered_request(f"{FILES}/{CURRENT}").respond_with_data(body)
    _, manifest = _fetch(client, store, base_url(server))
    server.check_assertions()
    assert sleeps == [7.0]
    assert manifest.file(CURRENT).sha256 == hashlib.sha256(body).hexdigest()
