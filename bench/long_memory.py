"""Peak memory, wall time and RTF of long files transcribed with diarization, by duration.

Run by hand (not in CI), from the project root:

    python bench/long_memory.py                      # 15 min, 1 h, 2 h
    python bench/long_memory.py --durations 15       # minutes, comma-separated

The files are built at run time in a temporary directory (never in the repository) by joining
and repeating long/news-169s.wav, long/lecture-60s.wav and call-2spk.wav from the shared data
(../shared/data, or $VOCABLE_TEST_DATA), 0.5 s of silence between pieces, as 16 kHz 16-bit WAV.

Each duration runs in a fresh subprocess that does what a server's job does: the Whisper
executor and ``DiarizationExecutor.for_settings`` as ``Services.create`` builds them, then
``vocable.transcription.pipeline.transcribe_file`` with ``diarize=True``. Memory is sampled
every 0.1 s from /proc for the job process and for the diarization worker process it starts:

* ``job MB``   the job process's RSS high-water mark (VmHWM: Whisper, decoding, segments);
* ``diar MB``  the diarization worker's VmHWM, with its anonymous part (``anon``) -- file-backed
               pages of the memory-mapped audio count in RSS too;
* ``sum MB``   the largest sampled sum of both RSS at one moment: what the machine must hold
               (``job+diar`` says how it splits at that moment).

Both high-water marks are reset after a warm-up (each worker first transcribes jfk.wav, loading
both models), so they are the file's own; the models are in them, as they are in a server. RTF =
wall seconds / audio seconds, model loading excluded. ``diar s`` is the diarization part of it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # measure the checkout this script is in
SAMPLE_RATE = 16000
PIECES = ("long/news-169s.wav", "long/lecture-60s.wav", "call-2spk.wav")
TARGET_MB = 2048


# -- audio ---------------------------------------------------------------------------------------
def build_file(data: Path, minutes: float, out: Path) -> float:
    """Write ``minutes`` of joined, repeated speech to ``out`` (streamed: one piece in memory)."""
    from vocable.audio import decode_audio

    pieces = [(np.clip(decode_audio(data / p), -1, 1) * 32767).astype("<i2") for p in PIECES]
    gap = np.zeros(SAMPLE_RATE // 2, dtype="<i2")
    target = int(minutes * 60 * SAMPLE_RATE)
    written = 0
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        while written < target:
            for piece in pieces:
                part = np.concatenate([piece, gap])[: target - written]
                w.writeframes(part.tobytes())
                written += len(part)
                if written >= target:
                    break
    return written / SAMPLE_RATE


# -- /proc ---------------------------------------------------------------------------------------
def status_kb(pid: int, *keys: str) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in keys:
                out[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


class Sampler(threading.Thread):
    """Polls the RSS of this process and of the diarization worker (once it exists)."""

    def __init__(self, diarizer, interval_s: float = 0.1):
        super().__init__(daemon=True)
        self.diarizer, self.interval_s = diarizer, interval_s
        self.stop = threading.Event()
        self.peak_sum_kb = 0
        self.at_peak = (0, 0)  # (job, diar) RSS when the sum peaked
        self.diar_hwm_kb = self.diar_anon_kb = self.diar_file_kb = 0

    def run(self) -> None:
        while not self.stop.wait(self.interval_s):
            self.sample()

    def sample(self) -> None:
        job = status_kb(os.getpid(), "VmRSS").get("VmRSS", 0)
        diar = 0
        pid = self.diarizer.worker_pid
        if pid:
            s = status_kb(pid, "VmRSS", "VmHWM", "RssAnon", "RssFile")
            diar = s.get("VmRSS", 0)
            self.diar_hwm_kb = max(self.diar_hwm_kb, s.get("VmHWM", 0))
            self.diar_anon_kb = max(self.diar_anon_kb, s.get("RssAnon", 0))
            self.diar_file_kb = max(self.diar_file_kb, s.get("RssFile", 0))
        if job + diar > self.peak_sum_kb:
            self.peak_sum_kb, self.at_peak = job + diar, (job, diar)


def reset_peak(pid: int) -> None:
    """Reset a process's RSS high-water mark (Linux: '5' > clear_refs), so that the peak is the
    file's own, not the model loading's."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


# -- one duration, in a fresh process ------------------------------------------------------------
def worker(path: str, args) -> None:
    from vocable.config import Settings
    from vocable.diarization.executor import DiarizationExecutor
    from vocable.registry.pool import ModelPool
    from vocable.registry.speech import ModelRegistry
    from vocable.transcription.pipeline import TranscribeOptions, transcribe_file
    from vocable.transcription.whisper import WhisperExecutor

    settings = Settings(model_dir=args.model_dir, default_model=args.model, device="cpu")
    pool = ModelPool(settings.model_idle_unload_s)
    whisper = WhisperExecutor(ModelRegistry(args.model_dir), settings, pool)
    tmp = Path(path).parent
    diarizer = DiarizationExecutor.for_settings(settings, tmp_dir=tmp, pool=pool)
    options = TranscribeOptions(model=args.model, diarize=True)

    diar_s = 0.0
    apply = diarizer.apply

    def timed_apply(*a, **kw):
        nonlocal diar_s
        t0 = time.perf_counter()
        try:
            return apply(*a, **kw)
        finally:
            diar_s += time.perf_counter() - t0

    diarizer.apply = timed_apply
    transcribe_file(args.data / "jfk.wav", options, whisper, diarizer)  # load both models
    diar_s = 0.0
    reset_peak(os.getpid())
    reset_peak(diarizer.worker_pid)
    sampler = Sampler(diarizer)
    sampler.start()
    t0 = time.perf_counter()
    result = transcribe_file(path, options, whisper, diarizer)
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    sampler.sample()
    job_hwm = status_kb(os.getpid(), "VmHWM")["VmHWM"]
    row = {
        "audio_s": result.duration, "wall_s": wall, "diar_s": diar_s,
        "job_mb": job_hwm / 1024, "diar_mb": sampler.diar_hwm_kb / 1024,
        "diar_anon_mb": sampler.diar_anon_kb / 1024, "diar_file_mb": sampler.diar_file_kb / 1024,
        "sum_mb": sampler.peak_sum_kb / 1024,
        "at_peak_mb": [kb / 1024 for kb in sampler.at_peak],
        "segments": len(result.segments), "words": sum(len(s.words) for s in result.segments),
        "speakers": len(result.speakers),
    }
    diarizer.close()
    pool.close()
    print("RESULT " + json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", default="15,60,120", help="minutes, comma-separated")
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("VOCABLE_TEST_DATA", ROOT.parent / "shared" / "data")))
    parser.add_argument("--model", default="base")
    parser.add_argument("--model-dir", type=Path, default=Path(
        os.environ.get("VOCABLE_TEST_MODEL_DIR", ROOT / ".cache" / "models")))
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # internal: one file, this process
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args)
        return

    rows = []
    with tempfile.TemporaryDirectory(prefix="vocable-long-") as tmp:
        for minutes in (float(m) for m in args.durations.split(",")):
            path = Path(tmp) / f"long-{minutes:g}min.wav"
            build_file(args.data, minutes, path)
            cmd = [sys.executable, __file__, "--worker", str(path), "--model", args.model,
                   "--model-dir", str(args.model_dir), "--data", str(args.data)]
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
            path.unlink()
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode or not lines:
                print(f"{minutes:g} min: worker failed (exit {proc.returncode})", file=sys.stderr)
                continue
            row = {"minutes": minutes, **json.loads(lines[-1][len("RESULT "):])}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    print_table(rows, args.model)


def print_table(rows: list[dict], model: str) -> None:
    print(f"\nWhisper {model}, diarization on, {os.cpu_count()} cores; target: sum <= {TARGET_MB} MB, "
          "flat in duration")
    head = (f"{'audio':>8} {'wall s':>8} {'RTF':>6} {'diar s':>7} {'job MB':>7} {'diar MB':>8} "
            f"{'anon':>6} {'sum MB':>7} {'job+diar':>10} {'segs':>6} {'spk':>4}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['minutes']:>5g}min {r['wall_s']:>8.1f} {r['wall_s'] / r['audio_s']:>6.3f} "
              f"{r['diar_s']:>7.1f} {r['job_mb']:>7.0f} {r['diar_mb']:>8.0f} "
              f"{r['diar_anon_mb']:>6.0f} {r['sum_mb']:>7.0f} "
              f"{'{:.0f}+{:.0f}'.format(*r['at_peak_mb']):>10} {r['segments']:>6} {r['speakers']:>4}")


if __name__ == "__main__":
    main()
