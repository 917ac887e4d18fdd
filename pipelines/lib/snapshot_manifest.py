"""A snapshot's manifest: every file with the URL, parameters, HTTP validators and sha256 it came with, and the id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

MANIFEST = "manifest.json"
ORIGINS = ("http", "import", "sample")
ID_TIME = "%Y%m%dT%H%M%SZ"


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
    return f"{when.astimezone(timezone.utc).strftime(ID_TIME)}-{digest[:10]}"


def plain_name(name: str, what: str = "file name") -> str:
    """Reject anything but a plain base name (no separators, no dot-names, which the store reserves)."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\0" in name or name == MANIFEST:
        raise ValueError(f"invalid {what} {name!r}: must be a plain base name")
    return name


def iso_utc(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
