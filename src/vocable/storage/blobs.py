"""Blob storage: uploads and stored audio, addressed by key, never by a path saved anywhere.

A key is an opaque string such as ``audio/<transcript id>``: what it names is decided here
(``transcript_audio_key``), and any process that has the store can read it — a worker on another
machine included, once the store is a shared one. ``LocalBlobStore`` keeps blobs in a directory
(an NFS-style volume shared by the nodes of a cluster works too); ``S3BlobStore`` keeps them in an
S3-compatible bucket (AWS, MinIO, Ceph...) through boto3. Both read seekably: ``open`` returns a
file that can ``seek`` (ranged GETs on S3), and ``read_range`` reads one span.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import parse_qs, urlparse
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

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from offset ``start`` (fewer at the end of the blob)."""
        ...


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

    def read_range(self, key: str, start: int, length: int) -> bytes:
        with self.open(key) as blob:
            blob.seek(start)
            return blob.read(length)

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


def _checked(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidBlobKey(f"Invalid blob key {key!r}.")
    return key


class _S3Reader(io.RawIOBase):
    """A blob of a bucket as a seekable file: one streamed GET from the current offset, opened
    again (with a Range) after a seek; ``io.BufferedReader`` wraps it."""

    def __init__(self, client, bucket: str, key: str, size: int):
        self._client, self._bucket, self._key, self._size = client, bucket, key, size
        self._pos = 0
        self._body = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        position = max(0, base + offset)
        if position != self._pos:
            self._drop()
            self._pos = position
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self._size or len(buffer) == 0:
            return 0
        if self._body is None:
            answer = self._client.get_object(
                Bucket=self._bucket, Key=self._key, Range=f"bytes={self._pos}-"
            )
            self._body = answer["Body"]
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop()
        super().close()


class S3BlobStore:
    """Blobs as objects ``<prefix><key>`` of an S3-compatible bucket. Credentials come from the
    usual boto3 chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an instance
    role); ``endpoint_url`` names a non-AWS server (MinIO, Ceph, a test emulator). An object is
    written whole by one PUT (or a multipart upload completed at once): readers never see half."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None, client=None):
        if not bucket:
            raise ValueError("An S3 blob store needs a bucket: s3://<bucket>/<prefix>.")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3", endpoint_url=endpoint_url or None, region_name=region or None,
                config=Config(retries={"max_attempts": 5, "mode": "standard"},
                              s3={"addressing_style": "path"} if endpoint_url else {}),
            )
        self.client = client

    def __repr__(self) -> str:
        return f"S3BlobStore(s3://{self.bucket}/{self.prefix})"

    def object_key(self, key: str) -> str:
        return self.prefix + _checked(key)

    def _missing(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, key: str, stream: BinaryIO) -> int:
        name = self.object_key(key)
        self.client.upload_fileobj(stream, self.bucket, name)
        return self.size(key)

    def put_file(self, key: str, path: Path) -> int:
        name = self.object_key(key)
        size = Path(path).stat().st_size
        self.client.upload_file(str(path), self.bucket, name)
        Path(path).unlink()
        return size

    def size(self, key: str) -> int:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if self._missing(exc):
                raise BlobNotFound(key) from None
            raise
        return int(head["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except BlobNotFound:
            return False
        return True

    def open(self, key: str) -> BinaryIO:
        size = self.size(key)
        return io.BufferedReader(_S3Reader(self.client, self.bucket, self.object_key(key), size),
                                 buffer_size=_CHUNK)

    def open_range(self, key: str, start: int, stop: int) -> BinaryIO:
        reader = self.open(key)  # seekable: reads from ``start`` on with ranged GETs
        reader.seek(start)
        return reader

    def read_range(self, key: str, start: int, length: int) -> bytes:
        from botocore.exceptions import ClientError

        if length <= 0:
            return b""
        size = self.size(key)
        if start >= size:
            return b""
        end = min(size, start + length) - 1
        try:
            answer = self.client.get_object(
                Bucket=self.bucket, Key=self.object_key(key), Range=f"bytes={start}-{end}"
            )
        except ClientError as exc:
            if self._missing(exc):
                raise BlobNotFound(key) from None
            raise
        with answer["Body"] as body:
            return body.read()

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        from botocore.exceptions import ClientError

        fd, tmp = tempfile.mkstemp(prefix="vocable-blob-")
        os.close(fd)
        try:
            try:
                self.client.download_file(self.bucket, self.object_key(key), tmp)
            except ClientError as exc:
                if self._missing(exc):
                    raise BlobNotFound(key) from None
                raise
            yield Path(tmp)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))


def blob_store_from_url(url: str, *, s3_endpoint_url: str = "", s3_region: str = "") -> BlobStore:
    """The store ``VOCABLE_BLOB_URL`` names: a ``file://`` URL or a plain directory path, or
    ``s3://<bucket>/<prefix>`` (endpoint and region from the arguments, or from the URL's
    ``?endpoint_url=...&region=...``)."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return S3BlobStore(
            parsed.netloc, parsed.path,
            endpoint_url=s3_endpoint_url or query.get("endpoint_url") or None,
            region=s3_region or query.get("region") or None,
        )
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"Blob URL {url!r}: a file:// URL names a directory on this machine.")
        return LocalBlobStore(Path(url2pathname(parsed.path)))
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter is a Windows drive
        raise ValueError(
            f"Blob URL {url!r}: use a local directory (a path or file:// URL) or s3://bucket/prefix."
        )
    return LocalBlobStore(Path(url))
