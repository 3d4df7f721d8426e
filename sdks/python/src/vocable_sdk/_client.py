"""The synchronous client, ``Vocable``."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import httpx

from vocable_sdk import _ops as ops
from vocable_sdk import types as t
from vocable_sdk._base import (
    DEFAULT_TIMEOUT,
    TranscriptionFailedError,
    default_headers,
    error_from,
    settings,
    transport_error,
)
from vocable_sdk.errors import APITimeoutError
from vocable_sdk.streaming import StreamSession, iter_pcm_file, paced, stream_url

T = TypeVar("T")
_Self = TypeVar("_Self")
When = date | datetime | str


class Vocable:
    """Client for a Vocable server.

    ``api_key`` defaults to ``$VOCABLE_API_KEY`` (no key: anonymous, limited per IP);
    ``base_url`` to ``$VOCABLE_BASE_URL`` or ``http://127.0.0.1:8000``. ``timeout`` is in seconds
    (a synchronous transcription answers once it is done). Use as a context manager or call
    ``close()``.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ):
        self.api_key, self.base_url = settings(api_key, base_url)
        self._extra_headers = dict(headers or {})
        self._http = http_client or httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers=default_headers(self.api_key, self._extra_headers),
        )
        self.transcripts = Transcripts(self)
        self.account = AccountResource(self)
        self.keys = Keys(self)
        self.usage = UsageResource(self)
        self.cloud = CloudResource(self)

    # -- plumbing ----------------------------------------------------------------------------------
    def _call(self, op: ops.Op[T]) -> T:
        try:
            response = self._http.request(
                op.method, op.path, params=op.params, json=op.json, data=op.data, files=op.files,
                headers=op.headers,
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.base_url) from exc
        finally:
            op.close()
        if response.is_error:
            raise error_from(response)
        return op.parse(response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transcription -----------------------------------------------------------------------------
    @overload
    def transcribe(
        self,
        file: ops.FileInput,
        *,
        model: str | None = ...,
        language: str | None = ...,
        diarize: bool | None = ...,
        speakers: int | None = ...,
        response_format: Literal["json"] = ...,
        async_: Literal[False] = ...,
        filename: str | None = ...,
    ) -> t.Transcription: ...

    @overload
    def transcribe(
        self,
        file: ops.FileInput,
        *,
        model: str | None = ...,
        language: str | None = ...,
        diarize: bool | None = ...,
        speakers: int | None = ...,
        response_format: Literal["txt", "srt", "vtt"],
        async_: Literal[False] = ...,
        filename: str | None = ...,
    ) -> str: ...

    @overload
    def transcribe(
        self,
        file: ops.FileInput,
        *,
        model: str | None = ...,
        language: str | None = ...,
        diarize: bool | None = ...,
        speakers: int | None = ...,
        response_format: Literal["json"] = ...,
        async_: Literal[True],
        filename: str | None = ...,
    ) -> t.TranscriptionJob: ...

    def transcribe(
        self,
        file: ops.FileInput,
        *,
        model: str | None = None,
        language: str | None = None,
        diarize: bool | None = None,
        speakers: int | None = None,
        response_format: Literal["json", "txt", "srt", "vtt"] = "json",
        async_: bool = False,
        filename: str | None = None,
    ) -> t.Transcription | t.TranscriptionJob | str:
        """Transcribe an audio or video file: a path (streamed from disk), bytes, or a binary
        file object. Options left as None use the server's defaults (best installed model,
        ``auto`` language, diarization on, speakers detected).

        Returns a ``Transcription`` (json), the subtitle/text body as ``str`` (txt, srt, vtt), or
        with ``async_=True`` (needs a key) a ``TranscriptionJob`` at once: then
        ``transcripts.wait(job.id)``.
        """
        return self._call(
            ops.transcribe(
                file,
                model=model,
                language=language,
                diarize=diarize,
                speakers=speakers,
                response_format=response_format,
                async_=async_,
                filename=filename,
            )
        )

    # -- text AI -----------------------------------------------------------------------------------
    def summarize(self, text: str, style: t.SummaryStyle | str = "brief") -> t.Summary:
        """Summarize text on the server's local LLM (brief, detailed, action_items, bullet_points)."""
        return self._call(ops.summarize(text, style))

    def generate(self, text: str, type: t.GenerateType | str) -> t.Generation:
        """Generate content from text: blog_post, social_media, newsletter, key_quotes, show_notes,
        meeting_notes, study_guide, flashcards, quiz, chapter_markers."""
        return self._call(ops.generate(text, type))

    def analyze(
        self, text: str, type: t.AnalysisType | str, *, language: str | None = None
    ) -> t.Analysis:
        """Analyze text: sentiment, topics, entities, action_items, questions, pii_redact."""
        return self._call(ops.analyze(text, type, language))

    def translate(
        self, text: str, target: str, *, source: str | None = None, backend: str | None = None
    ) -> t.Translation:
        """Translate one text. ``source`` defaults to "en" on the server ("auto" detects it);
        ``backend`` picks "llm" or an installed translation model (default: the best one)."""
        return self._call(ops.translate(text, target, source, backend))

    def translate_many(
        self,
        texts: Iterable[str],
        target: str,
        *,
        source: str | None = None,
        backend: str | None = None,
    ) -> list[t.Translation]:
        """Translate several texts in one request, in order."""
        return self._call(ops.translate_many(list(texts), target, source, backend))

    def embed(self, texts: Iterable[str] | str) -> t.Embeddings:
        """Sentence embeddings (384 dimensions, all-MiniLM-L6-v2)."""
        return self._call(ops.embed(texts))  # type: ignore[arg-type]

    def search(
        self,
        q: str,
        *,
        mode: str = "all",
        limit: int = 20,
        language: str | None = None,
        created_after: When | None = None,
        created_before: When | None = None,
        date: When | None = None,
        min_duration: float | None = None,
        max_duration: float | None = None,
    ) -> t.SearchResults:
        """Search every transcript of the account by words and by meaning (``mode``: all,
        words, meaning). Each hit names the transcript, segment, start time and highlights."""
        return self._call(ops.search(
            q, mode, limit, language=language, created_after=created_after,
            created_before=created_before, date=date, min_duration=min_duration,
            max_duration=max_duration,
        ))

    # -- meta --------------------------------------------------------------------------------------
    def health(self) -> t.Health:
        return self._call(ops.health())

    def models(self) -> list[t.Model]:
        return self._call(ops.models())

    def languages(self) -> list[t.Language]:
        return self._call(ops.languages())

    # -- streaming ---------------------------------------------------------------------------------
    def stream(
        self, *, language: str | None = None, model: str | None = None, open_timeout: float = 300.0
    ) -> StreamSession:
        """A real-time transcription session (``WS /v1/stream``); use it with ``with``::

        with client.stream(language="en") as stream:
            for event in stream.transcribe(pcm_chunks):  # bytes: int16 LE, 16 kHz, mono
                print(event.type, event.text)
        """
        return StreamSession(
            stream_url(self.base_url),
            self.api_key,
            language,
            model,
            self._extra_headers,
            open_timeout,
        )

    def stream_file(
        self,
        path: str | os.PathLike,
        *,
        language: str | None = None,
        model: str | None = None,
        speed: float | None = 1.0,
        chunk_ms: int = 100,
    ) -> Iterator[t.StreamEvent]:
        """Stream a file as if it were live: decoded to PCM (PyAV if installed, else 16-bit WAV),
        sent at ``speed`` × real time (None: as fast as the server takes it), events yielded."""
        chunks: Iterable[bytes] = iter_pcm_file(Path(path), chunk_ms)
        if speed:
            chunks = paced(chunks, speed)
        with self.stream(language=language, model=model) as session:
            yield from session.transcribe(chunks)


class Transcripts:
    """Stored transcripts of the key's account (``/api/v1/transcripts/``)."""

    def __init__(self, client: Vocable):
        self._c = client

    def list(
        self,
        *,
        page: int = 1,
        page_size: int = 20,
        status: str | list[str] | None = None,
        language: str | None = None,
        created_after: When | None = None,
        created_before: When | None = None,
        date: When | None = None,
        min_duration: float | None = None,
        max_duration: float | None = None,
    ) -> t.TranscriptPage:
        """One page, newest first. Filters: status (or several), detected language, creation
        time (``created_after`` inclusive; a date in ``created_before`` includes that day)."""
        return self._c._call(
            ops.list_transcripts(
                page,
                page_size,
                status=status,
                language=language,
                created_after=created_after,
                created_before=created_before,
                date=date,
                min_duration=min_duration,
                max_duration=max_duration,
            )
        )

    def iter(
        self,
        *,
        page_size: int = 100,
        status: str | list[str] | None = None,
        language: str | None = None,
        created_after: When | None = None,
        created_before: When | None = None,
        date: When | None = None,
    ) -> Iterator[t.TranscriptSummary]:
        """Every matching transcript, fetching pages as needed."""
        page = 1
        while True:
            result = self.list(
                page=page,
                page_size=page_size,
                status=status,
                language=language,
                created_after=created_after,
                created_before=created_before,
                date=date,
            )
            yield from result.results
            if not result.has_next:
                return
            page += 1

    def get(self, transcript_id: str) -> t.Transcript:
        return self._c._call(ops.get_transcript(transcript_id))

    def delete(self, transcript_id: str) -> None:
        self._c._call(ops.delete_transcript(transcript_id))

    def export(
        self,
        transcript_id: str,
        format: t.ExportFormat | str,
        path: str | os.PathLike | None = None,
    ) -> bytes:
        """The transcript as txt, srt, vtt, json, csv, docx or pdf; also written to ``path`` if given."""
        content = self._c._call(ops.export_transcript(transcript_id, format))
        if path is not None:
            Path(path).write_bytes(content)
        return content

    def wait(
        self, transcript_id: str, *, timeout: float | None = 3600.0, poll_interval: float = 1.0
    ) -> t.Transcript:
        """Poll until the transcript is completed (returned) or failed (``TranscriptionFailedError``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            transcript = self.get(transcript_id)
            if transcript.status == "completed":
                return transcript
            if transcript.status == "failed":
                raise TranscriptionFailedError(transcript)
            if deadline is not None and time.monotonic() + poll_interval > deadline:
                raise APITimeoutError(
                    f"transcript {transcript_id} is still {transcript.status} after {timeout:g} s"
                )
            time.sleep(poll_interval)

    def chat(
        self, transcript_id: str, question: str, *, session_id: str | None = None
    ) -> t.ChatAnswer:
        """Ask about a transcript (RAG over its segments); pass ``session_id`` to continue."""
        return self._c._call(ops.chat(transcript_id, question, session_id))

    def analyze(
        self, transcript_id: str, type: t.AnalysisType | str, *, language: str | None = None
    ) -> t.Analysis:
        """As ``analyze`` on the stored transcript: results name segments and speakers."""
        return self._c._call(ops.analyze_transcript(transcript_id, type, language))

    def generate(self, transcript_id: str, type: t.GenerateType | str) -> t.Generation:
        return self._c._call(ops.generate_transcript(transcript_id, type))

    # -- editing (PATCH) ---------------------------------------------------------------------------
    def edit(
        self,
        transcript_id: str,
        operations: list[dict[str, Any]] | None = None,
        *,
        speakers: dict[str, str] | None = None,
        segments: list[dict[str, Any]] | None = None,
        version: int | None = None,
    ) -> t.Transcript:
        """Apply edits in order, all or none: ``operations`` (``rename_speaker``, ``set_speaker``,
        ``edit_text``, ``merge``, ``split``), ``speakers`` {old: new}, ``segments`` [{"index",
        "text"?, "speaker"?}]. ``version``: refuse (409, ``ConflictError``) if the transcript
        changed since. Returns the edited transcript."""
        body: dict[str, Any] = {}
        if operations is not None:
            body["operations"] = operations
        if speakers is not None:
            body["speakers"] = speakers
        if segments is not None:
            body["segments"] = segments
        if version is not None:
            body["version"] = version
        return self._c._call(ops.edit_transcript(transcript_id, body))

    def rename_speaker(self, transcript_id: str, old: str, new: str) -> t.Transcript:
        return self.edit(transcript_id, speakers={old: new})

    def edit_segment(self, transcript_id: str, index: int, text: str) -> t.Transcript:
        """Replace a segment's text; its words keep their timings where they are unchanged."""
        return self.edit(transcript_id, [{"op": "edit_text", "segment": index, "text": text}])

    def merge_segments(self, transcript_id: str, index: int) -> t.Transcript:
        """Merge segment ``index`` with the next one."""
        return self.edit(transcript_id, [{"op": "merge", "segment": index}])

    def split_segment(
        self, transcript_id: str, index: int, *, word: int | None = None, at: float | None = None
    ) -> t.Transcript:
        """Split segment ``index`` before its word ``word`` (an index), or at ``at`` seconds."""
        op: dict[str, Any] = {"op": "split", "segment": index}
        op.update({"word": word} if word is not None else {"at": at})
        return self.edit(transcript_id, [op])

    def edits(self, transcript_id: str) -> list[t.TranscriptEdit]:
        """The edit history, oldest first."""
        return self._c._call(ops.transcript_edits(transcript_id))

    # -- audio -------------------------------------------------------------------------------------
    def audio(
        self,
        transcript_id: str,
        *,
        start: int | None = None,
        end: int | None = None,
        path: str | os.PathLike | None = None,
    ) -> bytes:
        """The stored audio as uploaded; ``start``/``end`` (byte offsets, ``end`` inclusive)
        read a range (HTTP 206). Also written to ``path`` if given."""
        content = self._c._call(ops.transcript_audio(transcript_id, start, end))
        if path is not None:
            Path(path).write_bytes(content)
        return content

    def audio_token(self, transcript_id: str) -> t.AudioToken:
        """A short-lived token for ``GET .../audio?token=`` (an HTML ``<audio>`` element)."""
        return self._c._call(ops.audio_token(transcript_id))


class AccountResource:
    def __init__(self, client: Vocable):
        self._c = client

    def get(self) -> t.Account:
        """Plan, credits, this month's minutes, limits, email preferences."""
        return self._c._call(ops.get_account())

    def update(
        self,
        *,
        name: str | None = None,
        email: str | None = None,
        email_preferences: Mapping[str, bool] | None = None,
    ) -> t.Account:
        """Change name, email or email preferences (merged); returns the updated account."""
        return self._c._call(ops.update_account(name, email, email_preferences))


class Keys:
    def __init__(self, client: Vocable):
        self._c = client

    def list(self) -> list[t.ApiKey]:
        return self._c._call(ops.list_keys())

    def create(self, name: str = "") -> t.CreatedApiKey:
        """A new key; its raw secret (``.key``) is shown this once."""
        return self._c._call(ops.create_key(name))

    def revoke(self, key_id: str) -> None:
        self._c._call(ops.revoke_key(key_id))


class UsageResource:
    def __init__(self, client: Vocable):
        self._c = client

    def get(self, *, days: int | None = None) -> t.Usage:
        """Usage by day, oldest first, ending today (UTC); 30 days unless ``days`` says."""
        return self._c._call(ops.usage(days))


class CloudResource:
    def __init__(self, client: Vocable):
        self._c = client

    def get(self) -> dict[str, Any]:
        """Worker nodes / deployments serving the account (JSON as the server sends it)."""
        return self._c._call(ops.cloud())
