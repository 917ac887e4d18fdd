"""GX Data Docs pages for validation results, written into a folder with a plain index of every page."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from great_expectations.data_context import EphemeralDataContext

log = logging.getLogger(__name__)


def build_docs(ctx: EphemeralDataContext, docs_dir: Path, keys: list[Any]) -> str | None:
    """Render GX Data Docs pages for these results into docs_dir; return the page path."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    site = _docs_site(ctx, docs_dir.resolve())
    # The index builder deletes pages whose results are not in the (in-memory)
    # store, i.e. every earlier run's: build pages only, and a plain index ourselves.
    ctx.build_data_docs(site_names=[site], resource_identifiers=keys, build_index=False)
    _write_index(docs_dir)
    urls = [u for k in keys for u in ctx.get_docs_sites_urls(resource_identifier=k, site_name=site)]
    paths = [Path(unquote(urlparse(u["site_url"]).path)) for u in urls if u.get("site_url")]
    found = [str(p) for p in paths if p.is_file()]
    if not found:  # GX logs and swallows rendering errors
        log.warning("GX Data Docs page was not written for %s", keys)
        return None
    return found[0]


def _docs_site(ctx: EphemeralDataContext, docs_dir: Path) -> str:
    """Register a filesystem Data Docs site for docs_dir once; return its name."""
    name = "site_" + hashlib.sha1(str(docs_dir).encode()).hexdigest()[:10]
    if name not in (ctx.variables.data_docs_sites or {}):
        ctx.add_data_docs_site(
            site_name=name,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )
    return name


def _write_index(docs_dir: Path) -> None:
    """A minimal index.html linking every validation page, newest first."""
    import html

    pages = sorted(
        (docs_dir / "validations").rglob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    items = "\n".join(
        f'<li><a href="{html.escape(p.relative_to(docs_dir).as_posix())}">'
        f"{html.escape(' / '.join(p.relative_to(docs_dir / 'validations').parts))}</a></li>"
        for p in pages
    )
    (docs_dir / "index.html").write_text(
        f"<!doctype html><meta charset=utf-8><title>ThreatWatch validations</title>"
        f"<h1>ThreatWatch validations</h1><p>suite / snapshot / run time / batch</p>"
        f"<ul>\n{items}\n</ul>\n",
        encoding="utf-8",
    )
