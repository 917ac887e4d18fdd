"""One member out of a published zip, checked before and while it is unpacked.

Publishers ship one file per zip (GDELT exports, UCDP releases). Before decompressing anything this refuses
more or fewer than one member, a member name with a directory part, `..` or an absolute path, a name other
than the expected one, encryption, an unknown compression method, a declared size over the cap, or a declared
compression ratio over a sane bound (deflate on text gives ~5-15x; zeros give ~1000x); while decompressing it
stops as soon as the stream passes the declared size, so a lying header cannot inflate past the cap either.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Callable

from transforms.errors import SourceFormatError

_CHUNK = 1024 * 1024


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

    def refuse(problem: str) -> SourceFormatError:
        return SourceFormatError(source, path.name, problem)

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise refuse(f"not a readable zip file ({e})") from e
    with archive:
        members = archive.infolist()
        if len(members) != 1:
            raise refuse(f"expected exactly one member, found {len(members)}: {[m.filename for m in members][:5]}")
        info = members[0]
        name = info.filename
        if "/" in name or "\\" in name or ".." in name or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
            raise refuse(f"member name {name!r} has a directory part, '..' or an absolute path (refused)")
        if not re.fullmatch(member_pattern, name) or (expected_member is not None and name != expected_member):
            wanted = expected_member or member_pattern
            raise refuse(f"member name {name!r} is not the expected {wanted!r}")
        if info.flag_bits & 0x1:
            raise refuse(f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refuse(f"member {name!r} uses unsupported compression method {info.compress_type}")
        if info.file_size > max_uncompressed_bytes:
            raise refuse(
                f"member {name!r} declares {info.file_size} bytes uncompressed, over the cap of "
                f"{max_uncompressed_bytes} (refused before decompressing)"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > max_ratio:
            raise refuse(
                f"member {name!r} declares a compression ratio of {ratio:.0f}:1, over the bound of "
                f"{max_ratio:.0f}:1 (zip bomb? refused before decompressing)"
            )
        limit = min(info.file_size, max_uncompressed_bytes)
        total = 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise refuse(
                            f"member {name!r} decompresses past its declared size of {info.file_size} bytes (refused)"
                        )
                    write(chunk)
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise refuse(f"member {name!r} is corrupt ({e})") from e
        if total != info.file_size:
            raise refuse(f"member {name!r} gave {total} bytes, its header declares {info.file_size}")
    return name
