"""Streaming multipart uploads: file parts go to disk chunk by chunk, never whole into memory, and
the size limit is enforced while the bytes arrive (413 as soon as it is passed).

A received file is a temporary file of this request: the job it becomes takes it over into the
blob store (``TranscriptionJobs.create``), and a refused request discards it."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from vocable.api.errors import ApiError

MAX_FIELD_BYTES = 64 * 1024


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
        for upload in self.files.values():
            upload.path.unlink(missing_ok=True)


def too_large(limit_bytes: int, plan: str) -> ApiError:
    return ApiError(
        413, f"File too large: the {plan} plan accepts files up to {limit_bytes // (1024 * 1024)} MB."
    )


async def receive_multipart(request: Request, dest_dir: Path, limit_bytes: int, plan: str) -> MultipartForm:
    """Parse a multipart/form-data body from the request stream into ``dest_dir``."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise ApiError(400, "Expected a multipart/form-data body with a 'file' field.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit_bytes + MAX_FIELD_BYTES:
        raise too_large(limit_bytes, plan)

    dest_dir.mkdir(parents=True, exist_ok=True)
    form = MultipartForm()
    state: dict = {"headers": {}, "header_field": b"", "header_value": b"", "sink": None, "name": "", "value": b""}

    def on_part_begin():
        state.update(headers={}, sink=None, name="", value=b"")

    def on_header_field(data, start, end):
        state["header_field"] += data[start:end]

    def on_header_value(data, start, end):
        state["header_value"] += data[start:end]

    def on_header_end():
        state["headers"][state["header_field"].lower()] = state["header_value"]
        state["header_field"], state["header_value"] = b"", b""

    def on_headers_finished():
        _, disposition = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        state["name"] = name
        if b"filename" in disposition:
            fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix="upload-")
            upload = UploadedFile(name, disposition[b"filename"].decode("utf-8", "replace"), Path(tmp))
            form.files[name] = upload
            state["sink"] = (os.fdopen(fd, "wb"), upload)

    def on_part_data(data, start, end):
        sink = state["sink"]
        if sink is None:
            state["value"] += data[start:end]
            if len(state["value"]) > MAX_FIELD_BYTES:
                raise ApiError(400, f"Form field '{state['name']}' is too long.")
            return
        handle, upload = sink
        upload.size += end - start
        if upload.size > limit_bytes:
            raise too_large(limit_bytes, plan)
        handle.write(data[start:end])

    def on_part_end():
        sink = state["sink"]
        if sink is None:
            value = state["value"].decode("utf-8", "replace")
            form.fields[state["name"]] = value
            form.values.setdefault(state["name"], []).append(value)
        else:
            sink[0].close()
        state["sink"] = None

    parser = MultipartParser(
        params[b"boundary"],
        callbacks=dict(
            on_part_begin=on_part_begin, on_header_field=on_header_field,
            on_header_value=on_header_value, on_header_end=on_header_end,
            on_headers_finished=on_headers_finished, on_part_data=on_part_data,
            on_part_end=on_part_end,
        ),
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except ApiError:
        _close_sink(state)
        form.discard()
        raise
    except Exception as exc:  # malformed body, client gone mid-upload
        _close_sink(state)
        form.discard()
        raise ApiError(400, f"Could not read the multipart upload: {exc}") from exc
    return form


def _close_sink(state: dict) -> None:
    if state.get("sink"):
        state["sink"][0].close()
