"""Every API call once, as data: what to send and how to read the answer.

The sync and async clients only differ in how they move bytes, so both run these same
descriptions (``Op``) and neither repeats paths, parameters or parsing.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

import httpx

from vocable_sdk import types as t

T = TypeVar("T")

FileInput = str | os.PathLike | bytes | bytearray | memoryview | IO[bytes]


@dataclass
class Op(Generic[T]):
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: dict[str, Any] | None = None
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    # Files this call opened itself (from a path): closed once the call is over.
    opened: list[IO[bytes]] = field(default_factory=list)

    def close(self) -> None:
        for handle in self.opened:
            handle.close()


def _json(cls: Any) -> Callable[[httpx.Response], Any]:
    return lambda r: cls.from_dict(r.json())


def _drop_none(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- transcription ---------------------------------------------------------------------------------
def file_part(file: FileInput, filename: str | None) -> tuple[tuple[str, Any], IO[bytes] | None]:
    """The multipart ``file`` part, streamed from disk for paths (never read whole into memory)."""
    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        handle = path.open("rb")
        return (filename or path.name, handle), handle
    if isinstance(file, (bytes, bytearray, memoryview)):
        return (filename or "audio", io.BytesIO(bytes(file))), None
    if hasattr(file, "read"):
        name = filename or os.path.basename(str(getattr(file, "name", "") or "")) or "audio"
        return (name, file), None
    raise TypeError(
        f"file must be a path, bytes or a binary file object, not {type(file).__name__}"
    )


def _transcribe_result(response: httpx.Response) -> Any:
    if response.status_code == 202:
        return t.TranscriptionJob.from_dict(response.json())
    if response.headers.get("content-type", "").startswith("application/json"):
        result = t.Transcription.from_dict(response.json())
        result.id = result.id or response.headers.get("x-transcript-id")
        return result
    return response.text


def transcribe(
    file: FileInput,
    *,
    model: str | None,
    language: str | None,
    diarize: bool | None,
    speakers: int | None,
    response_format: str,
    async_: bool,
    filename: str | None,
    enhance: bool | None = None,
    vocabulary: Sequence[str] | None = None,
    prompt: str | None = None,
    webhook_url: str | None = None,
) -> Op[Any]:
    part, opened = file_part(file, filename)
    fields = _drop_none(
        {
            "model": model,
            "language": language,
            "diarize": diarize,
            "speakers": speakers,
            "enhance": enhance,
            "vocabulary": json.dumps(list(vocabulary)) if vocabulary else None,
            "prompt": prompt,
            "webhook_url": webhook_url,
            "response_format": response_format if response_format != "json" else None,
            "async": True if async_ else None,
        }
    )
    return Op(
        "POST",
        "/v1/transcribe",
        _transcribe_result,
        data={k: _form_value(v) for k, v in fields.items()},
        files={"file": part},
        opened=[opened] if opened else [],
    )


# -- speech synthesis ------------------------------------------------------------------------------
def _float_header(response: httpx.Response, name: str) -> float | None:
    value = response.headers.get(name)
    return float(value) if value not in (None, "") else None


def _speech(response: httpx.Response) -> t.Speech:
    rate = response.headers.get("x-sample-rate")
    return t.Speech(
        audio=response.content,
        content_type=response.headers.get("content-type", ""),
        voice=response.headers.get("x-voice", ""),
        voice_id=response.headers.get("x-vocable-voice"),
        duration=_float_header(response, "x-duration"),
        generation_time=_float_header(response, "x-generation-time"),
        speaker_similarity=_float_header(response, "x-speaker-similarity"),
        sample_rate=int(rate) if rate else None,
    )


def tts(
    text: str,
    *,
    reference: FileInput | None,
    voice: str | None,
    speed: float | None,
    format: str | None,
) -> Op[t.Speech]:
    fields = _drop_none({"text": text, "voice": voice, "speed": speed, "format": format})
    files: dict[str, Any] = {k: (None, _form_value(v)) for k, v in fields.items()}
    opened: list[IO[bytes]] = []
    if reference is not None:
        part, handle = file_part(reference, None)
        files["reference"] = part
        opened = [handle] if handle else []
    return Op("POST", "/v1/tts", _speech, files=files, opened=opened)


def enhance_audio(
    file: FileInput,
    *,
    denoise: bool | None,
    normalize: bool | None,
    sample_rate: int | None,
    format: str | None,
    filename: str | None,
) -> Op[t.EnhancedAudio]:
    part, opened = file_part(file, filename)
    fields = _drop_none(
        {"denoise": denoise, "normalize": normalize, "sample_rate": sample_rate, "format": format}
    )
    return Op(
        "POST",
        "/v1/enhance-audio",
        lambda r: t.EnhancedAudio.from_response(r.headers, r.content),
        data={k: _form_value(v) for k, v in fields.items()},
        files={"file": part},
        opened=[opened] if opened else [],
    )


# -- text AI ---------------------------------------------------------------------------------------
def summarize(text: str, style: str) -> Op[t.Summary]:
    return Op("POST", "/v1/summarize", _json(t.Summary), json={"text": text, "style": style})


def generate(text: str, type: str) -> Op[t.Generation]:
    return Op("POST", "/v1/generate", _json(t.Generation), json={"text": text, "type": type})


def analyze(text: str, type: str, language: str | None) -> Op[t.Analysis]:
    body = _drop_none({"text": text, "type": type, "language": language})
    return Op("POST", "/v1/analyze", _json(t.Analysis), json=body)


def translate(text: str, target: str, source: str | None, backend: str | None) -> Op[t.Translation]:
    body = _drop_none({"text": text, "target": target, "source": source, "backend": backend})
    return Op("POST", "/v1/translate", _json(t.Translation), json=body)


def translate_many(
    texts: list[str], target: str, source: str | None, backend: str | None
) -> Op[list[t.Translation]]:
    body = _drop_none(
        {"texts": list(texts), "target": target, "source": source, "backend": backend}
    )

    def parse(r: httpx.Response) -> list[t.Translation]:
        d = r.json()
        return [
            t.Translation.from_dict(
                {
                    "source_language": d.get("source_language"),
                    "target_language": d.get("target_language"),
                    "backend": d.get("backend"),
                    "model": d.get("model"),
                    **item,
                }
            )
            for item in d.get("translations") or []
        ]

    return Op("POST", "/v1/translate", parse, json=body)


def embed(texts: list[str]) -> Op[t.Embeddings]:
    if isinstance(texts, str):
        texts = [texts]
    return Op("POST", "/v1/embed", _json(t.Embeddings), json={"texts": list(texts)})


# -- meta ------------------------------------------------------------------------------------------
def health() -> Op[t.Health]:
    return Op("GET", "/health", _json(t.Health))


def models() -> Op[list[t.Model]]:
    return Op("GET", "/v1/models", lambda r: [t.Model.from_dict(m) for m in r.json()["models"]])


def languages() -> Op[list[t.Language]]:
    return Op(
        "GET",
        "/v1/languages",
        lambda r: [
            t.Language(code=x["code"], name=x.get("name", "")) for x in r.json()["languages"]
        ],
    )


# -- account API -----------------------------------------------------------------------------------
def get_account() -> Op[t.Account]:
    return Op("GET", "/api/v1/account/", _json(t.Account))


def update_account(
    name: str | None, email: str | None, email_preferences: Mapping[str, bool] | None
) -> Op[t.Account]:
    body = _drop_none(
        {
            "name": name,
            "email": email,
            "email_preferences": dict(email_preferences) if email_preferences else None,
        }
    )
    return Op("PUT", "/api/v1/account/", _json(t.Account), json=body)


def get_webhook() -> Op[dict[str, Any]]:
    return Op("GET", "/api/v1/account/webhook/", _body)


def set_webhook(url: str | None) -> Op[dict[str, Any]]:
    return Op("PUT", "/api/v1/account/webhook/", _body, json={"url": url})


def rotate_webhook_secret() -> Op[dict[str, Any]]:
    return Op("POST", "/api/v1/account/webhook/secret/", _body)


def _filters(
    status: str | list[str] | None = None,
    language: str | None = None,
    created_after: Any = None,
    created_before: Any = None,
    date: Any = None,
    min_duration: float | None = None,
    max_duration: float | None = None,
) -> dict[str, Any]:
    if isinstance(status, (list, tuple)):
        status = ",".join(status)
    return _drop_none(
        {
            "status": status,
            "language": language,
            "created_after": _iso(created_after),
            "created_before": _iso(created_before),
            "date": _iso(date),
            "min_duration": min_duration,
            "max_duration": max_duration,
        }
    )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def list_transcripts(page: int, page_size: int, **filters: Any) -> Op[t.TranscriptPage]:
    params = {"page": page, "page_size": page_size, **_filters(**filters)}
    return Op("GET", "/api/v1/transcripts/", _json(t.TranscriptPage), params=params)


def _id(value: str) -> str:
    value = str(value)
    if not value or "/" in value:
        raise ValueError(f"invalid id {value!r}")
    return value


def get_transcript(transcript_id: str) -> Op[t.Transcript]:
    return Op("GET", f"/api/v1/transcripts/{_id(transcript_id)}/", _json(t.Transcript))


def delete_transcript(transcript_id: str) -> Op[None]:
    return Op("DELETE", f"/api/v1/transcripts/{_id(transcript_id)}/", lambda r: None)


def export_transcript(transcript_id: str, format: str) -> Op[bytes]:
    fmt = _id(format).lower()
    return Op("GET", f"/api/v1/transcripts/{_id(transcript_id)}/export/{fmt}/", lambda r: r.content)


def chat(transcript_id: str, question: str, session_id: str | None) -> Op[t.ChatAnswer]:
    body = _drop_none({"question": question, "session_id": session_id})
    return Op(
        "POST", f"/api/v1/transcripts/{_id(transcript_id)}/chat/", _json(t.ChatAnswer), json=body
    )


def analyze_transcript(transcript_id: str, type: str, language: str | None) -> Op[t.Analysis]:
    return Op(
        "POST",
        f"/api/v1/transcripts/{_id(transcript_id)}/analyze/",
        _json(t.Analysis),
        json=_drop_none({"type": type, "language": language}),
    )


def generate_transcript(transcript_id: str, type: str) -> Op[t.Generation]:
    return Op(
        "POST",
        f"/api/v1/transcripts/{_id(transcript_id)}/generate/",
        _json(t.Generation),
        json={"type": type},
    )


def edit_transcript(transcript_id: str, body: dict[str, Any]) -> Op[t.Transcript]:
    return Op("PATCH", f"/api/v1/transcripts/{_id(transcript_id)}/", _json(t.Transcript), json=body)


def transcript_edits(transcript_id: str) -> Op[list[t.TranscriptEdit]]:
    return Op("GET", f"/api/v1/transcripts/{_id(transcript_id)}/edits/",
              lambda r: [t.TranscriptEdit.from_dict(e) for e in r.json()["edits"]])


def audio_token(transcript_id: str) -> Op[t.AudioToken]:
    return Op("POST", f"/api/v1/transcripts/{_id(transcript_id)}/audio/token", _json(t.AudioToken))


def transcript_audio(transcript_id: str, start: int | None, end: int | None) -> Op[bytes]:
    """The stored audio; ``start``/``end`` (byte offsets, ``end`` inclusive) ask for a range."""
    op: Op[bytes] = Op("GET", f"/api/v1/transcripts/{_id(transcript_id)}/audio", lambda r: r.content)
    if start is not None or end is not None:
        first = "" if start is None else str(int(start))
        last = "" if end is None else str(int(end))
        op.headers = {"Range": f"bytes={first}-{last}"}
    return op


def search(q: str, mode: str, limit: int, **filters: Any) -> Op[t.SearchResults]:
    params = {"q": q, "mode": mode, "limit": limit, **_filters(**filters)}
    return Op("GET", "/api/v1/search/", _json(t.SearchResults), params=params)


def list_keys() -> Op[list[t.ApiKey]]:
    return Op("GET", "/api/v1/keys/", lambda r: [t.ApiKey.from_dict(k) for k in r.json()["keys"]])


def create_key(name: str) -> Op[t.CreatedApiKey]:
    return Op("POST", "/api/v1/keys/", _json(t.CreatedApiKey), json={"name": name})


def revoke_key(key_id: str) -> Op[None]:
    return Op("DELETE", f"/api/v1/keys/{_id(key_id)}/", lambda r: None)


def usage(days: int | None) -> Op[t.Usage]:
    return Op("GET", "/api/v1/usage/", _json(t.Usage), params=_drop_none({"days": days}))


def cloud() -> Op[dict[str, Any]]:
    return Op("GET", "/api/v1/cloud/", lambda r: r.json())


# -- speakers known by name ------------------------------------------------------------------------
def enroll_speaker(
    name: str, file: FileInput | None, filename: str | None,
    transcript_id: str | None, speaker: str | None,
) -> Op[t.Speaker]:
    """From a clip (multipart) or from a speaker of a stored transcript (JSON)."""
    if (file is None) == (transcript_id is None):
        raise ValueError("give either file (a clip of the voice) or transcript_id and speaker")
    if file is not None:
        part, handle = file_part(file, filename)
        return Op("POST", "/api/v1/speakers/", _json(t.Speaker), data={"name": name},
                  files={"file": part}, opened=[handle] if handle else [])
    if not speaker:
        raise ValueError("speaker (the transcript's label, e.g. 'Speaker 2') is required")
    body = {"name": name, "transcript_id": transcript_id, "speaker": speaker}
    return Op("POST", "/api/v1/speakers/", _json(t.Speaker), json=body)


def list_speakers() -> Op[list[t.Speaker]]:
    return Op("GET", "/api/v1/speakers/",
              lambda r: [t.Speaker.from_dict(x) for x in r.json()["items"]])


def get_speaker(speaker_id: str) -> Op[t.Speaker]:
    return Op("GET", f"/api/v1/speakers/{_id(speaker_id)}/", _json(t.Speaker))


def rename_speaker(speaker_id: str, name: str) -> Op[t.Speaker]:
    return Op("PATCH", f"/api/v1/speakers/{_id(speaker_id)}/", _json(t.Speaker), json={"name": name})


def delete_speaker(speaker_id: str) -> Op[None]:
    return Op("DELETE", f"/api/v1/speakers/{_id(speaker_id)}/", lambda r: None)


# -- sign-up and the operator console (JSON answers as the server sends them) -----------------------
def _body(r: httpx.Response) -> Any:
    return r.json()


def signup(email: str, password: str, name: str, invite: str | None) -> Op[dict[str, Any]]:
    return Op("POST", "/api/v1/auth/signup", _body,
              json=_drop_none({"email": email, "password": password, "name": name or None,
                               "invite": invite}))


def verify_email(token: str) -> Op[dict[str, Any]]:
    return Op("POST", "/api/v1/auth/verify", _body, json={"token": token})


def resend_verification(email: str) -> Op[dict[str, Any]]:
    return Op("POST", "/api/v1/auth/verify/resend", _body, json={"email": email})


def me() -> Op[dict[str, Any]]:
    return Op("GET", "/api/v1/auth/me", _body)


def auth_config() -> Op[dict[str, Any]]:
    return Op("GET", "/api/v1/auth/config", _body)


def request_password_reset(email: str) -> Op[dict[str, Any]]:
    return Op("POST", "/api/v1/auth/reset", _body, json={"email": email})


def confirm_password_reset(token: str, password: str) -> Op[dict[str, Any]]:
    return Op("POST", "/api/v1/auth/reset/confirm", _body, json={"token": token, "password": password})


def change_password(current: str, new: str) -> Op[dict[str, Any]]:
    return Op("POST", "/api/v1/auth/password", _body,
              json={"current_password": current, "new_password": new})


def admin_accounts(q: str, page: int, page_size: int) -> Op[dict[str, Any]]:
    return Op("GET", "/api/v1/admin/accounts/", _body,
              params={"q": q, "page": page, "page_size": page_size})


def admin_account(account_id: int) -> Op[dict[str, Any]]:
    return Op("GET", f"/api/v1/admin/accounts/{int(account_id)}/", _body)


def admin_change(account_id: int, **change: Any) -> Op[dict[str, Any]]:
    return Op("PATCH", f"/api/v1/admin/accounts/{int(account_id)}/", _body, json=_drop_none(change))


def admin_grant_credits(account_id: int, credits: int) -> Op[dict[str, Any]]:
    return Op("POST", f"/api/v1/admin/accounts/{int(account_id)}/credits/", _body,
              json={"credits": int(credits)})


def admin_delete_account(account_id: int) -> Op[None]:
    return Op("DELETE", f"/api/v1/admin/accounts/{int(account_id)}/", lambda r: None)


def admin_usage(days: int) -> Op[dict[str, Any]]:
    return Op("GET", "/api/v1/admin/usage/", _body, params={"days": days})


def admin_server() -> Op[dict[str, Any]]:
    return Op("GET", "/api/v1/admin/server/", _body)


def admin_invites() -> Op[list[dict[str, Any]]]:
    return Op("GET", "/api/v1/admin/invites/", lambda r: r.json()["invites"])


def admin_create_invite(max_uses: int, expires_in_days: float | None, note: str) -> Op[dict[str, Any]]:
    return Op("POST", "/api/v1/admin/invites/", _body,
              json={"max_uses": max_uses, "expires_in_days": expires_in_days, "note": note})


def admin_revoke_invite(invite_id: str) -> Op[None]:
    return Op("DELETE", f"/api/v1/admin/invites/{_id(invite_id)}/", lambda r: None)
