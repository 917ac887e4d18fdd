"""The first and last partition an event source's real snapshots cover, kept up to date incrementally.

The partitions are computed whenever the code location loads, and Dagster loads it in every run's process
(96 GDELT sensor runs a day); reading every manifest of a year of GDELT (35,000 snapshots) each time cost
seconds. So the span is kept beside the coverage records, with how many snapshot ids it has seen: a load
lists the ids (no manifest read), reads only the manifests newer than the last one seen, and re-asks the
coverage records of the snapshots whose coverage was still unknown. Any other change to the ids (one
deleted) starts over.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from pipelines.lib.files import atomic_write_text
from pipelines.lib.lake import Lake, PartitionedLake
from pipelines.lib.snapshot_manifest import Manifest
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.source_spec import SourceSpec

CACHE_NAME = "_held_span.json"  # in the table's _coverage folder, beside the per-snapshot records


@dataclass
class HeldSpan:
    """What the real snapshots of a source cover, as far as known without reading their data."""

    count: int = 0  # snapshot ids seen, oldest first
    last_id: str = ""
    first: str | None = None  # partition keys
    last: str | None = None
    real: bool = False
    samples: bool = False  # a bundled sample is registered (an offline run has used them)
    unknown: list[str] = field(default_factory=list)  # real snapshots never staged: coverage unknown

    def add(self, partitions: list[str]) -> None:
        """Widen the span to cover `partitions`."""
        if partitions:
            self.first = min(p for p in (self.first, min(partitions)) if p)
            self.last = max(p for p in (self.last, max(partitions)) if p)


def held_span(spec: SourceSpec, store: SnapshotStore, lake: Lake) -> HeldSpan:
    """The source's span, from the cache plus what changed since (module docstring)."""
    plake = PartitionedLake(lake, spec.table.name)
    cache_path = plake.root / "_coverage" / CACHE_NAME
    ids = store.ids(spec.source)
    span = _read(cache_path)
    if span is None or span.count > len(ids) or (span.count and ids[span.count - 1] != span.last_id):
        span = HeldSpan()
    before = json.dumps(asdict(span))
    for snapshot_id in ids[span.count:]:
        _fold(spec, plake, span, store.get(spec.source, snapshot_id))
    span.count, span.last_id = len(ids), ids[-1] if ids else ""
    still_unknown = []
    for snapshot_id in span.unknown:
        covered = plake.coverage(snapshot_id)
        if covered is None:
            still_unknown.append(snapshot_id)
        else:
            span.add(covered)
    span.unknown = still_unknown
    if json.dumps(asdict(span)) != before:
        try:
            atomic_write_text(cache_path, json.dumps(asdict(span)))
        except OSError:  # a read-only lake: the span is still right, only not remembered
            pass
    return span


def _fold(spec: SourceSpec, plake: PartitionedLake, span: HeldSpan, manifest: Manifest) -> None:
    if manifest.origin == "sample":
        span.samples = True
        return
    span.real = True
    covered = spec.file_partitions([f.name for f in manifest.files])
    if covered is None:
        covered = plake.coverage(manifest.snapshot_id)
    if covered is None:
        span.unknown.append(manifest.snapshot_id)
    else:
        span.add(covered)


def _read(path) -> HeldSpan | None:
    try:
        return HeldSpan(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):  # none yet, or unreadable: start over
        return None
