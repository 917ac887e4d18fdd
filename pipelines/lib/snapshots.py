"""Immutable raw snapshots: one directory per download, with a manifest saying where every byte came from.

The store lists and reads committed snapshots (snapshots.py); a download is assembled in a SnapshotDraft
(snapshot_draft.py) and described by its Manifest (snapshot_manifest.py).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from pipelines.lib.files import file_lock
from pipelines.lib.snapshot_draft import SnapshotDraft, file_validators
from pipelines.lib.snapshot_manifest import MANIFEST, Manifest, make_snapshot_id, plain_name

T = TypeVar("T")


# The one rule on bundled samples: they stand in only while a source has no real (fetched or imported) snapshot.
def prefer_real(items: list[T], origin: Callable[[T], str | None]) -> list[T]:
    """The items whose snapshot is not a bundled sample, or all of them when every one is a sample."""
    real = [item for item in items if origin(item) != "sample"]
    return real or items


def has_real(manifests: list[Manifest]) -> bool:
    """Whether any of a source's snapshots is real, so that its samples stand aside (prefer_real)."""
    return any(m.origin != "sample" for m in prefer_real(manifests, lambda m: m.origin))


class SnapshotStore:
    """Snapshots on disk: `root/<source>/<snapshot_id>/<file>` plus `manifest.json`."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def list(self, source: str | None = None) -> list[Manifest]:
        """All committed snapshots (of one source, or all), oldest first."""
        if source is not None:
            sources = [plain_name(source, "source")]
        elif self.root.is_dir():
            sources = sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        else:
            sources = []
        found = []
        for s in sources:
            base = self.root / s
            if not base.is_dir():
                continue
            for d in base.iterdir():
                if not d.name.startswith(".") and (d / MANIFEST).is_file():
                    found.append(Manifest.from_json((d / MANIFEST).read_text(encoding="utf-8")))
        return sorted(found, key=lambda m: (m.snapshot_id, m.source))

    def _ids(self, source: str) -> list[str]:
        """Committed snapshot ids of a source, oldest first, without reading any manifest (ids sort by time)."""
        base = self.root / plain_name(source, "source")
        if not base.is_dir():
            return []
        # A committed snapshot is a draft renamed into place whole, so any non-dot directory is one; the
        # directory entry's type needs no stat, which matters at tens of thousands of GDELT snapshots.
        with os.scandir(base) as entries:
            return sorted(e.name for e in entries if not e.name.startswith(".") and e.is_dir())

    def ids(self, source: str) -> list[str]:
        """Committed snapshot ids of a source, oldest first, without reading any manifest."""
        return self._ids(source)

    def latest(self, source: str) -> Manifest | None:
        """The newest snapshot of a source, or None (one manifest read, however many snapshots there are)."""
        ids = self._ids(source)
        return self.get(source, ids[-1]) if ids else None

    def get(self, source: str, snapshot_id: str) -> Manifest:
        """One snapshot's manifest; FileNotFoundError naming it when absent."""
        path = self.root / plain_name(source, "source") / plain_name(snapshot_id, "snapshot id") / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, f"no snapshot {source}/{snapshot_id}", str(path))
        return Manifest.from_json(path.read_text(encoding="utf-8"))

    def find(self, source: str, content: list[tuple[str, str]]) -> Manifest | None:
        """The newest snapshot of a source with exactly this content (event files arrive in any order).

        Ids end with a hash of their content, so only snapshots with the same suffix are read.
        """
        suffix = make_snapshot_id(datetime.now(timezone.utc), content).split("-", 1)[1]
        for snapshot_id in reversed(self._ids(source)):
            if snapshot_id.endswith(f"-{suffix}"):
                manifest = self.get(source, snapshot_id)
                if manifest.content() == sorted(content):
                    return manifest
        return None

    def dir_of(self, manifest: Manifest) -> Path:
        """The directory holding a snapshot."""
        return self.root / manifest.source / manifest.snapshot_id

    def file_path(self, manifest: Manifest, name: str) -> Path:
        """Where one file of a snapshot lives; KeyError if the manifest does not list it."""
        return self.dir_of(manifest) / manifest.file(name).name

    def draft(self, source: str) -> SnapshotDraft:
        """Start a new snapshot of a source (use as a context manager)."""
        return SnapshotDraft(self, source)

    def conditional_headers(self, source: str, name: str) -> tuple[str | None, str | None]:
        """(etag, last_modified) recorded for `name` in the latest snapshot, for a conditional GET."""
        return file_validators(self.latest(source), name)

    def import_files(
        self, source: str, files: list[Path], *, publisher: str, licence: str, licence_url: str, citation: str
    ) -> Manifest | None:
        """Snapshot files downloaded by hand; None when they equal the latest snapshot."""
        paths = [Path(f) for f in files]
        for p in paths:
            if not p.is_file():
                raise FileNotFoundError(errno.ENOENT, "no such file to import", str(p))
        with self.draft(source) as draft:
            for p in paths:
                draft.add_local_file(p, url=p.resolve().as_uri())
            return draft.commit("import", publisher, licence, licence_url, citation)

    @contextmanager
    def _locked(self, source: str) -> Iterator[None]:
        """Serialise commits of one source across processes (compare-with-latest, then rename)."""
        with file_lock(self.root / source / ".lock"):
            yield
