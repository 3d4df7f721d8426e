"""Decoding stream buffers with faster-whisper: several streams' buffers in one batch (one
encoder call, one generate call), each forced to start with the words already fixed in it.

The Whisper encoder runs on ``min_context_s`` or the buffer's length (whichever is longer), not on a
fixed 30 s window: CTranslate2 accepts shorter mel inputs and the encoder, the bulk of a decode,
gets cheaper with them (whisper.cpp's ``audio_ctx`` does the same).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from vocable.audio import SAMPLE_RATE
from vocable.results import Word

if TYPE_CHECKING:
    from vocable.streaming.policy import StreamOptions

log = logging.getLogger("vocable.streaming.decode")

MAX_FRAMES = 3000  # Whisper's 30 s window
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"


@dataclass
class DecodeRequest:
    audio: np.ndarray  # float32 mono 16 kHz: the stream's buffer
    offset: float  # stream time (s) of audio[0]
    prompt: str  # final text said before the buffer, as context
    prefix: str  # text already fixed inside the buffer: the decoder is forced to start with it
    language: str | None  # None: detect
    flush: bool  # the utterance is complete: finalize everything
    end_sample: int  # absolute sample index of the end of ``audio``
    fixed_until: float = 0.0  # stream time where the prefix's words end
    hint: str = ""  # the stream's own prompt and vocabulary, before the final text (vocabulary.py)

    @property
    def duration(self) -> float:
        return len(self.audio) / SAMPLE_RATE

    @property
    def open_s(self) -> float:
        """Seconds of audio after the fixed words: what the decoder has to write."""
        return max(0.0, self.offset + self.duration - self.fixed_until)


@dataclass
class DecodeResult:
    words: list[Word]  # the words after the prefix, in stream time
    language: str
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    looped: bool = False  # the decoder fell into a repetition loop


def _tokenizer(model, language: str):
    """One tokenizer per (model, language), kept on the model object so it goes with it."""
    from faster_whisper.tokenizer import Tokenizer

    cache = model.__dict__.setdefault("_vocable_tokenizers", {})
    tok = cache.get(language)
    if tok is None:
        tok = cache[language] = Tokenizer(
            model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language
        )
    return tok


def decode_batch(model, requests: list[DecodeRequest], opts: StreamOptions,
                 full_window: bool = False) -> list[DecodeResult]:
    """Decode several streams' buffers with one encoder and one generate call.

    Each row is forced to start with its prefix (the words already fixed in its buffer), so the
    decoder only generates what is new and cannot rewrite what the stream already showed. All
    rows must share a language (or all detect it): word alignment runs once per batch with one
    start sequence. Prompts are cut to a common length because CTranslate2 needs the
    start-of-transcript token at the same position in every row."""
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.transcribe import get_suppressed_tokens, merge_punctuations

    feats = [model.feature_extractor(r.audio) for r in requests]
    frames = [f.shape[-1] for f in feats]
    context = max(int(opts.min_context_s * 100), max(frames) + 50)
    context = MAX_FRAMES if full_window else min(MAX_FRAMES, (context + 99) // 100 * 100)
    encoder_output = model.encode(np.stack([pad_or_trim(f, context) for f in feats]))

    multilingual = model.model.is_multilingual
    languages = [r.language or "" for r in requests]
    if multilingual and any(not lang for lang in languages):
        detected = model.model.detect_language(encoder_output)
        languages = [lang or d[0][0][2:-2] for lang, d in zip(languages, detected)]
    if not multilingual:
        languages = ["en"] * len(requests)
    if len(set(languages)) > 1:  # rare: auto streams detected differently; decode one by one
        return [decode_batch(model, [r], opts, full_window)[0] for r in requests]
    tokenizer = _tokenizer(model, languages[0])

    previous = [
        tokenizer.encode(" " + r.prompt.strip())[-opts.prompt_tokens:] if r.prompt.strip() else []
        for r in requests
    ]
    common = min(len(p) for p in previous)
    # Rows of one batch share their hint (the scheduler groups by it): it goes first, whole.
    hint = requests[0].hint.strip()
    hint_tokens = tokenizer.encode(" " + hint)[:opts.hint_tokens] if hint else []
    prefixes = [tokenizer.encode(" " + r.prefix.strip()) if r.prefix.strip() else []
                for r in requests]
    prompts = []
    for p, prefix in zip(previous, prefixes):
        said = hint_tokens + (p[len(p) - common:] if common else [])
        prompt = model.get_prompt(tokenizer, said, without_timestamps=True)
        prompts.append(prompt + prefix)
    # Speech is 3-4 tokens a second; the cap on what follows the prefix also cuts loops short.
    max_new = int((max(r.open_s for r in requests) + 2.0) * 6) + 12
    max_length = min(448, max(len(p) for p in prompts) + max_new)
    results = model.model.generate(
        encoder_output, prompts, beam_size=opts.beam_size, patience=1.0, length_penalty=1.0,
        max_length=max_length, suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        return_scores=True, return_no_speech_prob=True,
    )
    # Results hold prefix + new tokens: align them all (the prefix anchors the new words in time).
    tokens = [[t for t in r.sequences_ids[0] if t < tokenizer.eot] for r in results]
    alignments = model.find_alignment(tokenizer, tokens, encoder_output, frames)

    out = []
    for req, res, toks, prefix, alignment in zip(requests, results, tokens, prefixes, alignments):
        merge_punctuations(alignment, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS)
        words, seen = [], 0
        for a in alignment:
            first_token = seen
            seen += len(a["tokens"])
            if first_token < len(prefix) or not a["word"].strip():
                continue
            words.append(Word(
                word=a["word"],
                start=req.offset + min(float(a["start"]), req.duration),
                end=req.offset + min(float(a["end"]), req.duration),
                probability=float(a["probability"]),
            ))
        generated = max(1, len(toks) - len(prefix))
        avg_logprob = res.scores[0] * generated / (generated + 1) if res.scores else 0.0
        out.append(DecodeResult(
            words=words, language=languages[0], no_speech_prob=float(res.no_speech_prob),
            avg_logprob=float(avg_logprob), looped=len(cut_loop([], words)) < len(words),
        ))
    if not full_window and context < MAX_FRAMES:
        # Whisper was trained on 30 s windows; on a shorter one it sometimes loops on hard audio
        # (overlapping talkers, far microphones). A flush (its words become final) that loops is
        # decoded again on the full window; interim decodes only have the loop cut.
        retry = [i for i, r in enumerate(out) if requests[i].flush and r.looped]
        if retry:
            log.debug("looping on a short window: %d row(s) decoded again on 30 s", len(retry))
            again = decode_batch(model, [requests[i] for i in retry], opts, full_window=True)
            for i, result in zip(retry, again):
                out[i] = result
    return out


def normalize_word(word: str) -> str:
    return re.sub(r"[^\w']+", "", word.lower())


def cut_loop(before: list[Word], words: list[Word]) -> list[Word]:
    """Cut a hypothesis where Whisper starts looping: a word 4 times in a row, or a phrase of
    2-4 words 3 times in a row (counting the committed words just before it)."""
    seq = [normalize_word(w.word) for w in before] + [normalize_word(w.word) for w in words]
    offset = len(before)
    for end in range(offset + 1, len(seq) + 1):
        for size, times in ((1, 4), (2, 3), (3, 3), (4, 3)):
            start = end - size * times
            if start < 0:
                continue
            unit = seq[end - size:end]
            if all(seq[start + k * size:start + (k + 1) * size] == unit for k in range(times)):
                return words[:max(0, start + size - offset)]
    return words
