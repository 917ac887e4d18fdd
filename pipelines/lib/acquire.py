"""Getting a source's current snapshot: fetch it live, or offline take the latest or the bundled sample."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from pipelines.lib.snapshot_draft import SnapshotDraft
from pipelines.lib.snapshot_manifest import Manifest
from pipelines.lib.snapshots import SnapshotStore
from pipelines.lib.source_registry import source_info

How = Literal["fetched", "unchanged", "latest", "sample", "kept (fetch failed)"]


@dataclass(frozen=True)
class AcquiredSnapshot:
    """The snapshot a run will stage, and how it came to be."""

    manifest: Manifest
    how: How

    @property
    def created(self) -> bool:
        return self.how in ("fetched", "sample")


def _commit(draft: SnapshotDraft, source: str, origin: str) -> Manifest | None:
    info = source_info(source)
    return draft.commit(
        origin=origin, publisher=info.publisher, licence=info.licence,
        licence_url=info.licence_url, citation=info.citation,
    )


def register_sample(store: SnapshotStore, source: str, files: list[Path]) -> AcquiredSnapshot:
    """Register bundled sample files as a snapshot, as if they had just been fetched."""
    with store.draft(source) as draft:
        for path in files:
            draft.add_local_file(path, url=path.resolve().as_uri())
        manifest = _commit(draft, source, "sample")
    if manifest is None:  # identical to the latest snapshot already in the store
        return AcquiredSnapshot(store.latest(source), "unchanged")
    return AcquiredSnapshot(manifest, "sample")


def acquire_snapshot(
    store: SnapshotStore,
    source: str,
    *,
    offline: bool,
    fetch: Callable[[SnapshotDraft], None],
    sample_groups: Callable[[], list[list[Path]]],
) -> AcquiredSnapshot:
    """Live: fetch into a draft (identical content creates nothing). Offline: the latest snapshot, else the
    bundled samples, each group a snapshot, the last the one staged."""
    if offline:
        latest = store.latest(source)
        if latest is not None:
            return AcquiredSnapshot(latest, "latest")
        acquired = None
        for files in sample_groups():
            acquired = register_sample(store, source, files)
        if acquired is None:
            raise FileNotFoundError(f"[{source}] no bundled sample files")
        return acquired
    with store.draft(source) as draft:
        fetch(draft)
        manifest = _commit(draft, source, "http")
    if manifest is None:
        return AcquiredSnapshot(store.latest(source), "unchanged")
    return AcquiredSnapshot(manifest, "fetched")


def commit_event_snapshot(store: SnapshotStore, draft: SnapshotDraft, source: str, origin: str) -> Manifest:
    """Commit an event-source draft, or reuse any earlier snapshot with the same content.

    Event sources keep many snapshots side by side (one per GDELT file, per ACLED window), so
    "unchanged" means equal to any of them, not only to the latest.
    """
    existing = store.find(source, draft.content())
    if existing is not None:
        draft.discard()
        return existing
    manifest = _commit(draft, source, origin)
    return manifest if manifest is not None else store.latest(source)


def register_event_sample(store: SnapshotStore, source: str, files: list[Path],
                          params: dict[str, dict] | None = None) -> Manifest:
    """One bundled sample group as an event snapshot (with per-file params, as a fetch records them); the same
    files again reuse their snapshot."""
    with store.draft(source) as draft:
        for path in files:
            draft.add_local_file(path, url=path.resolve().as_uri(), params=(params or {}).get(path.name))
        return commit_event_snapshot(store, draft, source, "sample")
