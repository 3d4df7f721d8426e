"""Transcript formatters: json, txt, srt, vtt. The one place every output of a transcript comes from
(the transcribe endpoint, stored-transcript exports, the CLI).

Subtitles are cut into cues of at most two lines of ``MAX_LINE`` characters and ``MAX_CUE_S``
seconds, at word boundaries (word timestamps), never across a change of speaker. Cues never
overlap in time (at the millisecond the formats show): a cue ends where the next one starts.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from datetime import timedelta

import srt
from webvtt import Caption, WebVTT

from vocable.results import Segment, Transcription

MAX_LINE = 42
MAX_LINES = 2
MAX_CUE_S = 6.0

FORMATS = ("json", "txt", "srt", "vtt")
CONTENT_TYPES = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


@dataclass
class Cue:
    start: float
    end: float
    text: str
    speaker: str | None


def render(transcription: Transcription, fmt: str) -> str:
    if fmt == "json":
        return to_json(transcription)
    if fmt == "txt":
        return to_txt(transcription)
    if fmt == "srt":
        return to_srt(transcription)
    if fmt == "vtt":
        return to_vtt(transcription)
    raise ValueError(f"Unknown format '{fmt}'. Use one of: {', '.join(FORMATS)}.")


def to_json(transcription: Transcription) -> str:
    return json.dumps(response_dict(transcription), ensure_ascii=False)


def response_dict(transcription: Transcription) -> dict:
    """The spec's JSON shape (fields may be added, never removed)."""
    data = transcription.to_dict()
    for segment in data["segments"]:
        for word in segment["words"]:
            if word.get("speaker") is None:
                word.pop("speaker", None)
    return data


def to_txt(transcription: Transcription) -> str:
    """Plain text; with speakers, one paragraph per speaker turn, labelled."""
    if not transcription.speakers:
        return transcription.text.strip() + "\n"
    paragraphs: list[tuple[str | None, list[str]]] = []
    for segment in transcription.segments:
        if paragraphs and paragraphs[-1][0] == segment.speaker:
            paragraphs[-1][1].append(segment.text)
        else:
            paragraphs.append((segment.speaker, [segment.text]))
    return "\n\n".join(
        f"{speaker}: {' '.join(texts)}" if speaker else " ".join(texts)
        for speaker, texts in paragraphs
    ) + "\n"


def to_srt(transcription: Transcription) -> str:
    subtitles = [
        srt.Subtitle(
            index=i,
            start=timedelta(seconds=cue.start),
            end=timedelta(seconds=cue.end),
            content=_wrap((f"{cue.speaker}: " if cue.speaker else "") + cue.text),
        )
        for i, cue in enumerate(cues(transcription), start=1)
    ]
    return srt.compose(subtitles)


def to_vtt(transcription: Transcription) -> str:
    vtt = WebVTT()
    for cue in cues(transcription):
        text = f"<v {cue.speaker}>{_wrap(cue.text)}" if cue.speaker else _wrap(cue.text)
        vtt.captions.append(Caption(_vtt_time(cue.start), _vtt_time(cue.end), text))
    return vtt.content


def cues(transcription: Transcription) -> list[Cue]:
    result: list[Cue] = []
    for segment in transcription.segments:
        result.extend(_segment_cues(segment))
    return _disjoint(result)


MIN_CUE_S = 0.001  # a cue squeezed between two others still lasts a millisecond


def _disjoint(cues: list[Cue]) -> list[Cue]:
    """Cues in time order (stable), on whole milliseconds, each ending at or before the next one's
    start: the recogniser's segments, the pieces diarization cuts them into and the minimum cue
    length can all overlap their neighbours, and players show overlapping cues stacked."""
    ordered = sorted(cues, key=lambda c: c.start)
    for c in ordered:
        c.start, c.end = round(c.start, 3), round(max(c.end, c.start), 3)
    for i, c in enumerate(ordered):
        if i:
            c.start = max(c.start, ordered[i - 1].end)
        if i + 1 < len(ordered) and ordered[i + 1].start > c.start:
            c.end = min(c.end, ordered[i + 1].start)
        c.end = round(max(c.end, c.start + MIN_CUE_S), 3)
    return ordered


def _segment_cues(segment: Segment) -> list[Cue]:
    # Room for the "Speaker N: " label that SRT puts in the text.
    max_chars = MAX_LINE * MAX_LINES - (len(segment.speaker) + 2 if segment.speaker else 0) - 4
    if not segment.words:
        return [Cue(segment.start, segment.end, segment.text, segment.speaker)]
    out: list[Cue] = []
    group: list = []
    for word in segment.words:
        text = " ".join(w.word for w in group + [word])
        too_long = len(text) > max_chars or (group and word.end - group[0].start > MAX_CUE_S)
        # A sentence end is a good place for a cue to end once it holds a line's worth.
        sentence_end = group and group[-1].word[-1:] in ".?!" and len(text) > MAX_LINE
        if group and (too_long or sentence_end):
            out.append(_cue(group, segment.speaker))
            group = []
        group.append(word)
    if group:
        out.append(_cue(group, segment.speaker))
    return out


def _cue(words: list, speaker: str | None) -> Cue:
    end = max(words[-1].end, words[0].start + 0.2)
    return Cue(words[0].start, end, " ".join(w.word for w in words), speaker)


def _wrap(text: str) -> str:
    """At most MAX_LINE characters a line, lines balanced (two similar lines, not one long)."""
    if len(text) <= MAX_LINE:
        return text
    for width in range(len(text) // 2, MAX_LINE + 1):
        lines = textwrap.wrap(text, width)
        if len(lines) <= MAX_LINES:
            return "\n".join(lines)
    return "\n".join(textwrap.wrap(text, MAX_LINE))


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
