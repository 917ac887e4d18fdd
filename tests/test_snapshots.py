"""The snapshot store: manifests, content addressing, no-op commits, drafts, immutability."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipelines.lib.http import FetchResult
from pipelines.lib.snapshot_manifest import Manifest, make_snapshot_id
from pipelines.lib.snapshots import SnapshotStore

TERMS = dict(publisher="Pub", licence="CC BY 4.0", licence_url="https://example.org/licence", citation="Pub (2026)")


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "snapshots")


def _file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / "downloads" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def _fetched(path: Path, etag: str) -> FetchResult:
    data = path.read_bytes()
    return FetchResult(
        source="src", url="https://example.org/x.zip?downloadformat=csv", params={"downloadformat": "csv"}, status=200,
        path=path, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), etag=etag,
        last_modified="Tue, 01 Jul 2025 00:00:00 GMT", content_type="application/zip", retrieved_at="2026-01-01T00:00:00Z",
    )


def _entries(store: SnapshotStore, source: str) -> list[str]:
    """What sits in a source's directory, minus the commit lock."""
    return sorted(p.name for p in (store.root / source).iterdir() if p.name != ".lock")


def test_import_writes_a_traceable_manifest(store: SnapshotStore, tmp_path: Path) -> None:
    src = _file(tmp_path, "data.csv", b"a,b\n1,2\n")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    m = store.import_files("src", [src], **TERMS)
    assert m is not None and m.origin == "import" and m.publisher == "Pub" and m.licence == "CC BY 4.0"
    (f,) = m.files
    sha = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert (f.name, f.sha256, f.bytes, f.url, f.http_status) == ("data.csv", sha, 8, src.resolve().as_uri(), None)
    assert store.file_path(m, "data.csv").read_bytes() == b"a,b\n1,2\n"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m.retrieved_at)
    assert datetime.strptime(m.retrieved_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) >= before
    expected_hash = hashlib.sha256(f"data.csv\t{sha}\n".encode()).hexdigest()[:10]
    assert re.fullmatch(rf"\d{{8}}T\d{{6}}Z-{expected_hash}", m.snapshot_id)
    text = (store.dir_of(m) / "manifest.json").read_text()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert Manifest.from_json(text) == m == store.get("src", m.snapshot_id)


def test_snapshot_id_is_content_addressed_and_order_free() -> None:
    when = datetime(2026, 3, 1, 12, 30, 5, tzinfo=timezone.utc)
    a = make_snapshot_id(when, [("b", "2"), ("a", "1")])
    assert a == make_snapshot_id(when, [("a", "1"), ("b", "2")])
    assert a.startswith("20260301T123005Z-") and a != make_snapshot_id(when, [("a", "1"), ("b", "3")])


def test_importing_identical_content_creates_nothing(store: SnapshotStore, tmp_path: Path) -> None:
    first = store.import_files("src", [_file(tmp_path, "data.csv", b"v1")], **TERMS)
    assert store.import_files("src", [_file(tmp_path, "data.csv", b"v1")], **TERMS) is None
    assert store.list("src") == [first] and _entries(store, "src") == [first.snapshot_id]


def test_changed_content_creates_a_later_snapshot(store: SnapshotStore, tmp_path: Path) -> None:
    ids = []
    for version in (b"v1", b"v2", b"v3"):  # all within one second: ids must still sort in commit order
        ids.append(store.import_files("src", [_file(tmp_path, "data.csv", version)], **TERMS).snapshot_id)
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [m.snapshot_id for m in store.list("src")] == ids
    assert store.latest("src").snapshot_id == ids[-1]
    assert store.file_path(store.get("src", ids[0]), "data.csv").read_bytes() == b"v1"
    other = store.import_files("other", [_file(tmp_path, "o.csv", b"x")], **TERMS)
    assert {m.source for m in store.list()} == {"src", "other"} and store.latest("other") == other
    assert store.latest("missing") is None and store.list("missing") == []


def test_files_are_read_only(store: SnapshotStore, tmp_path: Path) -> None:
    m = store.import_files("src", [_file(tmp_path, "a.csv", b"1"), _file(tmp_path, "b.csv", b"2")], **TERMS)
    for p in store.dir_of(m).iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o444, p.name


def test_failing_draft_leaves_nothing(store: SnapshotStore, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="mid-fetch"):
        with store.draft("src") as draft:
            draft.add_local_file(_file(tmp_path, "a.csv", b"1"), url="https://example.org/a.csv")
            assert draft.dir.name.startswith(".draft-") and draft.dir.is_dir()
            raise RuntimeError("mid-fetch")
    assert _entries(store, "src") == [] and store.list("src") == []


@pytest.mark.parametrize("name", ["", "..", ".", "../x", "a/b", "a\\b", ".hidden", "manifest.json"])
def test_bad_file_names_are_rejected(store: SnapshotStore, name: str) -> None:
    with store.draft("src") as draft:
        with pytest.raises(ValueError, match="plain base name"):
            draft.dest(name)


def test_bad_source_names_are_rejected(store: SnapshotStore) -> None:
    with pytest.raises(ValueError, match="invalid source"):
        store.draft("../escape")


def test_missing_import_file_is_named(store: SnapshotStore, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        store.import_files("src", [tmp_path / "nope.csv"], **TERMS)
    assert store.list() == []


def test_reuse_previous_after_304(store: SnapshotStore) -> None:
    with store.draft("src") as draft:
        (zip_path := draft.dest("x.zip")).write_bytes(b"PK\x03\x04zip-v1")
        draft.add_fetched(_fetched(zip_path, '"e1"'), "x.zip")
        (notes := draft.dest("notes.txt")).write_bytes(b"n1")
        draft.add_fetched(_fetched(notes, '"n1"'), "notes.txt")
        first = draft.commit("http", **TERMS)
    assert store.conditional_headers("src", "x.zip") == ('"e1"', "Tue, 01 Jul 2025 00:00:00 GMT")
    assert store.conditional_headers("src", "absent") == (None, None)

    with store.draft("src") as draft:  # both 304: nothing new
        assert draft.conditional_headers("x.zip")[0] == '"e1"'
        draft.reuse_previous("x.zip")
        draft.reuse_previous("notes.txt")
        assert draft.commit("http", **TERMS) is None
    assert store.list("src") == [first]

    with store.draft("src") as draft:  # one 304, one changed
        draft.reuse_previous("x.zip")
        (notes := draft.dest("notes.txt")).write_bytes(b"n2")
        draft.add_fetched(_fetched(notes, '"n2"'), "notes.txt")
        second = draft.commit("http", **TERMS)
    assert second is not None and second.snapshot_id > first.snapshot_id
    assert second.file("x.zip") == first.file("x.zip")
    assert store.file_path(second, "x.zip").read_bytes() == b"PK\x03\x04zip-v1"
    assert second.file("notes.txt").etag == '"n2"'


def test_a_304_result_cannot_be_added_and_strays_block_commit(store: SnapshotStore, tmp_path: Path) -> None:
    with store.draft("src") as draft:
        not_modified = FetchResult("src", "u", {}, 304, None, 0, None, '"e"', None, None, "2026-01-01T00:00:00Z")
        with pytest.raises(ValueError, match="reuse_previous"):
            draft.add_fetched(not_modified, "x.zip")
        with pytest.raises(ValueError, match="no previous"):
            draft.reuse_previous("x.zip")
        draft.dest("orphan.json").write_text("{}")
        draft.add_local_file(_file(tmp_path, "a.csv", b"1"), url="file:///a.csv")
        with pytest.raises(ValueError, match="orphan.json"):
            draft.commit("http", **TERMS)


def _import_in_child(root: str, path: str) -> None:
    SnapshotStore(Path(root)).import_files("src", [Path(path)], **TERMS)


def test_concurrent_identical_imports_make_one_snapshot(store: SnapshotStore, tmp_path: Path) -> None:
    src = _file(tmp_path, "data.csv", b"same bytes")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_import_in_child, args=(str(store.root), str(src))) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(10)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert len(store.list("src")) == 1 and len(_entries(store, "src")) == 1


def test_an_event_snapshot_equal_to_any_earlier_one_is_reused(store: SnapshotStore, tmp_path: Path) -> None:
    from pipelines.lib.acquire import commit_event_snapshot

    first = store.import_files("gdelt", [_file(tmp_path, "a.export.CSV", b"one")], **TERMS)
    second = store.import_files("gdelt", [_file(tmp_path, "b.export.CSV", b"two")], **TERMS)
    assert store.latest("gdelt") == second
    assert store.find("gdelt", first.content()) == first  # not the latest, still found by its content
    assert store.find("gdelt", [("a.export.CSV", hashlib.sha256(b"other").hexdigest())]) is None
    with store.draft("gdelt") as draft:
        draft.add_local_file(_file(tmp_path, "a.export.CSV", b"one"), url="file:///a")
        assert commit_event_snapshot(store, draft, "gdelt", "sample") == first
    assert [m.snapshot_id for m in store.list("gdelt")] == [first.snapshot_id, second.snapshot_id]
