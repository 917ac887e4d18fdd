"""An event source's partitions span its data: from where the held snapshots start (or a configured first
date) to where they end offline, or to today live (docs/adr/0009).

Dagster evaluates a partitions definition once, when the code location loads; so does this. A snapshot
fetched or imported later shows up in the UI's partitions at the next load (the CLI loads on every command).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl
from dagster import DailyPartitionsDefinition, MonthlyPartitionsDefinition, TimeWindowPartitionsDefinition

from pipelines.lib.config import first_partition_from_env, offline_from_env, paths_from_env
from pipelines.lib.held_span import held_span
from pipelines.lib.lake import Lake, PartitionedLake
from pipelines.lib.snapshot_manifest import Manifest
from pipelines.lib.snapshots import SnapshotStore, has_real, prefer_real
from pipelines.lib.source_spec import SnapshotConfig, SourceSpec


def newest_snapshots(manifests: list[Manifest]) -> list[Manifest]:
    """Real snapshots (samples only while there are none), and of those with the same file names only the
    newest (a re-fetched file supersedes its earlier copy), oldest first."""
    newest: dict[tuple[str, ...], Manifest] = {}
    for m in prefer_real(manifests, lambda m: m.origin):  # oldest first, so the newest wins
        newest[tuple(sorted(f.name for f in m.files))] = m
    return sorted(newest.values(), key=lambda m: m.snapshot_id)


def held_coverage(spec: SourceSpec, store: SnapshotStore, lake: Lake, crosswalk: pl.DataFrame | None,
                  offline: bool = True) -> list[str] | None:
    """The partitions the held snapshots cover (with no real one held: the bundled samples offline, or live
    once an offline run has registered them; live with nothing held, none), known from file names or the
    lake's coverage records; None if a real snapshot's coverage is unknown and `crosswalk` is None (reading
    it is left to the run)."""
    plake = PartitionedLake(lake, spec.table.name)
    manifests = store.list(spec.source)
    if has_real(manifests):
        groups = [([store.file_path(m, f.name) for f in m.files], m) for m in newest_snapshots(manifests)]
    elif offline or manifests:  # only samples held (the Quickstart's): they are what is staged
        groups = [(files, None) for files in spec.samples(SnapshotConfig())]
    else:
        groups = []
    return _coverage_of(spec, plake, groups, crosswalk)


def _coverage_of(spec: SourceSpec, plake: PartitionedLake, groups: list, crosswalk: pl.DataFrame | None) -> list[str] | None:
    """The partitions of (files, manifest or None for samples) groups; a real one of unknown coverage is read
    with `crosswalk`, or makes the answer None without one."""
    keys: set[str] = set()
    for files, manifest in groups:
        known = spec.file_partitions([f.name for f in files])
        if known is None and manifest is not None:
            known = plake.coverage(manifest.snapshot_id)
        if known is None:
            if crosswalk is None and manifest is not None:
                return None
            from pipelines.lib.reference import load_country_crosswalk

            frame, _ = spec.read(files, crosswalk if crosswalk is not None else load_country_crosswalk(), manifest)
            known = frame.select(spec.partition_key(spec.partition_column)).to_series().drop_nulls().unique().to_list()
        keys.update(known)
    return sorted(keys)


def _load_time_coverage(spec: SourceSpec, store: SnapshotStore, lake: Lake, offline: bool) -> list[str] | None:
    """First and last held partition as `held_coverage` would say (None: unknown), from the kept span of the
    real snapshots (pipelines/lib/held_span.py) instead of every manifest."""
    span = held_span(spec, store, lake)
    if span.real:
        return None if span.unknown else [p for p in (span.first, span.last) if p]
    if offline or span.samples:
        return _coverage_of(spec, PartitionedLake(lake, spec.table.name),
                            [(files, None) for files in spec.samples(SnapshotConfig())], None)
    return []


def _next_partition(key: str, monthly: bool) -> date:
    day = date.fromisoformat(key)
    if not monthly:
        return day + timedelta(days=1)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _partition_of(day: date, monthly: bool) -> str:
    return (day.replace(day=1) if monthly else day).isoformat()


def partitions_at_the_data(spec: SourceSpec, *, store: SnapshotStore | None = None, lake: Lake | None = None,
                           offline: bool | None = None, first: date | None = None) -> SourceSpec:
    """`spec` with partitions from the configured first date, else the first held partition (the source's
    history start when nothing is held live, or when a held snapshot's coverage is unknown), to the last
    held partition offline (nothing newer can arrive there without an import) or the open end live."""
    history: TimeWindowPartitionsDefinition = spec.partitions_def
    monthly = isinstance(history, MonthlyPartitionsDefinition)
    paths = paths_from_env()
    store = store or SnapshotStore(paths.snapshots)
    lake = lake or Lake(paths.lake)
    offline = offline_from_env() if offline is None else offline
    first = first or first_partition_from_env(spec.source)
    covered = _load_time_coverage(spec, store, lake, offline)
    start = (_partition_of(first, monthly) if first
             else covered[0] if covered else history.start.date().isoformat())
    if offline and covered:
        end = max(_next_partition(covered[-1], monthly), _next_partition(start, monthly))
        kwargs = {"end_date": end.isoformat()}
    else:
        kwargs = {"end_offset": history.end_offset}
    kind = MonthlyPartitionsDefinition if monthly else DailyPartitionsDefinition
    return replace(spec, partitions_def=kind(start_date=start, **kwargs))
