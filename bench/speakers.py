"""Speakers known by name: false-accept and false-reject rates of voiceprint matching on the
shared recordings, per threshold, to choose ``voices.MATCH_THRESHOLD``.

    python bench/speakers.py [--data ../shared/data] [--model-dir .cache/models]

Clips: the four AMI clips (dev00/dev01 and tst00/tst01 are the same people, later in the
meeting) and call-2spk cut in halves (0-15 s, 15-30 s). Enrolment: each person of a clip from their
turns in the RTTM where nobody else talks (as a user would upload a clip of them); voiceprints
with less clean speech than the API accepts are left out. Trials: the speakers diarization finds
in each clip, each mapped to the reference person its turns overlap most, against every
voiceprint of other clips: the same person enrolled from the paired clip is a genuine trial,
another person an impostor one (the other voice on the same line is the hardest). FA = impostor
trials at or above the threshold / impostor trials; FR = genuine trials below it / genuine
trials. Then what users see: with the paired clip's voices enrolled, the names
``match_voices`` gives each clip's speakers (call-2spk against the AMI voices is in the impostor
trials). Run by hand; no timing, so a busy machine is fine.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

from vocable.diarization.executor import DiarizationExecutor
from vocable.diarization.voices import (
    MATCH_THRESHOLD,
    MIN_ENROL_SPEECH_S,
    Voice,
    match_voices,
    similarities,
)

ROOT = Path(__file__).resolve().parents[1]


def turns_of(rttm: Path, uri: str) -> dict[str, list[tuple[float, float]]]:
    out = defaultdict(list)
    for line in rttm.read_text().splitlines():
        f = line.split()
        if f and f[1] == uri:
            out[f[7]].append((float(f[3]), float(f[3]) + float(f[4])))
    return dict(out)


def alone(turns: dict[str, list[tuple[float, float]]], who: str, duration: float, rate=16000):
    """Sample mask of the stretches where ``who`` talks and nobody else does."""
    n = int(duration * rate)
    mine = np.zeros(n, bool)
    others = np.zeros(n, bool)
    for k, spans in turns.items():
        for a, b in spans:
            (mine if k == who else others)[int(a * rate):int(b * rate)] = True
    return mine & ~others


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--model-dir", type=Path, default=ROOT / ".cache" / "models")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    data, ami = args.data, args.data / "ami"
    diar = DiarizationExecutor(threads=args.threads, onnx_dir=args.model_dir / "diarization")

    # (name, audio file, rttm, rttm uri, seconds kept): both directions of each meeting pair, and
    # the call cut in halves (people talk in both)
    clips = [(u, ami / f"{u}.wav", ami / "ami.rttm", u, (0, 30)) for u in ("dev00", "dev01", "tst00", "tst01")]
    clips += [("call-a", data / "call-2spk.wav", data / "call-2spk.rttm", "call-2spk", (0, 15)),
              ("call-b", data / "call-2spk.wav", data / "call-2spk.rttm", "call-2spk", (15, 30))]
    pairs = {"dev00": "dev01", "dev01": "dev00", "tst00": "tst01", "tst01": "tst00",
             "call-a": "call-b", "call-b": "call-a"}  # enrolled from -> the clip of genuine trials
    loaded = {}
    for name, wav, rttm, uri, (a, b) in clips:
        audio, _ = sf.read(wav, dtype="float32")
        turns = {k: [(max(s, a) - a, min(e, b) - a) for s, e in v if e > a and s < b]
                 for k, v in turns_of(rttm, uri).items()}
        loaded[name] = (audio[a * 16000:b * 16000], {k: v for k, v in turns.items() if v})

    voices: list[tuple[str, str, np.ndarray]] = []  # (person, enrolled from, embedding)
    print(f"{'enrolled':<12} {'from':<10} {'clip s':>6} {'clean s':>7}")
    for name, (audio, turns) in loaded.items():
        for who in sorted(turns):
            clip = audio[alone(turns, who, len(audio) / 16000)]
            emb, speech = diar.voiceprint(clip)
            ok = speech >= MIN_ENROL_SPEECH_S
            print(f"{who:<12} {name:<10} {len(clip) / 16000:6.1f} {speech:7.1f}"
                  f"{'' if ok else '  (too little speech: refused, as the API does)'}")
            if ok:
                voices.append((who, name, emb))

    genuine, impostor, systems = [], [], []
    print(f"\n{'file':<10} {'found':<11} {'is':<10} " + " ".join(f"{v[0][:6]}/{v[1][-2:]:>2}" for v in voices))
    for name, (audio, ref) in loaded.items():
        turns, found = diar.diarize_with_voices(audio)
        people = {}
        for label, emb in found.items():
            mine = [t for t in turns if t.speaker == label]
            overlap = {p: sum(max(0.0, min(b, t.end) - max(a, t.start)) for a, b in spans for t in mine)
                       for p, spans in ref.items()}
            person = max(overlap, key=overlap.get) if overlap and max(overlap.values()) > 0 else None
            people[label] = person
            sims = similarities(emb[None], np.stack([v[2] for v in voices]))[0]
            print(f"{name:<10} {label:<11} {person!s:<10} " + " ".join(f"{s:9.3f}" for s in sims))
            for (who, source, _), s in zip(voices, sims, strict=True):
                if source == name:
                    continue  # never against a voiceprint of this very clip
                if who == person:
                    if pairs[source] == name:
                        genuine.append(float(s))
                else:
                    impostor.append(float(s))
        enrolled = [Voice(who, emb) for who, source, emb in voices if pairs.get(source) == name]
        systems.append((name, people, match_voices(found, enrolled)))

    genuine, impostor = np.array(genuine), np.array(impostor)
    print(f"\n{len(genuine)} genuine trials (min {genuine.min():.3f}, mean {genuine.mean():.3f}), "
          f"{len(impostor)} impostor trials (max {impostor.max():.3f}, mean {impostor.mean():.3f})")
    print(f"{'threshold':>9} {'FA':>6} {'FR':>6}")
    for th in np.arange(0.20, 0.81, 0.05):
        fa = float((impostor >= th).mean())
        fr = float((genuine < th).mean())
        mark = "  <- MATCH_THRESHOLD" if abs(th - MATCH_THRESHOLD) < 1e-6 else ""
        print(f"{th:9.2f} {fa:6.3f} {fr:6.3f}{mark}")
    print(f"\nnames given (threshold {MATCH_THRESHOLD}; the voices enrolled from the paired clip):")
    for uri, people, names in systems:
        shown = ", ".join(f"{lab}={names.get(lab, 'Speaker N')} (is {p})" for lab, p in people.items())
        print(f"  {uri}: {shown}")
    diar.close()


if __name__ == "__main__":
    main()
