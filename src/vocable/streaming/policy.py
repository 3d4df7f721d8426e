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
  hypotheses agree are *committed*, where they are the same words (aligned, nearest in time), not
  a word two different phrases happen to open with; a word or two a decode drops between agreed
  ones is kept if Whisper was sure of it. Committed and finalized words are forced as the decoder's
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

``decode.py`` runs the Whisper decodes, ``agreement.py`` compares two hypotheses, ``vad.py`` the
VAD, ``scheduler.py`` serves the decode work of every open stream.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vocable.audio import SAMPLE_RATE
from vocable.results import Word
from vocable.streaming.agreement import agree
from vocable.streaming.decode import DecodeRequest, DecodeResult, cut_loop, normalize_word
from vocable.streaming.vad import VAD_WINDOW, StreamingVad

REPEAT_NGRAM = 3  # a new hypothesis repeating 3 or more of the words just said is a repetition
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
    min_speech_s: float = 0.25  # utterances with less speech are decoded only with the next one
    heard_margin_s: float = 0.2  # a decode this far past the end of speech finalizes without a flush
    speech_pad_s: float = 0.3  # audio kept before speech onset
    max_segment_s: float = 12.0  # audio without a final that forces finalization
    max_context_s: float = 3.0  # audio of earlier finals kept in the buffer for context
    max_gap_s: float = 2.0  # a longer pause drops that audio context (the text stays as prompt)
    stall_speech_s: float = 1.0  # speech after the fixed words that a decode must not ignore
    max_pending_s: float = 0.8  # committed words without punctuation are finalized after this span
    min_clause_s: float = 0.5  # a comma ends a final only when the final spans at least this
    prompt_chars: int = 200  # previous final text given to Whisper as context
    prompt_tokens: int = 48
    hint_tokens: int = 160  # the stream's own prompt and vocabulary (vocabulary.py bounds it)
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
    speaker: str | None = None  # with live speaker labels ("diarize": true)

    def message(self) -> dict:
        message = {
            "text": self.text,
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "words": [
                {"word": w.word, "start": round(w.start, 2), "end": round(w.end, 2),
                 "probability": round(w.probability, 3)}
                for w in self.words
            ],
        }
        if self.speaker:
            message["speaker"] = self.speaker
        return message


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


def _compression_ratio(text: str) -> float:
    data = text.strip().encode("utf-8")
    return len(data) / len(zlib.compress(data)) if len(data) > 24 else 1.0


def _join(words: list[Word]) -> str:
    return "".join(w.word for w in words).strip()


# -- the per-stream policy ------------------------------------------------------------------------
class StreamTranscriber:
    """One stream's state. ``push_pcm16``/``close_input``/``backlog_s`` may be called from any
    thread; everything else runs on the scheduler's worker thread.

    The buffer holds, in order: audio of recent finals (``_context``, kept so Whisper hears what
    comes before, at most ``max_context_s``), audio of committed words, and audio not agreed yet.
    """

    def __init__(self, model_id: str, language: str | None, options: StreamOptions | None = None,
                 hint: str = ""):
        self.model_id = model_id
        self.language = language  # None until detected (auto)
        self.hint = hint  # the client's prompt and vocabulary, in every decode's prompt
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
        self._onset = 0  # absolute sample where the current utterance's speech began
        self._short: tuple[int, int] | None = None  # a burst too short to decode alone
        self._heard_to = 0  # end sample of the decode that gave ``_tentative``

        self._context: list[Word] = []  # finalized words whose audio is still in the buffer
        self._committed: list[Word] = []  # agreed, not final yet
        self._tentative: list[Word] = []  # newest hypothesis after the committed words
        self._prompt = ""  # tail of the final text that left the buffer
        self._stalls = 0  # consecutive decodes that found nothing new despite speech
        self._last_partial = ""
        self._final_end = 0.0  # end of the last finalized word: finals never go back in time
        self._cut_word: tuple[str, float] | None = None  # (last fixed word, time) of a restart

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
                if self._speech < min_speech * SAMPLE_RATE and not self._committed:
                    self._short = (self._onset, self._speech_end)  # joins the next utterance
                if self._speech >= min_speech * SAMPLE_RATE and not nothing_new \
                        and not self._heard_whole():
                    return self._request(self._flush_at, flush=True), events
                # The last hypothesis heard the end (a flush decode would only add silence), or
                # there is too little speech after the fixed words to decode: it is final as is.
                events += self._finalize_heard()
                self._end_utterance(self._flush_at)
                continue
            if self._decode_due():
                if not nothing_new:
                    return self._request(self._absorbed, flush=False), events
                self._decoded_to = self._absorbed
            if self._input_finished():
                if self._segment and self._speech >= min_speech * SAMPLE_RATE and not nothing_new \
                        and not self._heard_whole(self._absorbed):
                    return self._request(self._absorbed, flush=True), events
                events += self._finalize_heard()
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
        self._decoded_to = self._heard_to = request.end_sample
        agreed, covered = agree(self._tentative, words)
        self._committed += agreed
        self._tentative = words[covered:]
        events += self._finalize(self._boundary(), split=True)  # one final per sentence
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
        words = cut_loop((self._context + self._committed)[-8:], words)
        if self._cut_word and words and not (self._context or self._committed):
            word, cut = self._cut_word
            if normalize_word(words[0].word) == word and words[0].start < cut + 0.5:
                words = words[1:]
        # A repetition says the fixed words' tail again ("... from Chicago." -> "from Chicago."),
        # up to the end of either; a phrase said twice with other words after it ("... originally
        # from Chicago. Oh, I'm" -> "originally from Chicago also") is speech.
        # The prompt counts too: after a long pause the fixed words are only text, and Whisper,
        # given a short burst ("Hello?"), may write the prompt's last sentence again.
        fixed = [normalize_word(w) for w in self._prompt.split()[-12:]] + \
            [normalize_word(w.word) for w in (self._context + self._committed)[-12:]]
        fixed = [w for w in fixed if w][-12:]
        new = [normalize_word(w.word) for w in words]
        for i in range(len(fixed) - REPEAT_NGRAM + 1):
            span = min(len(new), len(fixed) - i)
            if span >= REPEAT_NGRAM and new[:span] == fixed[i:i + span]:
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
                        self._onset = start
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
            self._trim(self._preroll_start(start, pad))

    def _trim_silence(self) -> None:
        """Outside speech the buffer keeps the context (while the pause is short) or a pre-roll."""
        pad = int(self.opts.speech_pad_s * SAMPLE_RATE)
        if self._context and self._absorbed - self._speech_end > self.opts.max_gap_s * SAMPLE_RATE:
            self._drop_context()
        if not self._context:
            self._trim(self._preroll_start(self._absorbed, pad))

    def _preroll_start(self, at: int, pad: int) -> int:
        """Where the audio kept before speech at ``at`` starts: ``speech_pad_s`` before it, or
        before a burst of speech too short to be decoded alone (a lone "hello", "yes") if it ended
        within ``max_gap_s``: that burst is decoded with the speech that follows, not lost."""
        if self._short is not None:
            start, end = self._short
            if at - end <= self.opts.max_gap_s * SAMPLE_RATE:
                return min(at, start) - pad
            self._short = None
        return at - pad

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

    def _heard_whole(self, end: int | None = None) -> bool:
        """The last decode heard all of the utterance's speech (it ended ``heard_margin_s`` after
        the VAD's end of speech, or at ``end``) and gave words: they are the utterance's end, and
        a flush decode of the same audio with more silence after it would add nothing."""
        if not self._tentative:  # (a looping or stalled decode leaves none)
            return False
        speech_end = self._speech_runs[-1][1] if self._speech_runs else self._speech_end
        needed = speech_end + int(self.opts.heard_margin_s * SAMPLE_RATE)
        return self._heard_to >= (min(needed, end) if end is not None else needed)

    def _finalize_heard(self) -> list[Event]:
        """Finalize the committed words and the newest hypothesis after them (words of the
        utterance's end: dropping them made short phrases vanish at pauses)."""
        self._committed += self._tentative
        self._tentative = []
        self._last_partial = ""
        return self._finalize(len(self._committed), split=True)

    def _request(self, end_sample: int, flush: bool) -> DecodeRequest:
        audio = self._buf[: max(0, end_sample - self._buf_start)]
        return DecodeRequest(
            audio=audio, offset=self._buf_start / SAMPLE_RATE,
            prompt=self._prompt[-self.opts.prompt_chars:],
            prefix=_join(self._context + self._committed), language=self.language,
            flush=flush, end_sample=end_sample, fixed_until=self._fixed_until(), hint=self.hint,
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
        words = self._monotonic(words)
        events: list[Event] = []
        for group in self._split(words) if split else [words]:
            text = _join(group)
            if text:
                events.append(Final(text=text, start=group[0].start, end=group[-1].end,
                                    words=[Word(w.word.strip(), w.start, w.end, w.probability)
                                           for w in group]))
        self._context += words
        return events

    def _monotonic(self, words: list[Word]) -> list[Word]:
        """Word times from separate decodes can overlap by a few tens of ms (each decode places its
        words afresh): clamp them so every final starts where the previous one ended or later."""
        out = []
        for w in words:
            start = max(w.start, self._final_end)
            end = max(w.end, start)
            self._final_end = end
            out.append(w if (start, end) == (w.start, w.end) else Word(w.word, start, end, w.probability))
        return out

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
        last = (self._context + self._committed)[-1:]
        following = self._tentative
        if following and following[0].start > cut:
            cut = (cut + following[0].start) / 2
        # Word ends are often placed early: the restarted buffer may open on the fixed last
        # word's tail, which Whisper then writes again ("Chicago Chicago also").
        self._cut_word = (normalize_word(last[0].word), cut) if last else None
        self._drop_context()
        self._trim(int(cut * SAMPLE_RATE))
        self._tentative = []
        return events

    def _end_utterance(self, end_sample: int) -> None:
        self._flush_at = None
        self._cut_word = None
        self._segment = self._in_speech
        self._speech = 0
        self._committed = []
        self._tentative = []
        self._decoded_to = max(self._decoded_to, end_sample)
        self._speech_end = max(self._speech_end, end_sample - self._silence)
        self._trim_context()
