"""Immutable raw snapshots: one directory per download, with a manifest saying where every byte came from."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import logging
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from pipelines.lib.files import file_lock
from pipelines.lib.http import FetchResult

log = logging.getLogger("threatwatch.snapshots")

MANIFEST = "manifest.json"
ORIGINS = ("http", "import", "sample")
_ID_TIME = "%Y%m%dT%H%M%SZ"


@dataclass
class SnapshotFile:
    """One file of a snapshot and how it was obtained (http_status None for imports and samples)."""

    name: str
    url: str
    params: dict[str, Any]
    http_status: int | None
    etag: str | None
    last_modified: str | None
    bytes: int
    sha256: str
    content_type: str | None


@dataclass
class Manifest:
    """Everything needed to trace a snapshot back to its publisher, licence and bytes."""

    source: str
    snapshot_id: str
    origin: str
    retrieved_at: str
    publisher: str
    licence: str
    licence_url: str
    citation: str
    files: list[SnapshotFile] = field(default_factory=list)

    def to_json(self) -> str:
        """The manifest as stable JSON (sorted keys, indent 2)."""
        return json.dumps(asdict(self), sort_keys=True, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Read a manifest written by to_json."""
        data = json.loads(text)
        files = [SnapshotFile(**f) for f in data.pop("files")]
        return cls(**data, files=files)

    def file(self, name: str) -> SnapshotFile:
        """The record of one file; KeyError naming the snapshot when absent."""
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(f"snapshot {self.source}/{self.snapshot_id} has no file {name!r}")

    def content(self) -> list[tuple[str, str]]:
        """The sorted (name, sha256) pairs that identify this snapshot's content."""
        return sorted((f.name, f.sha256) for f in self.files)


def make_snapshot_id(when: datetime, content: list[tuple[str, str]]) -> str:
    """`<UTC yyyymmddThhmmssZ>-<10 hex of sha256 over sorted (name, sha256)>`: time-sortable, content-addressed."""
    digest = hashlib.sha256("".join(f"{n}\t{h}\n" for n, h in sorted(content)).encode()).hexdigest()
    return f"{when.astimezone(timezone.utc).strftime(_ID_TIME)}-{digest[:10]}"


T = TypeVar("T")


# The one rule on bundled samples: they stand in only while a source has no real (fetched or imported) snapshot.
def prefer_real(items: list[T], origin: Callable[[T], str | None]) -> list[T]:
    """The items whose snapshot is not a bundled sample, or all of them when every one is a sample."""
    real = [item for item in items if origin(item) != "sample"]
    return real or items


def has_real(manifests: list[Manifest]) -> bool:
    """Whether any of a source's snapshots is real, so that its samples stand aside (prefer_real)."""
    return any(m.origin != "sample" for m in prefer_real(manifests, lambda m: m.origin))


def _plain_name(name: str, what: str = "file name") -> str:
    """Reject anything but a plain base name (no separators, no dot-names, which the store reserves)."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\0" in name or name == MANIFEST:
        raise ValueError(f"invalid {what} {name!r}: must be a plain base name")
    return name


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SnapshotDraft:
    """A snapshot being assembled in `root/<source>/.draft-*`; commit() publishes it, an exception discards it."""

    def __init__(self, store: SnapshotStore, source: str):
        self.store = store
        self.source = _plain_name(source, "source")
        self.started = datetime.now(timezone.utc)
        self.base = store.latest(source)  # what reuse_previous and conditional_headers refer to
        (store.root / source).mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=".draft-", dir=store.root / source))
        self._files: dict[str, SnapshotFile] = {}
        self._open = True

    def __enter__(self) -> SnapshotDraft:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._open and self._files and exc_type is None:
            log.warning("snapshot draft for %s left without commit; discarding %d files", self.source, len(self._files))
        self.discard()

    def discard(self) -> None:
        """Remove the draft directory; nothing of it reaches the store."""
        shutil.rmtree(self.dir, ignore_errors=True)
        self._open = False

    def dest(self, name: str) -> Path:
        """Where a fetch of `name` should stream to."""
        if not self._open:
            raise RuntimeError(f"snapshot draft for {self.source} is closed")
        if _plain_name(name) in self._files:
            raise ValueError(f"file {name!r} is already in the draft for {self.source}")
        return self.dir / name

    def conditional_headers(self, name: str) -> tuple[str | None, str | None]:
        """(etag, last_modified) of `name` in the snapshot this draft started from."""
        return _validators(self.base, name)

    def add_fetched(self, result: FetchResult, name: str) -> SnapshotFile:
        """Record a downloaded file (copied in if it was not streamed to dest(name))."""
        if result.status != 200 or result.path is None or result.sha256 is None:
            raise ValueError(f"{name!r}: a {result.status} response has no body; use reuse_previous")
        target = self.dest(name)
        if result.path.resolve() != target.resolve():
            shutil.copyfile(result.path, target)
        record = SnapshotFile(
            name=name, url=result.url, params=dict(result.params), http_status=result.status, etag=result.etag,
            last_modified=result.last_modified, bytes=result.bytes, sha256=result.sha256,
            content_type=result.content_type,
        )
        self._files[name] = record
        return record

    def reuse_previous(self, name: str) -> SnapshotFile:
        """After a 304: take `name` and its record from the snapshot this draft started from."""
        target = self.dest(name)
        if self.base is None:
            raise ValueError(f"{name!r}: no previous {self.source} snapshot to reuse")
        record = dataclasses.replace(self.base.file(name))
        source = self.store.file_path(self.base, name)
        try:
            os.link(source, target)  # same bytes, no copy; both are read-only
        except OSError:
            shutil.copyfile(source, target)
        self._files[name] = record
        return record

    def add_local_file(self, path: Path, url: str, name: str | None = None,
                       params: dict | None = None) -> SnapshotFile:
        """Copy in a file from disk (import or sample); url says where it came from, params what it was asked."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, "no such file to add to the snapshot", str(path))
        name = name or path.name
        target = self.dest(name)
        digest, size = hashlib.sha256(), 0
        with path.open("rb") as src, target.open("wb") as out:
            while chunk := src.read(1 << 16):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        record = SnapshotFile(
            name=name, url=url, params=dict(params or {}), http_status=None, etag=None, last_modified=None, bytes=size,
            sha256=digest.hexdigest(), content_type=mimetypes.guess_type(name)[0],
        )
        self._files[name] = record
        return record

    def content(self) -> list[tuple[str, str]]:
        """(name, sha256) of the files recorded so far, sorted: what a commit would compare."""
        return sorted((f.name, f.sha256) for f in self._files.values())

    def commit(self, origin: str, publisher: str, licence: str, licence_url: str, citation: str) -> Manifest | None:
        """Publish the draft; None (and nothing written) when its content equals the latest snapshot's."""
        if not self._open:
            raise RuntimeError(f"snapshot draft for {self.source} is closed")
        if origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, got {origin!r}")
        if not self._files:
            raise ValueError(f"snapshot draft for {self.source} has no files")
        stray = sorted({p.name for p in self.dir.iterdir()} - set(self._files))
        if stray:
            raise ValueError(f"files in the {self.source} draft were never recorded: {stray}")
        files = [self._files[n] for n in sorted(self._files)]
        content = sorted((f.name, f.sha256) for f in files)
        with self.store._locked(self.source):
            latest = self.store.latest(self.source)
            if latest is not None and latest.content() == content:
                self.discard()
                return None
            when = self.started
            if latest is not None:  # keep ids strictly increasing even for two commits in one second
                prev = datetime.strptime(latest.snapshot_id.split("-")[0], _ID_TIME).replace(tzinfo=timezone.utc)
                when = max(when, prev + timedelta(seconds=1))
            manifest = Manifest(
                source=self.source, snapshot_id=make_snapshot_id(when, content), origin=origin,
                retrieved_at=_iso(self.started), publisher=publisher, licence=licence, licence_url=licence_url,
                citation=citation, files=files,
            )
            (self.dir / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
            for p in self.dir.iterdir():
                p.chmod(0o444)  # a signal, not a guarantee: snapshots are never edited in place
            final = self.store.dir_of(manifest)
            try:
                os.rename(self.dir, final)
            except OSError:
                if not (final / MANIFEST).is_file():
                    raise
                self.discard()  # another process committed the same id first
                return self.store.get(self.source, manifest.snapshot_id)
        self._open = False
        return manifest


def _validators(manifest: Manifest | None, name: str) -> tuple[str | None, str | None]:
    """(etag, last_modified) of one file in a manifest, (None, None) when unknown."""
    if manifest is None:
        return None, None
    try:
        record = manifest.file(name)
    except KeyError:
        return None, None
    return record.etag, record.last_modified


class SnapshotStore:
    """Snapshots on disk: `root/<source>/<snapshot_id>/<file>` plus `manifest.json`."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def list(self, source: str | None = None) -> list[Manifest]:
        """All committed snapshots (of one source, or all), oldest first."""
        if source is not None:
            sources = [_plain_name(source, "source")]
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
        base = self.root / _plain_name(source, "source")
        if not base.is_dir():
            return []
        # A committed snapshot is a draft renamed into place whole, so any non-dot directory is one; the
        # directory entry's type needs no stat, which matters at tens of thousands of GDELT snapshots.
        with os.scandir(base) as entries:
            return sorted(e.name for e in entries if not e.name.startswith(".") and e.is_dir())

    def latest(self, source: str) -> Manifest | None:
        """The newest snapshot of a source, or None (one manifest read, however many snapshots there are)."""
        ids = self._ids(source)
        return self.get(source, ids[-1]) if ids else None

    def get(self, source: str, snapshot_id: str) -> Manifest:
        """One snapshot's manifest; FileNotFoundError naming it when absent."""
        path = self.root / _plain_name(source, "source") / _plain_name(snapshot_id, "snapshot id") / MANIFEST
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
        return _validators(self.latest(source), name)

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
