"""Blob storage: uploads and stored audio, addressed by key, never by a path saved anywhere.

A key is an opaque string such as ``audio/<transcript id>``: what it names is decided here
(``transcript_audio_key``), and any process that has the store can read it — a worker on another
machine included, once the store is a shared one. ``LocalBlobStore`` keeps blobs in a directory;
an S3-compatible store implements the same few methods.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlparse
from urllib.request import url2pathname

# Segments of letters, digits, '.', '_' and '-' joined by '/', none starting with '.' (so no '..'
# and no staging file can be named): safe as a relative file path and as an S3 key.
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
_CHUNK = 1024 * 1024


class BlobNotFound(LookupError):
    def __init__(self, key: str):
        super().__init__(f"No stored blob '{key}'.")
        self.key = key


class InvalidBlobKey(ValueError):
    pass


def transcript_audio_key(transcript_id: str) -> str:
    """Where a transcript's audio lives: from upload until it is deleted (or the job ends, for
    callers who keep nothing)."""
    return f"audio/{transcript_id}"


class BlobStore(Protocol):
    def put(self, key: str, stream: BinaryIO) -> int:
        """Store the stream's bytes (read to its end) under ``key``; returns their size."""
        ...

    def put_file(self, key: str, path: Path) -> int:
        """Store a local file under ``key`` and take it over: ``path`` is gone afterwards."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The blob for reading (``BlobNotFound`` if there is none)."""
        ...

    def open_range(self, key: str, start: int, stop: int) -> BinaryIO:
        """Bytes ``start`` (inclusive) to ``stop`` (exclusive) of the blob, for HTTP range
        requests: a stream that yields at least those bytes (a local file is simply positioned
        at ``start``; an S3 store asks for ``Range: bytes=start-(stop-1)``). The caller reads no
        more than ``stop - start`` bytes. ``BlobNotFound`` if there is none."""
        ...

    def local_path(self, key: str) -> AbstractContextManager[Path]:
        """A local file with the blob's bytes, for decoders that need a path: the blob itself
        for a local store, a temporary download (removed on exit) for a remote one."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; a missing one is not an error."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...


class LocalBlobStore:
    """Blobs as files under ``root``: the key is the relative path. Writes land in a temporary
    file beside their target and are renamed into place, so a reader never sees half a blob."""

    def __init__(self, root: Path):
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidBlobKey(f"Invalid blob key {key!r}.")
        path = self.root / key
        if not path.resolve().is_relative_to(self.root.resolve()):  # e.g. a symlinked directory
            raise InvalidBlobKey(f"Blob key {key!r} leaves the store.")
        return path

    def put(self, key: str, stream: BinaryIO) -> int:
        target = self.path(key)
        with self._staged(target) as staged, open(staged, "wb") as out:
            shutil.copyfileobj(stream, out, _CHUNK)
        return target.stat().st_size

    def put_file(self, key: str, path: Path) -> int:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(path, target)  # same file system: a rename, however large the upload
        except OSError:
            with open(path, "rb") as source:
                self.put(key, source)
            Path(path).unlink()
        return target.stat().st_size

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")
        except (FileNotFoundError, IsADirectoryError):
            raise BlobNotFound(key) from None

    def open_range(self, key: str, start: int, stop: int) -> BinaryIO:
        stream = self.open(key)
        stream.seek(start)
        return stream

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise BlobNotFound(key)
        yield path

    def delete(self, key: str) -> None:
        path = self.path(key)
        if path.is_file():
            path.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        path = self.path(key)
        if not path.is_file():
            raise BlobNotFound(key)
        return path.stat().st_size

    @contextmanager
    def _staged(self, target: Path) -> Iterator[Path]:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        os.close(fd)
        try:
            yield Path(tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def blob_store_from_url(url: str) -> BlobStore:
    """The store ``VOCABLE_BLOB_URL`` names: a ``file://`` URL or a plain directory path."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"Blob URL {url!r}: a file:// URL names a directory on this machine.")
        return LocalBlobStore(Path(url2pathname(parsed.path)))
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter is a Windows drive
        raise ValueError(
            f"Blob URL {url!r}: only a local directory (a path or file:// URL) is supported."
        )
    return LocalBlobStore(Path(url))
