"""Transcription speed, accuracy and memory: Vocable against bare faster-whisper and transformers.

Run by hand (not in CI), from the project root:

    python bench/transcription.py                       # all variants, 2 runs each, median
    python bench/transcription.py --runs 3 --variants server,fw-batched
    python bench/transcription.py --hf-model DIR        # 'hf' on this transformers checkout

Every variant uses the same model (``base``) and the same audio: each file of the shared data
(``../shared/data``, or $VOCABLE_TEST_DATA) and two long files built at run time in a temporary
directory by joining and repeating them (never committed):

* ``long-ref``  jfk + call-2spk, repeated to --long-min minutes; its reference is the joined
  references, so long-form WER is measured;
* ``long-mix``  news + lecture, repeated likewise (no reference: speed and memory).

Variants, each in a fresh subprocess so its peak RSS is its own (the peak is reset before each
file through /proc/<pid>/clear_refs, so it is the high-water mark of that file alone, model
included):

* ``server``      a real ``vocable serve`` on a free port, POST /v1/transcribe (diarize=false),
                  timed at the client: upload, probe, queue, decode, recognition, storage, JSON;
* ``batched``     ``vocable.transcription.pipeline.transcribe_file`` with batched inference;
* ``sequential``  the same, sequential;
* ``fw-seq``      a bare ``faster_whisper.WhisperModel.transcribe`` call with the same decoding
                  options (beam 5, VAD, word timestamps) -- the baseline of the issue;
* ``fw-batched``  a bare ``faster_whisper.BatchedInferencePipeline.transcribe`` call with the
                  same options: the exact work the server does on long files, so server / this
                  is the server's overhead;
* ``hf``          the Hugging Face ``transformers`` ASR pipeline (chunked, batched, beam 5) on a
                  transformers-format copy of the same weights. None is installable offline, so
                  by default ``bench/ct2_to_hf.py`` converts the CTranslate2 model once into
                  ``.cache/hf/<model>`` (float16 weights widened to float32, so the same numbers);
                  --hf-model DIR uses a given transformers directory instead.

RTF (real-time factor) = wall seconds / audio seconds, median over --runs runs (min-max after
it); CPU = process CPU seconds (all threads) per audio second, which the other tenants of a
shared machine disturb less than wall time. Warm model: each worker loads its model and
transcribes jfk.wav once before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # measure the checkout this script is in
VARIANTS = ("server", "batched", "sequential", "fw-seq", "fw-batched", "hf")
# Decoding options shared by every faster-whisper variant, the ones vocable.transcription.recognize uses.
FW_OPTIONS = {
    "beam_size": 5, "word_timestamps": True, "vad_filter": True, "condition_on_previous_text": False,
}
SAMPLE_RATE = 16000
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- audio set ------------------------------------------------------------------------------------
@dataclass
class BenchFile:
    name: str
    path: str
    duration: float
    reference: str | None = None


def build_files(data: Path, tmp: Path, long_min: float, only: list[str] | None) -> list[BenchFile]:
    from vocable.audio import decode_audio, probe

    manifest = json.loads((data / "manifest.json").read_text())
    files = [
        BenchFile(e["audio"], str(data / e["audio"]), probe(data / e["audio"]).duration, e.get("reference"))
        for e in manifest
    ]
    by_name = {f.name: f for f in files}

    def joined(name: str, parts: list[str], with_reference: bool) -> BenchFile:
        gap = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)  # 0.5 s between pieces
        pieces, refs, total = [], [], 0.0
        while total < long_min * 60:
            for part in parts:
                audio = decode_audio(by_name[part].path)
                pieces += [audio, gap]
                refs.append(by_name[part].reference or "")
                total += (len(audio) + len(gap)) / SAMPLE_RATE
        path = tmp / f"{name}.wav"
        _write_wav(path, np.concatenate(pieces))
        return BenchFile(name, str(path), round(total, 1), " ".join(refs) if with_reference else None)

    files.append(joined("long-ref", ["jfk.wav", "call-2spk.wav"], True))
    files.append(joined("long-mix", ["long/news-169s.wav", "long/lecture-60s.wav"], False))
    if only:
        files = [f for f in files if f.name in only]
    return files


def _write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())


# -- process measurements -------------------------------------------------------------------------
def reset_peak(pid: int) -> None:
    """Reset the process's RSS high-water mark (Linux: '5' > clear_refs)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime, all threads


# -- workers (one subprocess per variant and run) -------------------------------------------------
def worker(variant: str, files: list[BenchFile], args) -> None:
    transcribe, pid = make_runner(variant, args)
    warmup = next((f for f in files if f.name == "jfk.wav"), files[0])
    transcribe(warmup.path)
    for f in files:
        reset_peak(pid)
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        text = transcribe(f.path)
        wall, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
        row = {"variant": variant, "file": f.name, "wall": wall, "cpu": cpu,
               "peak_mb": peak_rss_mb(pid), "text": text}
        print(json.dumps(row), flush=True)


def hf_copy(model: str, model_path: str) -> Path:
    """A transformers-format copy of the CTranslate2 model, converted on first use and reused
    while the source model.bin is unchanged."""
    from ct2_to_hf import convert

    out = ROOT / ".cache" / "hf" / model
    stat = (Path(model_path) / "model.bin").stat()
    source = {"path": str(model_path), "size": stat.st_size, "mtime": stat.st_mtime}
    stamp = out / "ct2-source.json"
    if stamp.exists() and json.loads(stamp.read_text()) == source:
        return out
    print(f"hf: converting {model_path} to {out} ...", file=sys.stderr, flush=True)
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    convert(Path(model_path), staging)
    (staging / stamp.name).write_text(json.dumps(source))
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out


def make_runner(variant: str, args):
    """A function path -> transcript text, and the pid whose CPU and memory to measure."""
    if variant == "server":
        return _server_runner(args)
    if variant in ("batched", "sequential"):
        from vocable.config import Settings
        from vocable.registry.speech import ModelRegistry
        from vocable.transcription.pipeline import TranscribeOptions, transcribe_file
        from vocable.transcription.whisper import WhisperExecutor

        settings = Settings(model_dir=Path(args.model_dir), device="cpu")
        whisper = WhisperExecutor(ModelRegistry(Path(args.model_dir)), settings)
        options = TranscribeOptions(model=args.model, diarize=False, batched=variant == "batched")
        return (lambda path: transcribe_file(path, options, whisper).text), os.getpid()
    if variant in ("fw-seq", "fw-batched"):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        model = WhisperModel(args.model_path, device="cpu", compute_type="int8")

        def run(path: str) -> str:
            if variant == "fw-batched":
                segments, _ = BatchedInferencePipeline(model).transcribe(
                    path, batch_size=args.batch_size, **FW_OPTIONS
                )
            else:
                segments, _ = model.transcribe(path, **FW_OPTIONS)
            return " ".join(s.text.strip() for s in segments)

        return run, os.getpid()
    if variant == "hf":
        import torch
        from transformers import pipeline

        from vocable.audio import decode_audio

        asr = pipeline(
            "automatic-speech-recognition", model=args.hf_model, device="cpu",
            dtype=torch.float32, chunk_length_s=30, batch_size=args.batch_size, ignore_warning=True,
        )

        def run(path: str) -> str:
            audio = decode_audio(path)  # PyAV: the pipeline's own reader needs an ffmpeg binary
            out = asr({"raw": audio, "sampling_rate": SAMPLE_RATE},
                      generate_kwargs={"num_beams": 5, "task": "transcribe"})
            return out["text"].strip()

        return run, os.getpid()
    raise SystemExit(f"unknown variant {variant}")


def _server_runner(args):
    import atexit

    import httpx

    from vocable.accounts.keys import create_account, create_key
    from vocable.storage.db import Database

    data_dir = Path(tempfile.mkdtemp(prefix="vocable-bench-server-"))
    db = Database(f"sqlite:///{data_dir / 'vocable.db'}")
    db.migrate()
    account = create_account(db, "bench@localhost", plan="paid", credits=10**7)
    _, key = create_key(db, account.id, name="bench")
    db.dispose()
    port = _free_port()
    env = {
        **os.environ, "VOCABLE_DATA_DIR": str(data_dir), "VOCABLE_MODEL_DIR": args.model_dir,
        "VOCABLE_DEVICE": "cpu", "VOCABLE_DEFAULT_MODEL": args.model,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "vocable", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    atexit.register(lambda: (server.terminate(), server.wait(30), shutil.rmtree(data_dir, True)))
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"},
        timeout=httpx.Timeout(3600, connect=5),
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            if client.get("/health").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the vocable server did not start")
        time.sleep(0.2)

    def run(path: str) -> str:
        with open(path, "rb") as audio:
            r = client.post(
                "/v1/transcribe",
                files={"file": (Path(path).name, audio)},
                data={"model": args.model, "diarize": "false", "response_format": "json"},
            )
        r.raise_for_status()
        return r.json()["text"]

    return run, server.pid


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- driver ---------------------------------------------------------------------------------------
@dataclass
class Result:
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def run_worker(variant: str, files: list[BenchFile], args, files_json: Path) -> list[dict]:
    cmd = [
        sys.executable, __file__, "--worker", variant, "--files-json", str(files_json),
        "--model", args.model, "--model-dir", args.model_dir, "--model-path", args.model_path,
        "--batch-size", str(args.batch_size),
    ]
    if args.hf_model:
        cmd += ["--hf-model", args.hf_model]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0:
        print(f"  {variant}: worker exited {proc.returncode} after {len(rows)} file(s)", file=sys.stderr)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--runs", type=int, default=2, help="runs of each variant; the median is shown")
    p.add_argument("--files", default="", help="comma-separated file names (default: all)")
    p.add_argument("--long-min", type=float, default=7.5, help="minimum length of the long files")
    p.add_argument("--model", default="base")
    p.add_argument("--model-dir", default=os.environ.get("VOCABLE_MODEL_DIR", ""))
    p.add_argument("--model-path", default="", help=argparse.SUPPRESS)
    p.add_argument("--batch-size", type=int, default=0, help="0 = what vocable.transcription.recognize uses")
    p.add_argument("--data", default=os.environ.get("VOCABLE_TEST_DATA", str(ROOT.parent / "shared" / "data")))
    p.add_argument("--hf-model", default="",
                   help="transformers-format Whisper directory for 'hf' (default: converted --model)")
    p.add_argument("--json", default="", help="also write every measurement to this file")
    p.add_argument("--worker", default="", help=argparse.SUPPRESS)
    p.add_argument("--files-json", default="", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.worker:
        files = [BenchFile(**f) for f in json.loads(Path(args.files_json).read_text())]
        worker(args.worker, files, args)
        return

    from vocable.config import Settings
    from vocable.registry.speech import ModelRegistry
    from vocable.transcription.recognize import RecognitionOptions

    args.model_dir = args.model_dir or str(Settings().resolved_model_dir)
    args.model_path = str(ModelRegistry(Path(args.model_dir)).path(args.model))  # assembles once
    args.batch_size = args.batch_size or RecognitionOptions().batch_size
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if args.hf_model and "hf" not in variants:
        variants.append("hf")
    if "hf" in variants and not args.hf_model:
        args.hf_model = str(hf_copy(args.model, args.model_path))

    data = Path(args.data)
    with tempfile.TemporaryDirectory(prefix="vocable-bench-") as tmp:
        only = [f.strip() for f in args.files.split(",") if f.strip()] or None
        files = build_files(data, Path(tmp), args.long_min, only)
        files_json = Path(tmp) / "files.json"
        files_json.write_text(json.dumps([f.__dict__ for f in files]))
        results: dict[tuple[str, str], Result] = {}
        started = time.monotonic()
        for run in range(args.runs):  # runs interleaved, so slow spells of the machine are shared
            for variant in variants:
                print(f"run {run + 1}/{args.runs}: {variant} ...", file=sys.stderr, flush=True)
                for row in run_worker(variant, files, args, files_json):
                    r = results.setdefault((variant, row["file"]), Result())
                    r.walls.append(row["wall"])
                    r.cpus.append(row["cpu"])
                    r.peaks.append(row["peak_mb"])
                    r.texts.append(row["text"])
        if args.json:
            Path(args.json).write_text(json.dumps(
                {f"{v}|{f}": r.__dict__ for (v, f), r in results.items()}, indent=1))
        print_report(files, variants, results, args, time.monotonic() - started)


def print_report(files, variants, results, args, elapsed: float) -> None:
    from tests.evaluation import wer

    def med(xs):
        return statistics.median(xs) if xs else float("nan")

    print(f"\nTranscription benchmark: model {args.model}, CPU, int8 (CTranslate2), batch size "
          f"{args.batch_size}, {args.runs} run(s) per variant, median (min-max); {os.cpu_count()} "
          f"cores; {elapsed / 60:.0f} min in all\n")
    header = f"{'file':<20} {'audio s':>7}  {'variant':<11} {'RTF':>19} {'CPU s/s':>7} {'WER':>6} {'peak RSS MB':>11}"
    print(header)
    print("-" * len(header))
    summary: dict[tuple[str, str], dict] = {}
    for f in files:
        for v in variants:
            r = results.get((v, f.name))
            if r is None:
                continue
            rtfs = [w / f.duration for w in r.walls]
            errors = [wer(f.reference, t) for t in r.texts] if f.reference else []
            row = {"rtf": med(rtfs), "cpu": med(r.cpus) / f.duration,
                   "wer": med(errors) if errors else None, "peak": max(r.peaks), "wall": med(r.walls)}
            summary[(v, f.name)] = row
            spread = f"{row['rtf']:.3f} ({min(rtfs):.2f}-{max(rtfs):.2f})"
            wer_s = f"{row['wer']:.3f}" if row["wer"] is not None else "-"
            print(f"{f.name:<20} {f.duration:>7.1f}  {v:<11} {spread:>19} {row['cpu']:>7.3f} "
                  f"{wer_s:>6} {row['peak']:>11.0f}")
        print()

    def ratio(a: str, b: str, name: str, key: str = "wall") -> str:
        x, y = summary.get((a, name)), summary.get((b, name))
        return f"{x[key] / y[key]:.2f}x" if x and y else "n/a"

    for name in ("long-ref", "long-mix"):
        if not any((v, name) in summary for v in variants):
            continue
        print(f"{name}: server / fw-batched (same work) wall {ratio('server', 'fw-batched', name)}, "
              f"CPU {ratio('server', 'fw-batched', name, 'cpu')}; server / fw-seq wall "
              f"{ratio('server', 'fw-seq', name)}; sequential / batched wall "
              f"{ratio('sequential', 'batched', name)}, CPU {ratio('sequential', 'batched', name, 'cpu')}; "
              f"fw-seq / fw-batched wall {ratio('fw-seq', 'fw-batched', name)}; "
              f"hf / server wall {ratio('hf', 'server', name)}")
    print("RTF: wall s / audio s; CPU s/s: process CPU s (all threads) / audio s; peak RSS: "
          "high-water mark of the measured process during that file, model included.")


if __name__ == "__main__":
    main()
