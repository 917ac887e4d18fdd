"""Fetch one published file into a snapshot draft with conditional GET: a 304 reuses the previous copy."""

from __future__ import annotations

import dataclasses
from typing import Any

from pipelines.lib.http import FetchResult, HttpClient
from pipelines.lib.snapshot_draft import SnapshotDraft


def fetch_into_draft(
    client: HttpClient, draft: SnapshotDraft, source: str, url: str, name: str, *,
    expect: str | None = None, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
    recorded_params: dict[str, Any] | None = None,
) -> FetchResult:
    """GET `url` into the draft as `name`, sending the previous snapshot's ETag / Last-Modified.

    `recorded_params` are kept in the manifest with the file (e.g. the page a link was found on) but not sent.
    """
    etag, last_modified = draft.conditional_headers(name)
    result = client.fetch_to_file(source, url, draft.dest(name), params=params, headers=headers,
                                  etag=etag, last_modified=last_modified, expect=expect)
    if result.status == 304:
        draft.reuse_previous(name)
    else:
        if recorded_params:
            result = dataclasses.replace(result, params={**result.params, **recorded_params})
        draft.add_fetched(result, name)
    return result
