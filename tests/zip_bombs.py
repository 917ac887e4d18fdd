"""Hostile zips for tests: small on disk, huge once inflated, or with lying headers; built without inflating."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

_BLOCK = 1024 * 1024


def deflated_zeros(size: int) -> bytes:
    """A raw deflate stream of `size` zero bytes, ~1 KB per MB: one fully flushed block repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(_BLOCK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(size, _BLOCK)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    return block * whole + tail.compress(bytes(rest)) + tail.flush()


def write_zip(path: Path, members: list[tuple[str, bytes, int]]) -> Path:
    """A zip of (name, raw deflate data, declared uncompressed size) members; the CRC is not computed."""
    local, central = bytearray(), bytearray()
    for name, data, declared in members:
        encoded = name.encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, 0, len(data), declared, len(encoded), 0)
        local += encoded + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, 0, len(data), declared,
                               len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def zip_bomb(path: Path, member: str, size: int, declared: int | None = None) -> Path:
    """One member of `size` zeros; its header declares `declared` bytes (the truth when None)."""
    return write_zip(path, [(member, deflated_zeros(size), size if declared is None else declared)])
