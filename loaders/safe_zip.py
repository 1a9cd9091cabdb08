"""Open zip archives we were handed (KMZ, zipped shapefiles) without trusting them."""
from __future__ import annotations

import io
import zipfile
import zlib
from typing import IO

from i18n import Message, Text
from loaders.errors import ImportFileError, UnsafeFileError

MAX_MEMBER_BYTES = 200 * 1024 * 1024
"""Largest uncompressed member we read (bytes); more is refused as a possible zip bomb."""
MAX_RATIO = 200
"""Largest uncompressed/compressed ratio accepted for a member over `RATIO_FLOOR_BYTES`."""
RATIO_FLOOR_BYTES = 10 * 1024 * 1024
MAX_MEMBERS = 10_000
_MB = 1024 * 1024
"""Most entries an archive may list."""

_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)


def open_zip(data: bytes, source_file: str, *, what: str = Text("zip archive"), hint: str = "") -> zipfile.ZipFile:
    """Open `data` as a zip and refuse unsafe member names and absurd entry counts.

    Parameters
    ----------
    data
        The archive bytes (kept in memory; nothing is extracted to disk).
    source_file
        File name used in messages.
    what
        What the archive should be, for messages ("KMZ (a zip holding doc.kml)").
    hint
        Extra advice appended to the "not a zip" message.

    Raises
    ------
    ImportFileError
        Empty data or not a zip archive.
    UnsafeFileError
        A member name is absolute or climbs out with ``..``, or there are too many entries.
    """
    if not data:
        raise ImportFileError(Message("{file}: the file is empty (0 bytes). Export or download it again.",
                                      file=source_file))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        if hint:
            raise ImportFileError(Message("{file}: not a readable {what} ({reason}). {hint}", file=source_file,
                                          what=what, reason=str(exc), hint=hint)) from None
        raise ImportFileError(Message("{file}: not a readable {what} ({reason}).", file=source_file, what=what,
                                      reason=str(exc))) from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise UnsafeFileError(Message(
            "{file}: the archive lists {count} entries (more than {limit}); it was refused as unsafe. Export "
            "the map again.", file=source_file, count=len(infos), limit=MAX_MEMBERS))
    for info in infos:
        problem = unsafe_name(info.filename)
        if problem:
            raise UnsafeFileError(Message(
                "{file}: the archive entry '{entry}' {problem}, which a genuine export never contains; the file "
                "was refused as unsafe. Export the map again from its source.", file=source_file,
                entry=info.filename[:200], problem=problem))
    return archive


def unsafe_name(name: str) -> str | None:
    """Return why a member name is unsafe (absolute path, ``..``, drive letter), or None."""
    normalised = name.replace("\\", "/")
    if normalised.startswith("/"):
        return Text("is an absolute path")
    if len(normalised) >= 2 and normalised[1] == ":" and normalised[0].isalpha():
        return Text("starts with a drive letter")
    if any(part == ".." for part in normalised.split("/")):
        return Text("climbs out of the archive with '..'")
    if "\x00" in name:
        return Text("contains a NUL character")
    return None


def check_member_size(info: zipfile.ZipInfo, source_file: str, *, max_bytes: int = MAX_MEMBER_BYTES) -> None:
    """Refuse a member whose declared size or compression ratio looks like a zip bomb."""
    if info.file_size > max_bytes:
        raise UnsafeFileError(Message(
            "{file}: '{entry}' would unpack to {size:.0f} MB (limit {limit:.0f} MB); it was refused as a "
            "possible zip bomb. Split the map into smaller exports (one layer at a time).", file=source_file,
            entry=info.filename, size=info.file_size / _MB, limit=max_bytes / _MB))
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise UnsafeFileError(Message(
            "{file}: '{entry}' is compressed {ratio:.0f}:1 (limit {limit}:1); it was refused as a possible "
            "zip bomb. Export the map again.", file=source_file, entry=info.filename,
            ratio=info.file_size / max(info.compress_size, 1), limit=MAX_RATIO))


class _CappedReader(io.RawIOBase):
    """A read-only stream over one member that stops a decompression past a byte limit."""

    def __init__(self, stream: IO[bytes], info: zipfile.ZipInfo, source_file: str, limit: int):
        self._stream = stream
        self._info = info
        self._source_file = source_file
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        want = self._limit + 1 - self._read if size is None or size < 0 else min(size, self._limit + 1 - self._read)
        try:
            chunk = self._stream.read(max(want, 1))
        except _READ_ERRORS as exc:
            raise ImportFileError(Message(
                "{file}: '{entry}' cannot be unpacked ({reason}). The archive is damaged or encrypted; "
                "export it again.", file=self._source_file, entry=self._info.filename, reason=str(exc))) from None
        self._read += len(chunk)
        if self._read > self._limit:
            raise UnsafeFileError(Message(
                "{file}: '{entry}' unpacks to more than {limit:.0f} MB although the archive declares "
                "{declared:.1f} MB; it was refused as a possible zip bomb. Export the map again.",
                file=self._source_file, entry=self._info.filename, limit=self._limit / _MB,
                declared=self._info.file_size / _MB))
        return chunk

    def readinto(self, buffer) -> int:  # type: ignore[override]
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._stream.close()
        super().close()


def open_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, source_file: str, *, max_bytes: int = MAX_MEMBER_BYTES
) -> IO[bytes]:
    """Open one member as a stream that refuses to unpack more than declared (and `max_bytes`).

    The declared size is checked first (`check_member_size`); then the actual bytes are
    counted while decompressing, so a forged directory entry cannot smuggle a bomb.
    """
    check_member_size(info, source_file, max_bytes=max_bytes)
    try:
        stream = archive.open(info)
    except _READ_ERRORS as exc:
        raise ImportFileError(Message(
            "{file}: '{entry}' cannot be opened ({reason}). The archive is damaged or encrypted; export it again.",
            file=source_file, entry=info.filename, reason=str(exc))) from None
    return _CappedReader(stream, info, source_file, min(info.file_size, max_bytes))


def read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, source_file: str, *, max_bytes: int = MAX_MEMBER_BYTES
) -> bytes:
    """Read one whole member with the same limits as `open_member`."""
    with open_member(archive, info, source_file, max_bytes=max_bytes) as stream:
        parts = []
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)
