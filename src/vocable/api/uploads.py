"""Streaming multipart uploads: file parts go to disk chunk by chunk, never whole into memory, and
the size limit is enforced while the bytes arrive (413 as soon as it is passed).

A received file is a temporary file of this request in the receiving directory: the job it
becomes takes it over into the blob store (``TranscriptionJobs.create``); every other path
(a refusal, a malformed body, a client gone mid-upload) removes it, and ``MultipartForm.discard``
on the way out removes whatever is left. Files a crashed process left behind are removed when the
next one builds its ``UploadReceiver``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from vocable.accounts.admission import FORM_ENVELOPE_BYTES, FileTooLarge, UploadLimit
from vocable.api.errors import ApiError

log = logging.getLogger("vocable.api.uploads")

FILE_FIELD = "file"


@dataclass
class UploadedFile:
    field: str
    filename: str
    path: Path  # the temporary file in the receiving directory, never saved anywhere
    size: int = 0


@dataclass
class MultipartForm:
    fields: dict[str, str] = field(default_factory=dict)  # the last value of each field
    files: dict[str, UploadedFile] = field(default_factory=dict)
    # Every value of each field, in order (a list is sent as repeated fields, e.g. `name[]`).
    values: dict[str, list[str]] = field(default_factory=dict)

    def discard(self) -> None:
        """Remove every received file still here (one a job took over is gone already)."""
        for upload in self.files.values():
            upload.path.unlink(missing_ok=True)


def declared_length(request: Request) -> int | None:
    """The body's Content-Length, if the client declared one."""
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


class UploadReceiver:
    """Receives multipart bodies into ``directory``, which holds only uploads in progress.

    Built once per app at start-up: the files already there were last written before this process
    began, by one that died mid-upload (kill -9, a crash, power loss), and are removed."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.swept = _remove_files_older_than(self.directory, time.time())
        if self.swept:
            log.info("removed %d upload(s) left behind in %s", self.swept, self.directory)

    async def receive(
        self, request: Request, limit: UploadLimit, file_fields: tuple[str, ...] = (FILE_FIELD,)
    ) -> MultipartForm:
        """Parse a multipart/form-data body from the request stream. Each of ``file_fields`` may
        come once; any other file part is refused before a byte of it is written."""
        content_type, params = parse_options_header(request.headers.get("content-type", ""))
        if content_type != b"multipart/form-data" or b"boundary" not in params:
            raise ApiError(400, "Expected a multipart/form-data body with a 'file' field.")
        form = MultipartForm()
        parts = _PartWriter(form, self.directory, limit, file_fields)
        parser = MultipartParser(params[b"boundary"], callbacks=parts.callbacks())
        body_limit = limit.bytes + FORM_ENVELOPE_BYTES
        received = 0
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > body_limit:  # also what follows the last part is read and counted
                    raise FileTooLarge(limit)
                parser.write(chunk)
            parser.finalize()
        except BaseException as exc:  # a refusal, a malformed body, the client gone, a cancel
            parts.close()
            form.discard()
            if isinstance(exc, (ApiError, FileTooLarge)) or not isinstance(exc, Exception):
                raise
            raise ApiError(400, f"Could not read the multipart upload: {exc}") from exc
        return form


class _PartWriter:
    """python-multipart's callbacks: plain fields into memory (bounded), file parts to disk."""

    def __init__(
        self, form: MultipartForm, directory: Path, limit: UploadLimit, file_fields: tuple[str, ...]
    ):
        self.form = form
        self.directory = directory
        self.limit = limit
        self.file_fields = file_fields
        self.envelope = 0  # bytes of part headers and plain field values, all parts together
        self.headers: dict[bytes, bytes] = {}
        self.header_field = b""
        self.header_value = b""
        self.name = ""
        self.value = b""
        self.sink = None  # (open file, UploadedFile) of the file part being written

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin, "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value, "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished, "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def _count_envelope(self, nbytes: int) -> None:
        self.envelope += nbytes
        if self.envelope > FORM_ENVELOPE_BYTES:
            raise ApiError(
                400, f"The form's fields and part headers are too long (over "
                f"{FORM_ENVELOPE_BYTES // 1024} KB together)."
            )

    def on_part_begin(self) -> None:
        self.headers, self.sink, self.name, self.value = {}, None, "", b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_envelope(end - start)
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_envelope(end - start)
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.header_value
        self.header_field, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, disposition = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in disposition:
            return
        if self.name not in self.file_fields:
            raise ApiError(
                400, f"Unexpected file field '{self.name[:80]}': send the audio or video as the "
                f"one '{FILE_FIELD}' field."
            )
        if self.name in self.form.files:
            raise ApiError(400, f"More than one '{self.name}' part: send one file per request.")
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix="upload-")
        upload = UploadedFile(self.name, disposition[b"filename"].decode("utf-8", "replace"), Path(tmp))
        self.form.files[self.name] = upload  # registered before a byte is written: discard sees it
        self.sink = (os.fdopen(fd, "wb"), upload)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.sink is None:
            self._count_envelope(end - start)
            self.value += data[start:end]
            return
        handle, upload = self.sink
        upload.size += end - start
        if upload.size > self.limit.bytes:
            raise FileTooLarge(self.limit)
        handle.write(data[start:end])

    def on_part_end(self) -> None:
        if self.sink is None:
            self.form.fields[self.name] = self.value.decode("utf-8", "replace")
            self.form.values.setdefault(self.name, []).append(self.form.fields[self.name])
        else:
            self.sink[0].close()
        self.sink = None

    def close(self) -> None:
        """Close the file being written, if any (the form's ``discard`` then removes it)."""
        if self.sink is not None:
            self.sink[0].close()
            self.sink = None


def _remove_files_older_than(directory: Path, before: float) -> int:
    removed = 0
    for entry in os.scandir(directory):
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < before:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:  # gone meanwhile
            continue
    return removed
