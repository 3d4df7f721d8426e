"""Real-time transcription policy, independent of any transport.

A stream is PCM audio arriving in pieces; it leaves as *partials* (the interim transcript after the
last final, still allowed to change) and *finals* (segments that never change, with start and end
seconds). The policy, per stream (``StreamTranscriber``):

* **VAD gating.** Silero VAD (shipped with faster-whisper) runs incrementally on 32 ms windows.
  Nothing is decoded outside speech, so minutes of silence cost almost nothing and cannot make
  Whisper hallucinate; words Whisper places after the last speech the VAD heard are dropped.
* **Re-decoding the open buffer.** While speech goes on, the buffer is decoded every
  ``min_step_s`` of new audio, or with whatever arrived meanwhile when the machine is busy: a
  stream never drifts behind the speaker, its step grows instead.
* **LocalAgreement-2** (whisper_streaming, Macháček et al. 2023): words on which two consecutive
  hypotheses agree are *committed*. Committed and finalized words are forced as the decoder's
  prefix (as SimulStreaming does), so Whisper only writes what comes after them and can never
  contradict what the stream already showed. Partials show committed words plus the newest tail.
* **Finalization** of committed words at punctuation, after ``max_pending_s`` of committed text, at
  a VAD pause (``min_silence_s``: the utterance is decoded once more and finalized whole), after
  ``max_segment_s`` of audio without a final, and when the input ends.
* **Trimming.** Finalized audio stays in the buffer only as ``max_context_s`` of acoustic context
  (dropped after a pause longer than ``max_gap_s``); older finals go back in as a short text prompt.
  Buffer, prefix and prompt are bounded, so an hour-long stream costs per minute what its first
  minute cost.
* **Guards** against Whisper's failure modes in short windows: loops are cut (and the row decoded
  again on the full 30 s window), a decode that ignores speech after the fixed words twice
  restarts the buffer after them, and the usual no-speech / compression-ratio checks apply.

Decoding uses one shared faster-whisper model for all streams. ``StreamScheduler`` serves the decode
work of every open stream on one worker thread: each round takes at most one decode per stream,
oldest-served first, and runs the decodes of streams that share a model and language as one batch
(one encoder call, one generate call). A stream that sends faster than real time gets one decode
per round like everybody else, so it cannot starve the others; its backlog is reported
(``backlog_s``) so the transport can stop reading from it (backpressure).

The Whisper encoder runs on ``min_context_s`` or the buffer's length (whichever is longer), not on a
fixed 30 s window: CTranslate2 accepts shorter mel inputs and the encoder, the bulk of a decode,
gets cheaper with them (whisper.cpp's ``audio_ctx`` does the same).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vocable.results import Word

log = logging.getLogger("vocable.streaming.policy")

SAMPLE_RATE = 16_000
VAD_WINDOW = 512  # Silero VAD frame at 16 kHz (32 ms)
VAD_CONTEXT = 64
HOP = 160  # Whisper mel hop: 100 frames per second
MAX_FRAMES = 3000  # Whisper's 30 s window
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"
_PUNCTUATION = ".,;:!?…。，、？！"
REPEAT_NGRAM = 3  # a new hypothesis opening with 3 of the words just said is a repetition
_CLAUSE_END = (",", ";", ":", "，", "、")
_SENTENCE_END = (".", "?", "!", "。", "？", "！", "…")


@dataclass
class StreamOptions:
    """Tuning of the policy; defaults measured with ``bench/streaming.py`` on a 2-core CPU."""

    min_step_s: float = 0.5  # decode after at least this much new audio (real-time senders)
    max_advance_s: float = 4.0  # at most this much new audio per decode (backlogs, fast senders)
    vad_threshold: float = 0.5
    vad_neg_threshold: float = 0.35
    min_silence_s: float = 0.5  # a pause this long ends the utterance: everything is finalized
    min_speech_s: float = 0.25  # utterances with less speech than this are ignored (clicks, breaths)
    speech_pad_s: float = 0.3  # audio kept before speech onset
    max_segment_s: float = 12.0  # audio without a final that forces finalization
    max_context_s: float = 3.0  # audio of earlier finals kept in the buffer for context
    max_gap_s: float = 2.0  # a longer pause drops that audio context (the text stays as prompt)
    stall_speech_s: float = 1.0  # speech after the fixed words that a decode must not ignore
    max_pending_s: float = 1.5  # committed words without punctuation are finalized after this span
    min_clause_s: float = 0.5  # a comma ends a final only when the final spans at least this
    prompt_chars: int = 200  # previous final text given to Whisper as context
    prompt_tokens: int = 48
    min_context_s: float = 6.0  # shortest encoder window (Whisper's own is 30 s)
    beam_size: int = 1
    no_speech_threshold: float = 0.6
    logprob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4


# -- events ---------------------------------------------------------------------------------------
@dataclass
class Partial:
    """The interim transcript after the last final: replaces the previous partial."""

    text: str

    def message(self) -> dict:
        return {"partial": self.text}


@dataclass
class Final:
    """A finalized segment: never changes; times in seconds from the start of the stream."""

    text: str
    start: float
    end: float
    words: list[Word] = field(default_factory=list)

    def message(self) -> dict:
        return {
            "text": self.text,
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "words": [
                {"word": w.word, "start": round(w.start, 2), "end": round(w.end, 2),
                 "probability": round(w.probability, 3)}
                for w in self.words
            ],
        }


@dataclass
class Done:
    """The input ended and everything was finalized."""

    duration: float
    language: str | None

    def message(self) -> dict:
        return {"is_final": True, "duration": round(self.duration, 2), "language": self.language}


@dataclass
class Failed:
    """Decoding failed; the stream cannot continue."""

    error: str


Event = Partial | Final | Done | Failed


# -- voice activity -------------------------------------------------------------------------------
class StreamingVad:
    """Silero VAD over a stream: same probabilities as faster-whisper's whole-file pass, carried
    across calls (LSTM state and the 64-sample context of the previous window)."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session  # one ONNX session per process; run() is thread-safe
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(VAD_CONTEXT, dtype=np.float32)

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        """Speech probability of each row of ``windows`` (shape (n, 512))."""
        if len(windows) == 0:
            return np.zeros(0, dtype=np.float32)
        context = np.concatenate([self._context[None], windows[:-1, -VAD_CONTEXT:]], axis=0)
        batch = np.concatenate([context, windows], axis=1)
        probs, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = windows[-1, -VAD_CONTEXT:].copy()
        return np.asarray(probs, dtype=np.float32).reshape(-1)


# -- decoding -------------------------------------------------------------------------------------
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
    prefixes = [tokenizer.encode(" " + r.prefix.strip()) if r.prefix.strip() else []
                for r in requests]
    prompts = []
    for p, prefix in zip(previous, prefixes):
        prompt = model.get_prompt(tokenizer, p[len(p) - common:] if common else [],
                                  without_timestamps=True)
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
            avg_logprob=float(avg_logprob), looped=len(_cut_loop([], words)) < len(words),
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


def _compression_ratio(text: str) -> float:
    data = text.strip().encode("utf-8")
    return len(data) / len(zlib.compress(data)) if len(data) > 24 else 1.0


def _norm(word: str) -> str:
    return re.sub(r"[^\w']+", "", word.lower())


def _cut_loop(before: list[Word], words: list[Word]) -> list[Word]:
    """Cut a hypothesis where Whisper starts looping: a word 4 times in a row, or a phrase of
    2-4 words 3 times in a row (counting the committed words just before it)."""
    seq = [_norm(w.word) for w in before] + [_norm(w.word) for w in words]
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


def _join(words: list[Word]) -> str:
    return "".join(w.word for w in words).strip()


# -- the per-stream policy ------------------------------------------------------------------------
class StreamTranscriber:
    """One stream's state. ``push_pcm16``/``close_input``/``backlog_s`` may be called from any
    thread; everything else runs on the scheduler's worker thread.

    The buffer holds, in order: audio of recent finals (``_context``, kept so Whisper hears what
    comes before, at most ``max_context_s``), audio of committed words, and audio not agreed yet.
    """

    def __init__(self, model_id: str, language: str | None, options: StreamOptions | None = None):
        self.model_id = model_id
        self.language = language  # None until detected (auto)
        self.opts = options or StreamOptions()
        self._lock = threading.Lock()
        self._inbox: list[np.ndarray] = []
        self._inbox_samples = 0
        self._carry = b""  # odd trailing byte of a frame, completed by the next one
        self._received = 0  # samples pushed
        self._input_closed = False
        self._wake: Callable[[], None] = lambda: None
        self.last_served = 0.0
        self.done = False

        self._vad = StreamingVad()
        self._staged = np.zeros(0, dtype=np.float32)  # pulled from the inbox, not yet absorbed
        self._staged_probs = np.zeros(0, dtype=np.float32)  # one per complete window of _staged
        self._buf = np.zeros(0, dtype=np.float32)
        self._buf_start = 0  # absolute sample index of _buf[0]
        self._absorbed = 0  # absolute sample index of the end of _buf
        self._decoded_to = 0  # end of the audio the last decode saw
        self._in_speech = False
        self._segment = False  # an utterance is in the buffer
        self._silence = 0  # samples of silence since speech paused (within an utterance)
        self._speech = 0  # samples of speech in the current utterance
        self._speech_end = 0  # absolute sample where the last utterance ended
        self._flush_at: int | None = None
        self._speech_runs: list[list[int]] = []  # [start, end) samples the VAD called speech

        self._context: list[Word] = []  # finalized words whose audio is still in the buffer
        self._committed: list[Word] = []  # agreed, not final yet
        self._tentative: list[Word] = []  # newest hypothesis after the committed words
        self._prompt = ""  # tail of the final text that left the buffer
        self._stalls = 0  # consecutive decodes that found nothing new despite speech
        self._last_partial = ""

    # -- input side (any thread) ----------------------------------------------------------------
    def push_pcm16(self, data: bytes) -> None:
        """Little-endian int16 PCM of any length; an odd byte waits for the next frame."""
        with self._lock:
            if self._input_closed:
                return
            data = self._carry + data
            usable = len(data) - len(data) % 2
            self._carry = data[usable:]
            if usable:
                audio = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
                self._inbox.append(audio)
                self._inbox_samples += len(audio)
                self._received += len(audio)
        self._wake()

    def close_input(self) -> None:
        with self._lock:
            self._input_closed = True
        self._wake()

    @property
    def received_s(self) -> float:
        return self._received / SAMPLE_RATE

    @property
    def buffer_s(self) -> float:
        """Audio held for decoding (bounded: context + open words, whatever the stream's length)."""
        return len(self._buf) / SAMPLE_RATE

    @property
    def backlog_s(self) -> float:
        """Audio received but not yet transcribed (or, in silence, not yet examined)."""
        processed = self._decoded_to if self._segment else self._absorbed
        return max(0, self._received - processed) / SAMPLE_RATE

    def has_work(self) -> bool:
        if self.done:
            return False
        with self._lock:
            if self._inbox_samples or self._input_closed:
                return True
        return len(self._staged_probs) > 0 or self._flush_at is not None or self._decode_due()

    # -- worker side ------------------------------------------------------------------------------
    def prepare(self) -> tuple[DecodeRequest | None, list[Event]]:
        """Examine new audio; return the decode this stream needs now (if any) and the events
        produced without one (an utterance with nothing new to decode, the end of the stream)."""
        min_speech = self.opts.min_speech_s
        events: list[Event] = []
        while True:
            self._absorb()
            # No speech after the fixed words: a decode would have nothing to hear, and Whisper
            # forced past the end of what was said tends to repeat itself.
            nothing_new = self._speech_after(self._fixed_until()) < min_speech
            if self._flush_at is not None:
                if self._speech >= min_speech * SAMPLE_RATE and not nothing_new:
                    return self._request(self._flush_at, flush=True), events
                events += self._finalize(len(self._committed), split=True)
                self._end_utterance(self._flush_at)
                continue
            if self._decode_due():
                if not nothing_new:
                    return self._request(self._absorbed, flush=False), events
                self._decoded_to = self._absorbed
            if self._input_finished():
                if self._segment and self._speech >= min_speech * SAMPLE_RATE and not nothing_new:
                    return self._request(self._absorbed, flush=True), events
                events += self._finalize(len(self._committed), split=True)
                self.done = True
                events.append(Done(self._received / SAMPLE_RATE, self.language))
                return None, events
            return None, events

    def apply(self, request: DecodeRequest, result: DecodeResult) -> list[Event]:
        """Fold a decode into the state; return the events it produces."""
        o = self.opts
        words = result.words
        if result.no_speech_prob > o.no_speech_threshold and result.avg_logprob < o.logprob_threshold:
            words = []  # silence or noise decoded as text
        if result.looped and not request.flush:
            words = []  # nothing from a looping interim decode may be agreed on
        words = self._plausible(words)
        if words and _compression_ratio(_join(words)) > o.compression_ratio_threshold:
            words = []  # a repetition that is not a plain loop
        if self.language is None and words and (request.flush or self._committed):
            self.language = result.language
        events: list[Event] = []
        # Whisper, forced to continue the fixed words, sometimes ends the transcript there though
        # speech follows (or loops): after two such decodes (one at a pause), restart the buffer
        # after the fixed words, without them as prefix.
        stalled = not words and bool(self._context or self._committed) and \
            self._speech_after(self._fixed_until()) >= o.stall_speech_s
        self._stalls = self._stalls + 1 if stalled else 0
        if stalled and (request.flush or self._stalls >= 2):
            self._stalls = 0
            events += self._restart_after_fixed()
            if request.flush:
                return events  # the flush stays due: it runs again on the restarted buffer
        if request.flush:
            self._committed += words
            self._tentative = []
            events += self._finalize(len(self._committed), split=True)
            self._end_utterance(request.end_sample)
            self._last_partial = ""
            return events
        self._decoded_to = request.end_sample
        agreed = []  # LocalAgreement-2: the common prefix of this hypothesis and the previous one
        for i, (old, cur) in enumerate(zip(self._tentative, words)):
            if _norm(old.word) != _norm(cur.word):
                break
            # Whisper ends a cut-off hypothesis with a period: punctuation on a hypothesis' last
            # word is a guess, on a word followed by others it is informed.
            if old.word != cur.word and i == len(words) - 1:
                text = old.word if i < len(self._tentative) - 1 else cur.word.rstrip(_PUNCTUATION)
                cur = Word(text, cur.start, cur.end, cur.probability)
            agreed.append(cur)
        self._committed += agreed
        self._tentative = words[len(agreed):]
        events += self._finalize(self._boundary())
        if self._pending_s() >= o.max_segment_s:
            events += self._force_finalize()
        self._trim_context()
        text = _join(self._committed + self._tentative)
        if text != self._last_partial:
            self._last_partial = text
            if text:  # after a final that took everything, the next partial starts afresh
                events.append(Partial(text))
        return events

    # -- internals ------------------------------------------------------------------------------
    def _plausible(self, words: list[Word]) -> list[Word]:
        """Drop what Whisper adds beyond the audio: words placed after the last speech the VAD
        heard, and a new hypothesis that repeats the previous words (a known failure when the
        decoder is forced past the end of what was said)."""
        if self._speech_runs:
            last_speech = self._speech_runs[-1][1] / SAMPLE_RATE
            words = [w for w in words if w.start < last_speech + 0.3]
        words = _cut_loop((self._context + self._committed)[-8:], words)
        fixed = [_norm(w.word) for w in (self._context + self._committed)[-12:]]
        new = [_norm(w.word) for w in words[:REPEAT_NGRAM]]
        if len(new) == REPEAT_NGRAM and any(
            fixed[i:i + REPEAT_NGRAM] == new for i in range(len(fixed) - REPEAT_NGRAM + 1)
        ):
            return []
        return words

    def _decode_due(self) -> bool:
        if not self._segment:
            return False
        return self._absorbed - self._decoded_to >= self.opts.min_step_s * SAMPLE_RATE

    def _input_finished(self) -> bool:
        with self._lock:
            closed = self._input_closed and not self._inbox_samples
        return closed and len(self._staged_probs) == 0

    def _stage(self) -> None:
        """Move the inbox to the staging area and run the VAD on its complete windows (and on
        the padded last window once the input is closed)."""
        with self._lock:
            pieces, self._inbox, self._inbox_samples = self._inbox, [], 0
            closed = self._input_closed
        if pieces:
            self._staged = np.concatenate([self._staged, *pieces])
        done = len(self._staged_probs) * VAD_WINDOW
        remaining = len(self._staged) - done
        if remaining <= 0:
            return
        n = remaining // VAD_WINDOW
        if closed and remaining % VAD_WINDOW:
            n += 1
        if n:
            windows = np.pad(self._staged[done:], (0, n * VAD_WINDOW - remaining)) \
                if n * VAD_WINDOW > remaining else self._staged[done:done + n * VAD_WINDOW]
            probs = self._vad(windows.reshape(-1, VAD_WINDOW))
            self._staged_probs = np.concatenate([self._staged_probs, probs])

    def _absorb(self) -> None:
        """Consume staged windows into the buffer, following speech state, until a pause needs a
        flush or a decode is due with ``max_advance_s`` of new audio."""
        self._stage()
        o = self.opts
        thr, neg = o.vad_threshold, o.vad_neg_threshold
        min_silence = int(o.min_silence_s * SAMPLE_RATE)
        max_advance = int(o.max_advance_s * SAMPLE_RATE)
        taken = 0
        pieces = []
        for i, p in enumerate(self._staged_probs):
            if self._flush_at is not None:
                break
            if self._segment and self._absorbed - self._decoded_to >= max_advance:
                break
            window = self._staged[i * VAD_WINDOW:(i + 1) * VAD_WINDOW]
            start = self._absorbed
            pieces.append(window)
            self._absorbed += len(window)
            taken = i + 1
            if p >= thr or (self._in_speech and p >= neg):
                self._mark_speech(start, self._absorbed)
            if not self._in_speech:
                if p >= thr:
                    self._in_speech = True
                    self._silence = 0
                    if not self._segment:
                        self._segment = True
                        self._speech = 0
                        self._decoded_to = start
                        self._buf = np.concatenate([self._buf, *pieces])
                        pieces = []
                        self._start_utterance(start)
                    self._speech += len(window)
            else:
                if p < neg:
                    self._silence += len(window)
                    if self._silence >= min_silence:
                        self._in_speech = False
                        self._flush_at = self._absorbed
                        self._speech_end = self._absorbed - self._silence
                else:
                    if p >= thr:
                        self._silence = 0
                    self._speech += len(window)
        if pieces:
            self._buf = np.concatenate([self._buf, *pieces])
        if taken:
            self._staged = self._staged[taken * VAD_WINDOW:]
            self._staged_probs = self._staged_probs[taken:]
        if not self._segment:
            self._decoded_to = self._absorbed
            self._trim_silence()

    def _mark_speech(self, start: int, end: int) -> None:
        runs = self._speech_runs
        if runs and runs[-1][1] == start:
            runs[-1][1] = end
        else:
            runs.append([start, end])
        while runs and runs[0][1] <= self._buf_start:
            runs.pop(0)

    def _speech_after(self, t: float) -> float:
        """Seconds of VAD speech in the buffer after stream time ``t``."""
        start = int(t * SAMPLE_RATE)
        return sum(max(0, e - max(s, start)) for s, e in self._speech_runs) / SAMPLE_RATE

    def _fixed_until(self) -> float:
        """Stream time where the words already fixed (prefix of the next decode) end."""
        last = self._committed or self._context
        return last[-1].end if last else self._buf_start / SAMPLE_RATE

    def _start_utterance(self, start: int) -> None:
        """Speech begins at ``start``: keep the recent context only if the pause was short."""
        pad = int(self.opts.speech_pad_s * SAMPLE_RATE)
        if self._context and start - self._speech_end > self.opts.max_gap_s * SAMPLE_RATE:
            self._drop_context()
        if not self._context:
            self._trim(start - pad)

    def _trim_silence(self) -> None:
        """Outside speech the buffer keeps the context (while the pause is short) or a pre-roll."""
        pad = int(self.opts.speech_pad_s * SAMPLE_RATE)
        if self._context and self._absorbed - self._speech_end > self.opts.max_gap_s * SAMPLE_RATE:
            self._drop_context()
        if not self._context:
            self._trim(self._absorbed - pad)

    def _drop_context(self) -> None:
        self._prompt = (self._prompt + " " + _join(self._context))[-4 * self.opts.prompt_chars:]
        self._context = []

    def _trim(self, sample: int) -> None:
        """Drop buffered audio before absolute sample ``sample``."""
        cut = min(sample - self._buf_start, len(self._buf))
        if cut > 0:
            self._buf = self._buf[cut:].copy()
            self._buf_start += cut

    def _trim_context(self) -> None:
        """Keep at most ``max_context_s`` of finalized audio in the buffer: drop the oldest
        context words (their text moves to the prompt), cutting midway between two words."""
        if not self._context:
            return
        limit = self.opts.max_context_s
        end = self._context[-1].end
        if end - self._buf_start / SAMPLE_RATE <= limit:
            return
        following = self._committed or self._tentative
        count, cut = len(self._context), end
        for count in range(1, len(self._context) + 1):
            prev = self._context[count - 1]
            if count < len(self._context):
                next_start = self._context[count].start
            else:
                next_start = following[0].start if following else prev.end
            cut = (prev.end + max(next_start, prev.end)) / 2
            if end - cut <= limit:
                break
        dropped, self._context = self._context[:count], self._context[count:]
        self._prompt = (self._prompt + " " + _join(dropped))[-4 * self.opts.prompt_chars:]
        self._trim(int(cut * SAMPLE_RATE))

    def _pending_s(self) -> float:
        """Seconds of buffered audio after the last final."""
        start = self._context[-1].end if self._context else self._buf_start / SAMPLE_RATE
        return self._absorbed / SAMPLE_RATE - start

    def _request(self, end_sample: int, flush: bool) -> DecodeRequest:
        audio = self._buf[: max(0, end_sample - self._buf_start)]
        return DecodeRequest(
            audio=audio, offset=self._buf_start / SAMPLE_RATE,
            prompt=self._prompt[-self.opts.prompt_chars:],
            prefix=_join(self._context + self._committed), language=self.language,
            flush=flush, end_sample=end_sample, fixed_until=self._fixed_until(),
        )

    def _boundary(self) -> int:
        """How many committed words to finalize now: up to the last sentence end, or the last
        clause end if the final would last ``min_clause_s``, or all after ``max_pending_s``."""
        c = self._committed
        if not c:
            return 0
        o = self.opts
        for i in range(len(c) - 1, -1, -1):
            word = c[i].word.rstrip()
            if word.endswith(_SENTENCE_END):
                return i + 1
            if word.endswith(_CLAUSE_END) and c[i].end - c[0].start >= o.min_clause_s:
                return i + 1
        if c[-1].end - c[0].start >= o.max_pending_s:
            return len(c)
        return 0

    def _finalize(self, count: int, split: bool = False) -> list[Event]:
        """Emit the first ``count`` committed words as final segment(s); they become context."""
        if count <= 0:
            return []
        words, self._committed = self._committed[:count], self._committed[count:]
        events: list[Event] = []
        for group in self._split(words) if split else [words]:
            text = _join(group)
            if text:
                events.append(Final(text=text, start=group[0].start, end=group[-1].end,
                                    words=[Word(w.word.strip(), w.start, w.end, w.probability)
                                           for w in group]))
        self._context += words
        return events

    def _split(self, words: list[Word]) -> list[list[Word]]:
        """Cut a complete utterance into finals at the same boundaries as eager finalization."""
        groups: list[list[Word]] = []
        current: list[Word] = []
        for w in words:
            current.append(w)
            end = w.word.rstrip()
            if end.endswith(_SENTENCE_END) or (
                end.endswith(_CLAUSE_END) and w.end - current[0].start >= self.opts.min_clause_s
            ):
                groups.append(current)
                current = []
        if current:
            groups.append(current)
        return groups

    def _force_finalize(self) -> list[Event]:
        """``max_segment_s`` of audio without a final: finalize what is committed; if nothing was
        agreed, trust the newest hypothesis except its last second (that audio is still arriving)."""
        if not self._committed:
            horizon = self._absorbed / SAMPLE_RATE - 1.0
            stable = [w for w in self._tentative if w.end <= horizon]
            self._tentative = self._tentative[len(stable):]
            self._committed += stable
        if self._committed:
            return self._finalize(len(self._committed))
        # Nothing recognisable in max_segment_s of "speech": drop it rather than grow the buffer.
        self._drop_context()
        self._trim(self._absorbed - int(self.opts.speech_pad_s * SAMPLE_RATE))
        self._tentative = []
        return []

    def _restart_after_fixed(self) -> list[Event]:
        """Finalize the committed words and drop all audio up to the end of the fixed words."""
        events = self._finalize(len(self._committed))
        cut = self._fixed_until()
        following = self._tentative
        if following and following[0].start > cut:
            cut = (cut + following[0].start) / 2
        self._drop_context()
        self._trim(int(cut * SAMPLE_RATE))
        self._tentative = []
        return events

    def _end_utterance(self, end_sample: int) -> None:
        self._flush_at = None
        self._segment = self._in_speech
        self._speech = 0
        self._committed = []
        self._tentative = []
        self._decoded_to = max(self._decoded_to, end_sample)
        self._speech_end = max(self._speech_end, end_sample - self._silence)
        self._trim_context()


# -- the scheduler --------------------------------------------------------------------------------
@dataclass
class _Entry:
    stream: StreamTranscriber
    on_events: Callable[[list[Event]], None]


class StreamScheduler:
    """Serves every open stream's decode work from one worker thread, fairly and in batches."""

    def __init__(
        self,
        models: Callable[[str], object],
        *,
        max_batch: int = 4,
        options: StreamOptions | None = None,
    ):
        self._models = models  # model id -> loaded faster-whisper model (shared)
        self.max_batch = max(1, max_batch)
        self.options = options or StreamOptions()
        self._entries: dict[int, _Entry] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.decodes = 0  # counters, for tests and the bench
        self.batches = 0

    def open(
        self,
        model_id: str,
        language: str | None,
        on_events: Callable[[list[Event]], None],
        options: StreamOptions | None = None,
    ) -> StreamTranscriber:
        stream = StreamTranscriber(model_id, language, options or self.options)
        stream._wake = self._wake
        with self._cond:
            self._entries[id(stream)] = _Entry(stream, on_events)
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="vocable-stream", daemon=True)
                self._thread.start()
            self._cond.notify()
        return stream

    def detach(self, stream: StreamTranscriber) -> None:
        """Forget a stream (finished, failed or its client gone); idempotent."""
        with self._cond:
            self._entries.pop(id(stream), None)

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._entries)

    def shutdown(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._stopping or any(e.stream.has_work() for e in self._entries.values()),
                    timeout=1.0,
                )
                if self._stopping:
                    return
                entries = sorted(self._entries.values(), key=lambda e: e.stream.last_served)
            try:
                self._round(entries)
            except Exception:  # pragma: no cover - _round guards each stream
                log.exception("stream scheduler round failed")
                time.sleep(0.1)

    def _round(self, entries: list[_Entry]) -> None:
        """One decode per stream at most, oldest-served first; the first stream's (model,
        language, prompt) group forms the batch, the rest wait for the next round, first in line."""
        batch: list[tuple[_Entry, DecodeRequest]] = []
        key = None
        for entry in entries:
            if entry.stream.done or not entry.stream.has_work():
                continue
            try:
                request, events = entry.stream.prepare()
            except Exception as exc:
                log.exception("stream failed while preparing")
                self._fail(entry, f"Streaming failed: {exc}")
                continue
            if events:
                self._deliver(entry, events)
            if entry.stream.done:
                self.detach(entry.stream)
                continue
            if request is None:
                continue
            group = (entry.stream.model_id, request.language or f"auto:{id(entry)}",
                     bool(request.prompt.strip()))
            if key is None:
                key = group
            if group == key and len(batch) < self.max_batch:
                batch.append((entry, request))
        if not batch:
            return
        started = time.monotonic()
        try:
            model = self._models(batch[0][0].stream.model_id)
            results = decode_batch(model, [r for _, r in batch], self.options)
        except Exception:
            log.exception("stream decode failed")
            for entry, _ in batch:
                self._fail(entry, "Speech recognition failed; the stream cannot continue.")
            return
        self.decodes += len(batch)
        self.batches += 1
        now = time.monotonic()
        log.debug("decoded %d stream(s), %.1f s of audio at most, in %.2f s", len(batch),
                  max(r.duration for _, r in batch), now - started)
        for (entry, request), result in zip(batch, results):
            entry.stream.last_served = now
            try:
                events = entry.stream.apply(request, result)
            except Exception:
                log.exception("stream failed while applying a decode")
                self._fail(entry, "Streaming failed unexpectedly.")
                continue
            if events:
                self._deliver(entry, events)

    def _deliver(self, entry: _Entry, events: list[Event]) -> None:
        try:
            entry.on_events(events)
        except Exception:  # the consumer is gone (closed loop, ...): drop the stream
            log.debug("stream consumer failed; detaching", exc_info=True)
            self.detach(entry.stream)

    def _fail(self, entry: _Entry, message: str) -> None:
        entry.stream.done = True
        self.detach(entry.stream)
        self._deliver(entry, [Failed(message)])
