"""Corrections to a stored transcript (PATCH /api/v1/transcripts/:id/): rename speakers, set a
segment's speaker, edit a segment's text, merge two neighbouring segments, split one in two.

Operations are applied in order, all or none, to the stored segments; the transcript's ``text``,
``speakers``, ``updated_at`` and ``version`` follow, and each accepted edit is kept in
``transcript_edits`` (the history). Everything derived from the segments (exports, subtitles,
chat, analysis, search) reads the edited segments; chat's and search's segment embeddings are
refreshed for the segments whose text changed (``llm.chat.segment_vectors`` keys them by text).

Words keep their timings through a text edit: the new text's words are aligned to the old ones
(``difflib``); a word that is unchanged keeps its time, a changed or inserted run shares the time
of the words it replaces (or the gap it sits in), so the words of a segment stay in order, inside
the segment, and joined they are the segment's text.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from vocable.storage.db import Database
from vocable.storage.models import Transcript, TranscriptEdit, utcnow
from vocable.transcription.store import TranscriptNotCompleted, TranscriptNotFound

log = logging.getLogger("vocable.transcription.editing")

MAX_OPERATIONS = 500
MAX_SEGMENT_CHARS = 5000
MAX_SPEAKER_CHARS = 80
OPS = ("rename_speaker", "set_speaker", "edit_text", "merge", "split")


class EditError(ValueError):
    """An edit the transcript cannot take (unknown segment, empty text, bad operation): a 400."""


class EditConflict(Exception):
    """The client edited an older version than the stored one: a 409."""

    def __init__(self, expected: int, current: int):
        super().__init__(
            f"The transcript changed since version {expected} (it is at version {current}): "
            "reload it and apply the edit again."
        )
        self.current = current


@dataclass(frozen=True)
class EditResult:
    transcript: Transcript
    changed_segments: list[int]  # orders, after the edit, of segments whose text changed


# -- the operations, on plain segment dicts --------------------------------------------------------
_TOKEN = re.compile(r"\S+")


def _norm(word: str) -> str:
    return re.sub(r"[^\w']+", "", word.lower())


def align_words(old: list[dict[str, Any]], text: str, start: float, end: float,
                speaker: str | None) -> list[dict[str, Any]]:
    """The words of ``text`` with timings taken from ``old`` (see the module docstring)."""
    tokens = _TOKEN.findall(text)
    if not tokens:
        return []
    matcher = difflib.SequenceMatcher(None, [_norm(w["word"]) for w in old], [_norm(t) for t in tokens],
                                      autojunk=False)
    out: list[dict[str, Any] | None] = [None] * len(tokens)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(j2 - j1):
                w = dict(old[i1 + k])
                w["word"] = tokens[j1 + k]  # same word; its punctuation or case may have changed
                out[j1 + k] = w
        elif tag in ("replace", "insert"):
            if tag == "replace":
                lo, hi = float(old[i1]["start"]), float(old[i2 - 1]["end"])
                prob = min(float(w.get("probability", 1.0)) for w in old[i1:i2])
            else:  # the gap between the neighbours
                lo = float(old[i1 - 1]["end"]) if i1 > 0 else start
                hi = float(old[i1]["start"]) if i1 < len(old) else end
                prob = 1.0
            n = j2 - j1
            span = max(0.0, hi - lo)
            for k in range(n):
                out[j1 + k] = {
                    "word": tokens[j1 + k],
                    "start": round(lo + span * k / n, 3),
                    "end": round(lo + span * (k + 1) / n, 3),
                    "probability": prob,
                }
    words = []
    previous = start
    for w in out:
        assert w is not None
        w_start = min(max(float(w["start"]), previous), end)
        w_end = min(max(float(w["end"]), w_start), end)
        word = {**w, "start": round(w_start, 3), "end": round(w_end, 3)}
        if speaker is not None:
            word["speaker"] = speaker
        words.append(word)
        previous = w_end
    return words


def _segment(segments: list[dict[str, Any]], op: dict[str, Any], name: str = "segment") -> int:
    index = op.get(name)
    if isinstance(index, bool) or not isinstance(index, int):
        raise EditError(f"'{name}' must be a segment's index (0 to {len(segments) - 1}).")
    if not 0 <= index < len(segments):
        raise EditError(f"No segment {index}: the transcript has {len(segments)} (0 to {len(segments) - 1}).")
    return index


def _speaker_name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise EditError(f"'{field}' must be a non-empty speaker name.")
    value = " ".join(value.split())
    if len(value) > MAX_SPEAKER_CHARS:
        raise EditError(f"'{field}' is too long (at most {MAX_SPEAKER_CHARS} characters).")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise EditError("'text' must be a string.")
    value = " ".join(value.split())
    if not value:
        raise EditError("'text' must not be empty: to remove a segment's words, merge it instead.")
    if len(value) > MAX_SEGMENT_CHARS:
        raise EditError(f"'text' is too long (at most {MAX_SEGMENT_CHARS} characters).")
    return value


class _Doc:
    """The segments and speakers being edited; ``changed`` holds segment dicts whose text moved."""

    def __init__(self, segments: list[dict[str, Any]], speakers: list[str]):
        self.segments = [dict(s, words=[dict(w) for w in s.get("words") or []]) for s in segments]
        self.speakers = list(speakers)
        self.changed: set[int] = set()  # id() of segment dicts whose text changed

    def apply(self, op: dict[str, Any]) -> None:
        kind = op.get("op")
        handler: Callable[[dict[str, Any]], None] | None = getattr(self, f"_{kind}", None) if kind in OPS else None
        if handler is None:
            raise EditError(f"Unknown operation {kind!r}: use one of {', '.join(OPS)}.")
        handler(op)

    def _rename_speaker(self, op: dict[str, Any]) -> None:
        old = op.get("from")
        if old not in self.speakers and not any(s.get("speaker") == old for s in self.segments):
            known = ", ".join(self.speakers) or "none"
            raise EditError(f"No speaker {old!r} in the transcript (speakers: {known}).")
        new = _speaker_name(op.get("to"), "to")
        for seg in self.segments:
            if seg.get("speaker") == old:
                seg["speaker"] = new
                for w in seg["words"]:
                    w["speaker"] = new
        # Renaming onto an existing name merges the two speakers.
        self.speakers = list(dict.fromkeys(new if s == old else s for s in self.speakers))

    def _set_speaker(self, op: dict[str, Any]) -> None:
        seg = self.segments[_segment(self.segments, op)]
        name = _speaker_name(op.get("speaker"), "speaker")
        seg["speaker"] = name
        for w in seg["words"]:
            w["speaker"] = name
        if name not in self.speakers:
            self.speakers.append(name)

    def _edit_text(self, op: dict[str, Any]) -> None:
        seg = self.segments[_segment(self.segments, op)]
        text = _text(op.get("text"))
        if text == seg.get("text", "").strip():
            return
        seg["words"] = align_words(seg["words"], text, float(seg["start"]), float(seg["end"]),
                                   seg.get("speaker"))
        seg["text"] = text
        self.changed.add(id(seg))

    def _merge(self, op: dict[str, Any]) -> None:
        """Segment ``segment`` and the one after it become one (the first one's speaker)."""
        i = _segment(self.segments, op)
        if i + 1 >= len(self.segments):
            raise EditError(f"Segment {i} is the last one: there is no next segment to merge it with.")
        first, second = self.segments[i], self.segments[i + 1]
        speaker = first.get("speaker")
        words = first["words"] + second["words"]
        if speaker is not None:
            for w in words:
                w["speaker"] = speaker
        merged = {
            **first,
            "start": min(float(first["start"]), float(second["start"])),
            "end": max(float(first["end"]), float(second["end"])),
            "text": f"{first.get('text', '').strip()} {second.get('text', '').strip()}".strip(),
            "words": words,
            # weighted by length, as the two decodes were
            "confidence": round(_weighted_confidence(first, second), 4),
        }
        self.segments[i : i + 2] = [merged]
        self.changed.add(id(merged))

    def _split(self, op: dict[str, Any]) -> None:
        """Segment ``segment`` in two, before its word ``word`` (an index) or at the first word
        starting at or after ``at`` (seconds)."""
        i = _segment(self.segments, op)
        seg = self.segments[i]
        words = seg["words"]
        if len(words) < 2:
            raise EditError(f"Segment {i} has fewer than two words: there is nothing to split.")
        if "word" in op:
            k = op["word"]
            if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < len(words):
                raise EditError(f"'word' must be a word index from 1 to {len(words) - 1} (split before it).")
        elif "at" in op:
            at = op["at"]
            if isinstance(at, bool) or not isinstance(at, int | float):
                raise EditError("'at' must be a time in seconds.")
            k = next((n for n, w in enumerate(words) if float(w["start"]) >= at), len(words))
            if not 1 <= k < len(words):
                raise EditError(f"'at' must fall between the first and last word of segment {i}.")
        else:
            raise EditError("A split needs 'word' (split before that word) or 'at' (seconds).")
        head, tail = words[:k], words[k:]
        first = {**seg, "end": float(head[-1]["end"]), "words": head,
                 "text": " ".join(w["word"] for w in head)}
        second = {**seg, "start": float(tail[0]["start"]), "words": tail,
                  "text": " ".join(w["word"] for w in tail)}
        self.segments[i : i + 1] = [first, second]
        self.changed.update((id(first), id(second)))

    def finish(self) -> tuple[list[dict[str, Any]], list[str], str, list[int]]:
        used = [s.get("speaker") for s in self.segments if s.get("speaker")]
        speakers = [s for s in self.speakers if s in used] + [
            s for s in dict.fromkeys(used) if s not in self.speakers
        ]
        text = " ".join(s["text"].strip() for s in self.segments).strip()
        changed = [n for n, s in enumerate(self.segments) if id(s) in self.changed]
        return self.segments, speakers, text, changed


def _weighted_confidence(a: dict[str, Any], b: dict[str, Any]) -> float:
    wa, wb = max(1, len(a.get("words") or [])), max(1, len(b.get("words") or []))
    return (float(a.get("confidence", 1.0)) * wa + float(b.get("confidence", 1.0)) * wb) / (wa + wb)


def normalize_operations(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The PATCH body's operations: ``operations`` (a list, applied in order), plus two
    shorthands: ``speakers`` {"old": "new"} (renames) and ``segments`` [{"index", "text"?,
    "speaker"?}] (text and speaker edits)."""
    if not isinstance(body, dict):
        raise EditError("The body must be a JSON object.")
    known = {"operations", "speakers", "segments", "version"}
    extra = sorted(set(body) - known)
    if extra:
        raise EditError(f"Unknown field {extra[0]!r}: send operations, speakers, segments or version.")
    ops: list[dict[str, Any]] = []
    renames = body.get("speakers")
    if renames is not None:
        if not isinstance(renames, dict):
            raise EditError("'speakers' must be an object of old name → new name.")
        ops += [{"op": "rename_speaker", "from": old, "to": new} for old, new in renames.items()]
    edits = body.get("segments")
    if edits is not None:
        if not isinstance(edits, list) or not all(isinstance(e, dict) for e in edits):
            raise EditError("'segments' must be a list of {\"index\", \"text\"?, \"speaker\"?}.")
        for e in edits:
            if "text" in e:
                ops.append({"op": "edit_text", "segment": e.get("index"), "text": e["text"]})
            if "speaker" in e:
                ops.append({"op": "set_speaker", "segment": e.get("index"), "speaker": e["speaker"]})
    listed = body.get("operations")
    if listed is not None:
        if not isinstance(listed, list) or not all(isinstance(o, dict) for o in listed):
            raise EditError("'operations' must be a list of objects, each with an 'op'.")
        ops += listed
    if not ops:
        raise EditError("Nothing to change: send operations, speakers or segments.")
    if len(ops) > MAX_OPERATIONS:
        raise EditError(f"Too many operations: {len(ops)} (at most {MAX_OPERATIONS} per request).")
    return ops


def apply_operations(segments: list[dict[str, Any]], speakers: list[str],
                     ops: list[dict[str, Any]]):
    """``(segments, speakers, text, changed segment orders)`` after ``ops`` (``EditError`` at the
    first operation that does not apply, naming it)."""
    doc = _Doc(segments, speakers)
    for n, op in enumerate(ops):
        try:
            doc.apply(op)
        except EditError as exc:
            raise EditError(f"Operation {n} ({op.get('op')!r}): {exc}") from None
    return doc.finish()


# -- the service ------------------------------------------------------------------------------------
class TranscriptEditor:
    """Applies edits to stored transcripts. ``on_changed(transcript_id, segments)``, when given,
    is called after a commit whose text changed (the composition root refreshes embeddings)."""

    def __init__(self, db: Database,
                 on_changed: Callable[[str, list[dict[str, Any]]], None] | None = None):
        self.db = db
        self.on_changed = on_changed

    def edit(self, account_id: int, transcript_id: str, body: dict[str, Any],
             key_id: str | None = None) -> EditResult:
        ops = normalize_operations(body)
        expected = body.get("version")
        if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
            raise EditError("'version' must be the integer version the edit was made on.")
        with self.db.session() as s:
            row = s.scalar(
                select(Transcript).where(Transcript.id == transcript_id,
                                         Transcript.account_id == account_id)
                .with_for_update()
            )
            if row is None:
                raise TranscriptNotFound()
            if row.status != "completed":
                raise TranscriptNotCompleted(row.status)
            if expected is not None and expected != row.version:
                raise EditConflict(expected, row.version)
            segments, speakers, text, changed = apply_operations(
                list(row.segments or []), list(row.speakers or []), ops
            )
            row.segments, row.speakers, row.text = segments, speakers, text
            row.version = (row.version or 0) + 1
            row.updated_at = utcnow()
            s.add(TranscriptEdit(transcript_id=row.id, version=row.version, key_id=key_id,
                                 operations=ops, created_at=row.updated_at))
            s.flush()
        if changed and self.on_changed is not None:
            try:  # the edit is saved; stale vectors are refreshed by the next chat or search
                self.on_changed(transcript_id, segments)
            except Exception:
                log.exception("refreshing the embeddings of transcript %s failed", transcript_id)
        return EditResult(row, changed)

    def history(self, account_id: int, transcript_id: str) -> list[dict[str, Any]]:
        with self.db.session() as s:
            owner = s.scalar(select(Transcript.account_id).where(Transcript.id == transcript_id))
            if owner is None or owner != account_id:
                raise TranscriptNotFound()
            rows = s.scalars(select(TranscriptEdit).where(TranscriptEdit.transcript_id == transcript_id)
                             .order_by(TranscriptEdit.id)).all()
        return [{"version": r.version, "created_at": r.created_at, "operations": r.operations}
                for r in rows]
