"""Publishers without an API (SIPRI, NATO) link their workbook from a web page: find it, fetch it."""

from __future__ import annotations

import codecs
import re
import tempfile
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from pipelines.lib.http import HttpClient
from pipelines.lib.redaction import redact
from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.conditional_get import fetch_into_draft


class _LinkCollector(HTMLParser):
    """Collects the href of every <a>, and a <base href> if the page sets one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if not href or not href.strip():
            return
        if tag == "a":
            self.hrefs.append(href.strip())
        elif tag == "base" and self.base is None:
            self.base = href.strip()


def page_links(html: str, page_url: str) -> list[str]:
    """Every link target of a page, resolved to an absolute URL (honouring <base href>), in page order."""
    parser = _LinkCollector()
    parser.feed(html)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    return [urljoin(base, href) for href in parser.hrefs]


def link_file_name(url: str) -> str | None:
    """The decoded last path segment of a link (query and fragment ignored); None if it is not a plain name."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\0" in name:
        return None
    return name


def _page_text(path: Path, content_type: str | None) -> str:
    """A downloaded page decoded by its declared charset, else UTF-8; bad bytes are replaced, not fatal."""
    m = re.search(r"charset=[\"']?([\w.:-]+)", content_type or "", re.I)
    encoding = "utf-8"
    if m:
        try:
            encoding = codecs.lookup(m.group(1)).name
        except LookupError:
            pass
    return path.read_bytes().decode(encoding, errors="replace")


def fetch_linked_workbook(
    client: HttpClient, draft: SnapshotDraft, source: str, page_url: str, discover: Callable[[str, str], str]
) -> list[str]:
    """Read a page outside the draft, find the workbook link on it, fetch it conditionally into the draft."""
    # The page itself changes daily; in the snapshot it would make every run look like new content.
    with tempfile.TemporaryDirectory(prefix="threatwatch-page-") as tmp:
        page = client.fetch_to_file(source, page_url, Path(tmp) / "page.html")
        assert page.path is not None  # not conditional, so never a 304
        url = discover(_page_text(page.path, page.content_type), page_url)
    name = link_file_name(url)
    assert name is not None  # discover only returns links with a plain file name
    # The page the link was found on goes into the file's params, so the manifest records it.
    fetch_into_draft(client, draft, source, url, name, expect="zip",  # xlsx is a zip
                     recorded_params={"discovered_from": redact(page_url)})
    return [name]
