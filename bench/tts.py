"""Speech synthesis: speed, intelligibility and voice similarity, in one table.

    python bench/tts.py [--data ../shared/data] [--model-dir .cache/models] [--model base]

Rows: the bundled Piper voice, and voice matching from each reference (3-8 s of a real speaker
from ../shared/data: J. F. Kennedy, the two people of the phone call, the lecturer, a newsreader).
Columns:

* ``RTF``: generation wall time / seconds of speech (voice already loaded; matching includes its
  per-request search and the WORLD conversion of every sentence);
* ``WER``: the speech transcribed back by the project's own transcription (bundled Whisper
  ``base``), against the text as a reader says it (numbers and dates in words), Whisper's
  English normaliser; target at most 0.05;
* ``sim ref``: CAM++ cosine of the output to the reference; ``sim others``: mean cosine of the
  same output to the other speakers' references; ``margin`` the difference (how much more like
  its target than like anyone else); ``bundled sim ref``: the bundled voice's cosine to the same
  reference, the baseline measured in the same run. ``X-Speaker-Similarity`` is what the answer
  reports.

Run by hand, not in CI; the machine should be otherwise idle for the times to mean anything.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.evaluation import wer

from vocable.audio import decode_audio
from vocable.audio.tts import normalize
from vocable.audio.tts.speaker import resample
from vocable.config import Settings
from vocable.registry.pool import ModelPool
from vocable.registry.speech import ModelRegistry
from vocable.services import tts_service
from vocable.transcription.recognize import RecognitionOptions, recognize_windows
from vocable.transcription.whisper import WhisperExecutor

TEXT = (
    "Good morning, and welcome to the weekly update. On 03/14/2024 the team shipped version 2.5 "
    "to 1,200 customers. Dr. Patel said the results were better than expected, about 85% of "
    "users were happy. The next meeting is on Friday at 10:30 a.m. in room 4."
)
SR = 16000


def references(data: Path) -> dict[str, np.ndarray]:
    refs: dict[str, np.ndarray] = {"jfk": decode_audio(data / "jfk.wav")[: 8 * SR]}
    call = decode_audio(data / "call-2spk.wav")
    turns: dict[str, list[np.ndarray]] = {}
    for line in (data / "call-2spk.stm").read_text().splitlines():
        f = line.split()
        if len(f) >= 5:
            turns.setdefault(f[2], []).append(call[int(float(f[3]) * SR): int(float(f[4]) * SR)])
    for speaker, pieces in turns.items():
        joined = np.concatenate(pieces)
        if len(joined) >= 3 * SR:
            refs[f"call-{speaker}"] = joined[: 8 * SR]
    refs["lecture"] = decode_audio(data / "long" / "lecture-60s.wav")[5 * SR: 13 * SR]
    refs["news"] = decode_audio(data / "long" / "news-169s.wav")[2 * SR: 10 * SR]
    return refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("VOCABLE_TEST_DATA", ROOT.parent / "shared" / "data")))
    parser.add_argument("--model-dir", type=Path, default=Path(os.environ.get("VOCABLE_TEST_MODEL_DIR", ROOT / ".cache" / "models")))
    parser.add_argument("--model", default="base")
    args = parser.parse_args()

    settings = Settings(model_dir=args.model_dir, default_model=args.model)
    pool = ModelPool()
    whisper = WhisperExecutor(ModelRegistry(args.model_dir), settings, pool)
    tts = tts_service(settings, pool, whisper)
    encoder = tts.encoder
    spoken = normalize(TEXT)

    def heard(samples: np.ndarray, rate: int) -> str:
        options = RecognitionOptions(language="en", batched=False, word_timestamps=False)
        return recognize_windows(whisper.model(args.model), [resample(samples, rate, SR)], options).text

    refs = references(args.data)
    ref_emb = {name: encoder.embed(audio) for name, audio in refs.items()}
    tts.start("Warm up.").read_all()  # the voice loaded, not timed

    rows = []
    synthesis = tts.start(TEXT)
    out = synthesis.read_all()
    bundled_emb = encoder.embed(out, synthesis.sample_rate)
    rows.append(("bundled (joe)", synthesis.generation_s / synthesis.duration_s,
                 wer(spoken, heard(out, synthesis.sample_rate)), None, None, None, None))
    for name, audio in refs.items():
        started = time.monotonic()
        synthesis = tts.start(TEXT, reference=audio)
        out = synthesis.read_all()
        rtf = (time.monotonic() - started) / synthesis.duration_s
        emb = encoder.embed(out, synthesis.sample_rate)
        sim_ref = encoder.similarity(emb, ref_emb[name])
        others = [encoder.similarity(emb, e) for n, e in ref_emb.items() if n != name]
        base = encoder.similarity(bundled_emb, ref_emb[name])
        rows.append((f"matched → {name}", rtf, wer(spoken, heard(out, synthesis.sample_rate)),
                     sim_ref, float(np.mean(others)), base, synthesis.similarity))
        print(f"  {name}: alpha {synthesis.plan.alpha:.2f} beta {synthesis.plan.beta:.1f}", flush=True)

    head = f"{'voice':<22}{'RTF':>7}{'WER':>7}{'sim ref':>9}{'sim others':>12}{'margin':>8}{'bundled sim ref':>17}{'X-Speaker-Sim':>15}"
    print()
    print(head)
    print("-" * len(head))
    fmt = lambda v, w, p=3: f"{v:>{w}.{p}f}" if v is not None else f"{'-':>{w}}"
    for label, rtf, w, s, o, b, x in rows:
        margin = s - o if s is not None else None
        print(f"{label:<22}{rtf:>7.3f}{w:>7.3f}{fmt(s, 9)}{fmt(o, 12)}{fmt(margin, 8)}{fmt(b, 17)}{fmt(x, 15)}")
    matched = [r for r in rows if r[3] is not None]
    if matched:
        gain = np.mean([r[3] - r[5] for r in matched])
        print(f"\nmean similarity gain of matching over the bundled voice: {gain:+.3f} "
              f"(mean margin over other speakers: {np.mean([r[3] - r[4] for r in matched]):+.3f})")


if __name__ == "__main__":
    main()
