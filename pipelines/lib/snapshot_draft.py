"""A snapshot being assembled: files stream into a hidden draft folder, and a commit renames it into the store whole."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import logging
import mimetypes
import os
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.lib.http import FetchResult
from pipelines.lib.snapshot_manifest import (
    ID_TIME,
    MANIFEST,
    ORIGINS,
    Manifest,
    SnapshotFile,
    iso_utc,
    make_snapshot_id,
    plain_name,
)

if TYPE_CHECKING:
    from pipelines.lib.snapshots import SnapshotStore

log = logging.getLogger("threatwatch.snapshots")


class SnapshotDraft:
    """A snapshot being assembled in `root/<source>/.draft-*`; commit() publishes it, an exception discards it."""

    def __init__(self, store: SnapshotStore, source: str):
        self.store = store
        self.source = plain_name(source, "source")
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
        if plain_name(name) in self._files:
            raise ValueError(f"file {name!r} is already in the draft for {self.source}")
        return self.dir / name

    def conditional_headers(self, name: str) -> tuple[str | None, str | None]:
        """(etag, last_modified) of `name` in the snapshot this draft started from."""
        return file_validators(self.base, name)

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
                prev = datetime.strptime(latest.snapshot_id.split("-")[0], ID_TIME).replace(tzinfo=timezone.utc)
                when = max(when, prev + timedelta(seconds=1))
            manifest = Manifest(
                source=self.source, snapshot_id=make_snapshot_id(when, content), origin=origin,
                retrieved_at=iso_utc(self.started), publisher=publisher, licence=licence, licence_url=licence_url,
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


def file_validators(manifest: Manifest | None, name: str) -> tuple[str | None, str | None]:
    """(etag, last_modified) of one file in a manifest, (None, None) when unknown."""
    if manifest is None:
        return None, None
    try:
        record = manifest.file(name)
    except KeyError:
        return None, None
    return record.etag, record.last_modified
