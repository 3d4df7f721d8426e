"""The synchronous client, ``Vocable``."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
        self.auth = AuthResource(self)
        self.admin = AdminResource(self)
        self.speakers = Speakers(self)

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
        enhance: bool | None = ...,
        vocabulary: Sequence[str] | None = ...,
        prompt: str | None = ...,
        webhook_url: str | None = ...,
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
        enhance: bool | None = ...,
        vocabulary: Sequence[str] | None = ...,
        prompt: str | None = ...,
        webhook_url: str | None = ...,
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
        enhance: bool | None = ...,
        vocabulary: Sequence[str] | None = ...,
        prompt: str | None = ...,
        webhook_url: str | None = ...,
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
        enhance: bool | None = None,
        vocabulary: Sequence[str] | None = None,
        prompt: str | None = None,
        webhook_url: str | None = None,
        response_format: Literal["json", "txt", "srt", "vtt"] = "json",
        async_: bool = False,
        filename: str | None = None,
    ) -> t.Transcription | t.TranscriptionJob | str:
        """Transcribe an audio or video file: a path (streamed from disk), bytes, or a binary
        file object. Options left as None use the server's defaults (best installed model,
        ``auto`` language, diarization on, speakers detected); ``enhance=True`` removes noise
        before recognition; ``vocabulary`` (domain terms, names) and ``prompt`` (context) steer the
        spelling; ``webhook_url`` (with ``async_=True``) gets a signed POST when the job ends.

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
                enhance=enhance,
                vocabulary=vocabulary,
                prompt=prompt,
                webhook_url=webhook_url,
            )
        )

    # -- speech synthesis --------------------------------------------------------------------------
    def tts(
        self,
        text: str,
        *,
        reference: ops.FileInput | None = None,
        voice: str | None = None,
        speed: float | None = None,
        format: str | None = None,
    ) -> t.Speech:
        """Speak ``text`` (POST /v1/tts). ``reference``: 3-10 s of a voice to speak in (matched, or
        cloned where the server has a cloning model); ``format``: wav (default), flac, mp3, ogg,
        opus, aac, pcm. The answer's ``voice`` says which was done."""
        return self._call(ops.tts(text, reference=reference, voice=voice, speed=speed, format=format))

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
        self, *, language: str | None = None, model: str | None = None, open_timeout: float = 300.0,
        **options: Any,
    ) -> StreamSession:
        """A real-time transcription session (``WS /v1/stream``); use it with ``with``::

        with client.stream(language="en") as stream:
            for event in stream.transcribe(pcm_chunks):  # bytes: int16 LE, 16 kHz, mono
                print(event.type, event.text)

        Other keyword arguments go into the stream's config as they are, e.g.
        ``vocabulary=["Kubernetes", "Siobhan"]`` or ``prompt="..."``.
        """
        return StreamSession(
            stream_url(self.base_url),
            self.api_key,
            language,
            model,
            self._extra_headers,
            open_timeout,
            options,
        )

    def stream_file(
        self,
        path: str | os.PathLike,
        *,
        language: str | None = None,
        model: str | None = None,
        speed: float | None = 1.0,
        chunk_ms: int = 100,
        **options: Any,
    ) -> Iterator[t.StreamEvent]:
        """Stream a file as if it were live: decoded to PCM (PyAV if installed, else 16-bit WAV),
        sent at ``speed`` × real time (None: as fast as the server takes it), events yielded."""
        chunks: Iterable[bytes] = iter_pcm_file(Path(path), chunk_ms)
        if speed:
            chunks = paced(chunks, speed)
        with self.stream(language=language, model=model, **options) as session:
            yield from session.transcribe(chunks)

    # -- audio tools -------------------------------------------------------------------------------
    def enhance_audio(
        self,
        file: ops.FileInput,
        *,
        denoise: bool | None = None,
        normalize: bool | None = None,
        sample_rate: int | None = None,
        format: Literal["wav", "flac", "mp3", "ogg", "opus"] | None = None,
        filename: str | None = None,
    ) -> t.EnhancedAudio:
        """Remove noise and normalise loudness (-16 LUFS, -1 dBTP) of an audio or video file: a
        path (streamed from disk), bytes or a binary file object. Returns the audio (16-bit WAV
        unless ``format``) with the server's measurements; ``.save(path)`` writes it."""
        return self._call(
            ops.enhance_audio(
                file, denoise=denoise, normalize=normalize, sample_rate=sample_rate,
                format=format, filename=filename,
            )
        )


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

    def webhook(self) -> dict[str, Any]:
        """The default webhook URL of async jobs and the secret deliveries are signed with."""
        return self._c._call(ops.get_webhook())

    def set_webhook(self, url: str | None) -> dict[str, Any]:
        """Set (or, with None, clear) the URL async jobs report to by default."""
        return self._c._call(ops.set_webhook(url))

    def rotate_webhook_secret(self) -> dict[str, Any]:
        """A new signing secret: deliveries from now on are signed with it."""
        return self._c._call(ops.rotate_webhook_secret())


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


class Speakers:
    """Voices known by name: diarized transcripts of the account label a matching voice by name."""

    def __init__(self, client: Vocable):
        self._c = client

    def enroll(
        self,
        name: str,
        file: ops.FileInput | None = None,
        *,
        filename: str | None = None,
        transcript_id: str | None = None,
        speaker: str | None = None,
    ) -> t.Speaker:
        """Enroll ``name`` from a clip of that one person (``file``: path, bytes or binary file;
        at least 2 s of clear speech) or from a speaker of a stored transcript
        (``transcript_id`` and its label ``speaker``, e.g. "Speaker 2"). Costs the audio it runs on."""
        return self._c._call(ops.enroll_speaker(name, file, filename, transcript_id, speaker))

    def list(self) -> list[t.Speaker]:
        return self._c._call(ops.list_speakers())

    def get(self, speaker_id: str) -> t.Speaker:
        return self._c._call(ops.get_speaker(speaker_id))

    def rename(self, speaker_id: str, name: str) -> t.Speaker:
        return self._c._call(ops.rename_speaker(speaker_id, name))

    def delete(self, speaker_id: str) -> None:
        self._c._call(ops.delete_speaker(speaker_id))


class AuthResource:
    """Accounts people open themselves. Programs keep using API keys: ``signup`` answers the new
    account's first key (``["key"]["key"]``, shown once) unless the server verifies addresses by
    mail (then ``{"status": "verification_sent"}``, and ``verify_email`` with the mailed token
    answers the key). Browser session cookies the server sets are not kept by the client."""

    def __init__(self, client: Vocable):
        self._c = client

    def _no_cookies(self, op):
        try:
            return self._c._call(op)
        finally:
            self._c._http.cookies.clear()

    def config(self) -> dict[str, Any]:
        """How accounts are opened here: ``signup`` (open, invite, closed), ``verification``..."""
        return self._c._call(ops.auth_config())

    def signup(
        self, email: str, password: str, *, name: str = "", invite: str | None = None
    ) -> dict[str, Any]:
        return self._no_cookies(ops.signup(email, password, name, invite))

    def verify_email(self, token: str) -> dict[str, Any]:
        return self._no_cookies(ops.verify_email(token))

    def resend_verification(self, email: str) -> dict[str, Any]:
        """Mail a new confirmation link (the same answer whether or not the address waits for one)."""
        return self._c._call(ops.resend_verification(email))

    def me(self) -> dict[str, Any]:
        """Who this client is: ``{"signed_in", "via": "key", "account"}``."""
        return self._c._call(ops.me())

    def change_password(self, current_password: str, new_password: str) -> dict[str, Any]:
        """Every browser session of the account ends; keys keep working."""
        return self._no_cookies(ops.change_password(current_password, new_password))

    def request_password_reset(self, email: str) -> dict[str, Any]:
        """Mail a reset link (the same answer whether or not the address has an account)."""
        return self._c._call(ops.request_password_reset(email))

    def confirm_password_reset(self, token: str, password: str) -> dict[str, Any]:
        return self._no_cookies(ops.confirm_password_reset(token, password))


class AdminResource:
    """The operator console (``/api/v1/admin/``; the client's key must be an admin's, else a
    ``PermissionDeniedError``). Changes apply to the account's next request."""

    def __init__(self, client: Vocable):
        self._c = client

    def accounts(self, q: str = "", *, page: int = 1, page_size: int = 50) -> dict[str, Any]:
        """Accounts whose email or name contains ``q`` (or on plan ``q``): ``accounts``, ``total``."""
        return self._c._call(ops.admin_accounts(q, page, page_size))

    def account(self, account_id: int) -> dict[str, Any]:
        return self._c._call(ops.admin_account(account_id))

    def set_plan(self, account_id: int, plan: str) -> dict[str, Any]:
        return self._c._call(ops.admin_change(account_id, plan=plan))

    def set_role(self, account_id: int, role: str) -> dict[str, Any]:
        """``"admin"`` or ``"user"``."""
        return self._c._call(ops.admin_change(account_id, role=role))

    def disable(self, account_id: int) -> dict[str, Any]:
        """Its keys, sessions and stream tickets are refused from now on."""
        return self._c._call(ops.admin_change(account_id, disabled=True))

    def enable(self, account_id: int) -> dict[str, Any]:
        return self._c._call(ops.admin_change(account_id, disabled=False))

    def grant_credits(self, account_id: int, credits: int) -> dict[str, Any]:
        """Add credits (negative takes some back, never below zero); returns the account."""
        return self._c._call(ops.admin_grant_credits(account_id, credits))

    def delete_account(self, account_id: int) -> None:
        """The account with its keys, sessions, transcripts, usage and stored audio."""
        self._c._call(ops.admin_delete_account(account_id))

    def usage(self, *, days: int = 30) -> dict[str, Any]:
        """Usage across accounts by day, totals, and the busiest accounts."""
        return self._c._call(ops.admin_usage(days))

    def server(self) -> dict[str, Any]:
        """The server's workers, models, open streams, sign-up and mail settings."""
        return self._c._call(ops.admin_server())

    def invites(self) -> list[dict[str, Any]]:
        return self._c._call(ops.admin_invites())

    def create_invite(
        self, *, max_uses: int = 1, expires_in_days: float | None = 14, note: str = ""
    ) -> dict[str, Any]:
        """A new invite code (``["code"]``, shown this once)."""
        return self._c._call(ops.admin_create_invite(max_uses, expires_in_days, note))

    def revoke_invite(self, invite_id: str) -> None:
        self._c._call(ops.admin_revoke_invite(invite_id))
