"""Diarization accuracy and cost on the real recordings in ../shared/data, in one table.

    python bench/diarization.py [--data ../shared/data] [--model base] [--repeat 1]

Per file: DER as pyannote.metrics scores it (collar 0.25 s, the file's UEM; the whole file when it
has none), its parts (missed speech, false alarm, confusion), reference and found speaker counts,
diarization wall time (worker already warm; includes writing the audio for the worker), the
transcription time of the same file with the same Whisper model (``transcribe_file`` with
``diarize=False``), and diarization as a share of transcription time. Run by hand, not in CI;
the machine should be otherwise idle for the times to mean anything.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate

from vocable.config import Settings
from vocable.diarization.executor import DiarizationExecutor
from vocable.registry.speech import ModelRegistry
from vocable.transcription.pipeline import TranscribeOptions, transcribe_file
from vocable.transcription.whisper import WhisperExecutor

ROOT = Path(__file__).resolve().parents[1]


def reference(rttm: Path, uri: str) -> Annotation:
    ref = Annotation(uri=uri)
    for line in rttm.read_text().splitlines():
        f = line.split()
        if f and f[1] == uri:
            ref[Segment(float(f[3]), float(f[3]) + float(f[4]))] = f[7]
    return ref


def scored_region(uem: Path | None, uri: str, duration: float) -> Timeline:
    if uem is None:
        return Timeline([Segment(0, duration)])
    return Timeline([
        Segment(float(f[2]), float(f[3]))
        for f in (line.split() for line in uem.read_text().splitlines()) if f and f[0] == uri
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--model", default="base")
    parser.add_argument("--model-dir", type=Path, default=ROOT / ".cache" / "models")
    parser.add_argument("--repeat", type=int, default=1, help="timing runs per file (best kept)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads of the diarization worker (the server: cores / workers)")
    parser.add_argument("--torch", action="store_true",
                        help="run the networks in torch, not ONNX Runtime (for comparison)")
    args = parser.parse_args()

    data = args.data
    ami = data / "ami"
    files = [("call-2spk", data / "call-2spk.wav", data / "call-2spk.rttm", None)]
    files += [(u, ami / f"{u}.wav", ami / "ami.rttm", ami / "ami.uem")
              for u in ("dev00", "dev01", "tst00", "tst01")]
    files += [("jfk", data / "jfk.wav", None, None)]  # one speaker, no RTTM: count only

    settings = Settings(model_dir=args.model_dir, default_model=args.model)
    whisper = WhisperExecutor(ModelRegistry(args.model_dir), settings)
    diarizer = DiarizationExecutor(
        threads=args.threads, onnx_dir=None if args.torch else args.model_dir / "diarization"
    )
    print(f"diarization: {args.threads} thread(s), {'torch' if args.torch else 'ONNX Runtime'}")
    started = time.perf_counter()
    diarizer.start()
    print(f"diarization worker start + model load: {time.perf_counter() - started:.1f} s")
    whisper.model(args.model)

    rows = []
    for uri, wav, rttm, uem in files:
        audio, rate = sf.read(wav, dtype="float32")
        assert rate == 16000 and audio.ndim == 1, f"{wav}: need 16 kHz mono"
        duration = len(audio) / rate
        t_diar, t_asr = float("inf"), float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            turns = diarizer.diarize(audio)
            t_diar = min(t_diar, time.perf_counter() - t0)
            t0 = time.perf_counter()
            transcribe_file(wav, TranscribeOptions(model=args.model, diarize=False), whisper)
            t_asr = min(t_asr, time.perf_counter() - t0)
        found = len({t.speaker for t in turns})
        row = {"uri": uri, "duration": duration, "found": found, "t_diar": t_diar, "t_asr": t_asr}
        if rttm is not None:
            ref = reference(rttm, uri)
            hyp = Annotation(uri=uri)
            for i, t in enumerate(turns):
                hyp[Segment(t.start, t.end), i] = t.speaker
            d = DiarizationErrorRate(collar=0.25)(
                ref, hyp, uem=scored_region(uem, uri, duration), detailed=True
            )
            total = d["total"] or 1.0
            row.update(
                der=d["diarization error rate"], miss=d["missed detection"] / total,
                fa=d["false alarm"] / total, conf=d["confusion"] / total, ref=len(ref.labels()),
            )
        else:
            row.update(ref=1)
        rows.append(row)

    head = (f"{'file':<10} {'dur s':>6} {'DER':>6} {'miss':>6} {'FA':>6} {'conf':>6} "
            f"{'spk ref':>7} {'spk found':>9} {'diar s':>7} {'asr s':>7} {'diar/asr':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        der = (f"{r['der']:6.3f} {r['miss']:6.3f} {r['fa']:6.3f} {r['conf']:6.3f}"
               if "der" in r else f"{'-':>6} {'-':>6} {'-':>6} {'-':>6}")
        print(f"{r['uri']:<10} {r['duration']:6.1f} {der} {r['ref']:>7} {r['found']:>9} "
              f"{r['t_diar']:7.2f} {r['t_asr']:7.2f} {r['t_diar'] / r['t_asr']:8.0%}")
    ami_der = [r["der"] for r in rows if r["uri"] not in ("call-2spk", "jfk")]
    counted = sum(r["found"] == r["ref"] for r in rows)
    t_diar = sum(r["t_diar"] for r in rows)
    t_asr = sum(r["t_asr"] for r in rows)
    print("-" * len(head))
    print(f"AMI mean DER {np.mean(ami_der):.3f} | speaker count right on {counted}/{len(rows)} "
          f"files | diarization {t_diar:.1f} s vs transcription {t_asr:.1f} s "
          f"({t_diar / t_asr:.0%} of it) for {sum(r['duration'] for r in rows):.0f} s of audio")
    diarizer.close()


if __name__ == "__main__":
    main()
