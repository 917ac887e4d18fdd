"""Publishers' zips, checked before and while they are unpacked: the one zip reader every source uses.

Before decompressing anything the central directory is checked: member names must stay inside the archive
(no `..` part, no absolute or drive path, no backslash; single-member zips allow no directory at all), no
encryption, no unknown compression method, each declared size under a cap, the declared sizes together under
a cap, and each declared compression ratio under a bound (deflate on text gives ~5-15x, zeros ~1000x). While
decompressing, a member stops as soon as its stream passes its declared size, so a lying header cannot
inflate past the cap either. GDELT and UCDP ship one member per zip (`unzip_single_member`), World Bank bulk
zips several (`read_zip_members`), and .xlsx workbooks are zips an Excel reader inflates (`check_zip_container`).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from transforms.errors import SourceFormatError

_CHUNK = 1024 * 1024
_ABSOLUTE = re.compile(r"^([/\\]|[A-Za-z]:)")


@dataclass(frozen=True)
class ZipLimits:
    """What a zip may declare: bytes per member and in total once unpacked, and the compression ratio."""

    max_member_bytes: int
    max_total_bytes: int
    max_ratio: float = 100.0
    max_members: int = 10_000


# A publisher's .xlsx holds a few MB of XML at 5-30x compression; the caps only stop what no workbook could be.
WORKBOOK_LIMITS = ZipLimits(max_member_bytes=256 * 1024**2, max_total_bytes=512 * 1024**2, max_ratio=100.0)


def _refuser(source: str, file: str) -> Callable[[str], SourceFormatError]:
    return lambda problem: SourceFormatError(source, file, problem)


def _open(archive: Path | bytes, refuse: Callable[[str], SourceFormatError]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(archive) if isinstance(archive, bytes) else archive)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise refuse(f"not a readable zip file ({e})") from e


def _unsafe_name(name: str, *, plain: bool) -> bool:
    """A name that could write outside the folder it is unpacked in (or, when `plain`, into a subfolder)."""
    if "\\" in name or _ABSOLUTE.match(name) or ".." in name.split("/"):
        return True
    return plain and "/" in name


def checked_members(archive: zipfile.ZipFile, source: str, file: str, limits: ZipLimits,
                    *, plain_names: bool = False) -> list[zipfile.ZipInfo]:
    """The archive's members, after refusing unsafe names, encryption, odd methods and bomb-like sizes."""
    refuse = _refuser(source, file)
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise refuse(f"{len(members)} members, over the bound of {limits.max_members} (refused)")
    total = 0
    for info in members:
        name = info.filename
        if _unsafe_name(name, plain=plain_names):
            raise refuse(f"member name {name!r} has a directory part, '..' or an absolute path (refused)")
        if info.flag_bits & 0x1:
            raise refuse(f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refuse(f"member {name!r} uses unsupported compression method {info.compress_type}")
        if info.file_size > limits.max_member_bytes:
            raise refuse(f"member {name!r} declares {info.file_size} bytes uncompressed, over the cap of "
                         f"{limits.max_member_bytes} (refused before decompressing)")
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_ratio:
            raise refuse(f"member {name!r} declares a compression ratio of {ratio:.0f}:1, over the bound of "
                         f"{limits.max_ratio:.0f}:1 (zip bomb? refused before decompressing)")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise refuse(f"members declare {total}+ bytes uncompressed together, over the cap of "
                         f"{limits.max_total_bytes} (refused before decompressing)")
    return members


def stream_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, write: Callable[[bytes], object],
                  source: str, file: str) -> None:
    """Decompress one checked member to `write`, stopping the moment it passes its declared size."""
    refuse, name, total = _refuser(source, file), info.filename, 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                if total > info.file_size:
                    raise refuse(f"member {name!r} decompresses past its declared size of {info.file_size} bytes "
                                 "(refused)")
                write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise refuse(f"member {name!r} is corrupt ({e})") from e
    if total != info.file_size:
        raise refuse(f"member {name!r} gave {total} bytes, its header declares {info.file_size}")


def unzip_single_member(
    path: Path,
    member_pattern: str,
    write: Callable[[bytes], object],
    *,
    source: str,
    expected_member: str | None = None,
    max_uncompressed_bytes: int,
    max_ratio: float = 100.0,
) -> str:
    """Stream a zip's one member to `write` and return its name, refusing traversal, bombs and lying headers."""
    path = Path(path)
    refuse = _refuser(source, path.name)
    with _open(path, refuse) as archive:
        members = archive.infolist()
        if len(members) != 1:
            raise refuse(f"expected exactly one member, found {len(members)}: {[m.filename for m in members][:5]}")
        limits = ZipLimits(max_uncompressed_bytes, max_uncompressed_bytes, max_ratio, max_members=1)
        (info,) = checked_members(archive, source, path.name, limits, plain_names=True)
        name = info.filename
        if not re.fullmatch(member_pattern, name) or (expected_member is not None and name != expected_member):
            raise refuse(f"member name {name!r} is not the expected {expected_member or member_pattern!r}")
        stream_member(archive, info, write, source, path.name)
    return name


def read_zip_members(path: Path, *, source: str, limits: ZipLimits,
                     skip: Callable[[zipfile.ZipInfo], bool] = lambda info: False) -> list[tuple[str, bytes]]:
    """(name, bytes) of every file member not skipped; the whole directory is checked before any is read."""
    path = Path(path)
    with _open(path, _refuser(source, path.name)) as archive:
        members = [i for i in checked_members(archive, source, path.name, limits) if not i.is_dir() and not skip(i)]
        out = []
        for info in members:
            chunks: list[bytes] = []
            stream_member(archive, info, chunks.append, source, f"{path.name}!{info.filename}")
            out.append((info.filename, b"".join(chunks)))
    return out


def check_zip_container(raw: Path | bytes, *, source: str, file: str, limits: ZipLimits) -> None:
    """Refuse a zip-based file (an .xlsx workbook) whose directory is unsafe or a bomb, before a reader inflates it."""
    with _open(raw, _refuser(source, file)) as archive:
        checked_members(archive, source, file, limits)
