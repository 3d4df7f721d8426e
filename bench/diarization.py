"""Diarization accuracy and cost on the real recordings in ../shared/data, in one table.

    python bench/diarization.py [--data ../shared/data] [--model base] [--repeat 1]
        [--compare 'name=key=value,key=value' ...]

Per file: DER as pyannote.metrics scores it (collar 0.25 s, the file's UEM; the whole file when it
has none), its parts (missed speech, false alarm, confusion), reference and found speaker counts,
diarization wall time (worker already warm; includes writing the audio for the worker), the
transcription time of the same file with the same Whisper model (``transcribe_file`` with
``diarize=False``), and diarization as a share of transcription time. Run by hand, not in CI;
the machine should be otherwise idle for the times to mean anything.

What users see, on call-2spk: the DER of the transcribe response's segments (each segment one
speaker) and the word-speaker error (the share of the ``call-2spk.stm`` reference words the
recogniser got that are given to the wrong speaker), with turn changes snapped to word and pause
boundaries (``assign_speakers``) and without.

``--compare`` adds engine variants (``DiarizationParams`` overrides, e.g.
``--compare old=level_norm=0``) run in the same process on the same files, alternating with the
default so a busy machine slows both alike; each gets its own table and summary line.
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
from tests.evaluation import word_speaker_error

from vocable.config import Settings
from vocable.diarization.assign import assign_speakers
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


def parse_variant(text: str) -> tuple[str, dict]:
    name, _, body = text.partition("=")
    params = {}
    for item in filter(None, body.split(",")):
        key, _, value = item.partition("=")
        for cast in (int, float):
            try:
                params[key] = cast(value)
                break
            except ValueError:
                continue
        else:
            params[key] = value
    return name, params


def score(uri, duration, turns, rttm, uem) -> dict:
    ref = reference(rttm, uri)
    hyp = Annotation(uri=uri)
    for i, t in enumerate(turns):
        hyp[Segment(t.start, t.end), i] = t.speaker
    d = DiarizationErrorRate(collar=0.25)(
        ref, hyp, uem=scored_region(uem, uri, duration), detailed=True
    )
    total = d["total"] or 1.0
    return {
        "der": d["diarization error rate"], "miss": d["missed detection"] / total,
        "fa": d["false alarm"] / total, "conf": d["confusion"] / total, "ref": len(ref.labels()),
    }


def response_scores(data: Path, result, turns, snap: bool) -> tuple[float, float, int]:
    """call-2spk as the transcribe response shows it: segments' DER, word-speaker error."""
    from vocable.results import SpeakerTurn

    segments, _ = assign_speakers(result.segments, turns, snap=snap)
    as_turns = [SpeakerTurn(s.start, s.end, s.speaker) for s in segments]
    der = score("call-2spk", result.duration, as_turns, data / "call-2spk.rttm", None)["der"]
    stm = [line.split(maxsplit=5) for line in (data / "call-2spk.stm").read_text().splitlines()]
    wse, n = word_speaker_error([(u[5], u[2]) for u in stm],
                                [(w.word, w.speaker) for s in segments for w in s.words])
    return der, wse, n


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
    parser.add_argument("--compare", action="append", default=[],
                        help="another engine variant, 'name=key=value,...' (DiarizationParams)")
    args = parser.parse_args()

    data = args.data
    ami = data / "ami"
    files = [("call-2spk", data / "call-2spk.wav", data / "call-2spk.rttm", None)]
    files += [(u, ami / f"{u}.wav", ami / "ami.rttm", ami / "ami.uem")
              for u in ("dev00", "dev01", "tst00", "tst01")]
    files += [("jfk", data / "jfk.wav", None, None)]  # one speaker, no RTTM: count only

    settings = Settings(model_dir=args.model_dir, default_model=args.model)
    whisper = WhisperExecutor(ModelRegistry(args.model_dir), settings)
    variants = [("default", {})] + [parse_variant(v) for v in args.compare]
    onnx = None if args.torch else args.model_dir / "diarization"
    diarizers = {name: DiarizationExecutor(threads=args.threads, onnx_dir=onnx, params=params)
                 for name, params in variants}
    print(f"diarization: {args.threads} thread(s), {'torch' if args.torch else 'ONNX Runtime'}; "
          f"variants: {', '.join(f'{n} {p}' for n, p in variants)}")
    for name, diarizer in diarizers.items():
        started = time.perf_counter()
        diarizer.start()
        print(f"[{name}] worker start + model load: {time.perf_counter() - started:.1f} s")
    whisper.model(args.model)

    rows = {name: [] for name in diarizers}
    responses = {}
    for uri, wav, rttm, uem in files:
        audio, rate = sf.read(wav, dtype="float32")
        assert rate == 16000 and audio.ndim == 1, f"{wav}: need 16 kHz mono"
        duration = len(audio) / rate
        t_diar = {name: float("inf") for name in diarizers}
        t_asr = float("inf")
        turns = {}
        for _ in range(args.repeat):
            for name, diarizer in diarizers.items():  # alternating: load hits each alike
                t0 = time.perf_counter()
                turns[name] = diarizer.diarize(audio)
                t_diar[name] = min(t_diar[name], time.perf_counter() - t0)
            t0 = time.perf_counter()
            result = transcribe_file(wav, TranscribeOptions(model=args.model, diarize=False), whisper)
            t_asr = min(t_asr, time.perf_counter() - t0)
        for name in diarizers:
            found = len({t.speaker for t in turns[name]})
            row = {"uri": uri, "duration": duration, "found": found, "t_diar": t_diar[name],
                   "t_asr": t_asr}
            row.update(score(uri, duration, turns[name], rttm, uem) if rttm else {"ref": 1})
            rows[name].append(row)
            if uri == "call-2spk":
                responses[name] = {snap: response_scores(data, result, turns[name], snap)
                                   for snap in (False, True)}

    head = (f"{'file':<10} {'dur s':>6} {'DER':>6} {'miss':>6} {'FA':>6} {'conf':>6} "
            f"{'spk ref':>7} {'spk found':>9} {'diar s':>7} {'asr s':>7} {'diar/asr':>8}")
    summary = []
    for name, table in rows.items():
        print(f"\n[{name}]")
        print(head)
        print("-" * len(head))
        for r in table:
            der = (f"{r['der']:6.3f} {r['miss']:6.3f} {r['fa']:6.3f} {r['conf']:6.3f}"
                   if "der" in r else f"{'-':>6} {'-':>6} {'-':>6} {'-':>6}")
            print(f"{r['uri']:<10} {r['duration']:6.1f} {der} {r['ref']:>7} {r['found']:>9} "
                  f"{r['t_diar']:7.2f} {r['t_asr']:7.2f} {r['t_diar'] / r['t_asr']:8.0%}")
        ami_der = [r["der"] for r in table if r["uri"] not in ("call-2spk", "jfk")]
        counted = sum(r["found"] == r["ref"] for r in table)
        td = sum(r["t_diar"] for r in table)
        ta = sum(r["t_asr"] for r in table)
        (d0, w0, n), (d1, w1, _) = responses[name][False], responses[name][True]
        summary.append(
            f"[{name}] AMI mean DER {np.mean(ami_der):.3f} | speaker count right on "
            f"{counted}/{len(table)} | diarization {td:.1f} s vs transcription {ta:.1f} s "
            f"({td / ta:.0%}) | call-2spk response DER {d0:.3f} -> {d1:.3f} snapped, "
            f"word-speaker error {w0:.3f} -> {w1:.3f} snapped ({n} words)"
        )
    print()
    print("\n".join(summary))
    for diarizer in diarizers.values():
        diarizer.close()


if __name__ == "__main__":
    main()
