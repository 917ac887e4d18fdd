"""UCDP GED from JSON: GeoJSON copies (point geometry = [lon, lat]) and API gedevents pages, read as GED text.

Both are turned into the 49 GED text columns and staged by ucdp_ged.py's stage_ged_text, so the same events
give the same rows as the CSV layouts (../shared/data/conflict_events/SOURCES.md §1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from transforms.conflict_events.ucdp_ged import (
    GED_COLUMNS,
    GEOJSON_PROPERTIES,
    SOURCE,
    release_from_file_name,
    stage_ged_text,
    with_record_meta,
)
from transforms.conflict_events.ucdp_text import json_text, require_columns
from transforms.errors import SourceFormatError

_API_RELEASE = re.compile(r"/gedevents/(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)
_API_FILE_RELEASE = re.compile(r"gedevents_(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)


def _load_json(path: Path) -> Any:
    """The parsed JSON document (UTF-8, BOM allowed); SourceFormatError if it is not one."""
    try:
        return json.loads(path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SourceFormatError(SOURCE, path.name, f"not a JSON document ({type(e).__name__}: {e})") from e


def _text_frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    """GED records as an all-text frame (an empty one with the GED columns when there are none)."""
    return pl.DataFrame(rows or None, schema={c: pl.Utf8 for c in GED_COLUMNS})


def read_ucdp_ged_geojson(path: Path | str, crosswalk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Stage a GED GeoJSON FeatureCollection (point geometry = [lon, lat]): (events, rejected)."""
    path = Path(path)
    data = _load_json(path)
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise SourceFormatError(SOURCE, path.name, "not a GeoJSON FeatureCollection (no 'features' list)")
    rows, seen = [], set()
    for number, feature in enumerate(features, 1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            raise SourceFormatError(SOURCE, path.name, f"feature {number} has no properties object")
        seen.update(props)
        row = {c: json_text(props.get(c)) for c in GED_COLUMNS}
        # The converter cast relid with to_i: every value became 0 (a GED relid is text like 'CAF-2009-1-688-3').
        if row["relid"] == "0":
            row["relid"] = None
        geometry = feature.get("geometry")
        if geometry is not None:
            coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
            if geometry.get("type") != "Point" or not isinstance(coordinates, list) or len(coordinates) < 2:
                raise SourceFormatError(SOURCE, path.name, f"feature {number}: geometry is not a [lon, lat] Point")
            row["longitude"], row["latitude"] = json_text(coordinates[0]), json_text(coordinates[1])
        rows.append(row)
    if rows:
        require_columns(seen, GEOJSON_PROPERTIES, SOURCE, path.name)
    raw = with_record_meta(_text_frame(rows), path.name, release_from_file_name(path.name))
    return stage_ged_text(raw, crosswalk)


def _api_release(page: dict[str, Any], file_name: str) -> str | None:
    """The GED version of an API page: from its page URLs (/gedevents/25.1?...), else from the file name."""
    for key in ("NextPageUrl", "PreviousPageUrl"):
        match = _API_RELEASE.search(str(page.get(key) or ""))
        if match:
            return match.group(1)
    match = _API_FILE_RELEASE.search(file_name)
    return match.group(1) if match else release_from_file_name(file_name)


def read_ucdp_ged_api_pages(paths: Iterable[Path | str], crosswalk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Stage UCDP API gedevents pages ({TotalCount, ..., Result: [...]}) as one set: (events, rejected)."""
    frames, seen, names = [], set(), []
    for path in map(Path, paths):
        names.append(path.name)
        page = _load_json(path)
        result = page.get("Result") if isinstance(page, dict) else None
        if not isinstance(result, list):
            found = sorted(page)[:8] if isinstance(page, dict) else type(page).__name__
            raise SourceFormatError(SOURCE, path.name, f"not a UCDP API page (no 'Result' list; found {found})")
        rows = []
        for number, item in enumerate(result, 1):
            if not isinstance(item, dict):
                raise SourceFormatError(SOURCE, path.name, f"Result item {number} is not an object")
            seen.update(item)
            rows.append({c: json_text(item.get(c)) for c in GED_COLUMNS})
        frames.append(with_record_meta(_text_frame(rows), path.name, _api_release(page, path.name)))
    if not frames:
        raise SourceFormatError(SOURCE, "no files", "an API snapshot needs at least one page")
    raw = pl.concat(frames)
    if not raw.is_empty():
        require_columns(seen, GED_COLUMNS, SOURCE, ", ".join(names))
    return stage_ged_text(raw, crosswalk)
