"""Speakers known by name: false-accept and false-reject rates of voiceprint matching on the
shared recordings, per threshold, to choose ``voices.MATCH_THRESHOLD``.

    python bench/speakers.py [--data ../shared/data] [--model-dir .cache/models]

Enrolment: each AMI person from the first clip of their meeting (dev00, tst00), with the audio of
their turns in ami.rttm where nobody else talks (as a user would upload a clip of them); the two
call-2spk voices from that file's RTTM turns. Trials: the speakers diarization finds in the
meeting's next clip (dev01, tst01) and in call-2spk, each mapped to the reference person its turns
overlap most, compared with every enrolled voice: the same person enrolled from another clip is
a genuine trial (never from the enrolment's own clip), another person an impostor one (in the
call, the other voice on the same line is the hardest). FA = impostor trials at or above the
threshold / impostor trials; FR = genuine trials below it / genuine trials. Then what users see:
with all eight voices enrolled, the names ``match_voices`` gives each test file's speakers. Run by hand; no timing, so a busy machine is fine.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

from vocable.diarization.executor import DiarizationExecutor
from vocable.diarization.voices import MATCH_THRESHOLD, Voice, match_voices, similarities

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

    enrol_files = [("dev00", ami / "dev00.wav", ami / "ami.rttm"), ("tst00", ami / "tst00.wav", ami / "ami.rttm"),
                   ("call-2spk", data / "call-2spk.wav", data / "call-2spk.rttm")]
    test_files = [("dev01", ami / "dev01.wav", ami / "ami.rttm"), ("tst01", ami / "tst01.wav", ami / "ami.rttm"),
                  ("call-2spk", data / "call-2spk.wav", data / "call-2spk.rttm")]
    voices: list[tuple[str, str, np.ndarray]] = []  # (person, enrolled from, embedding)
    print(f"{'enrolled':<12} {'from':<10} {'clip s':>6} {'clean s':>7}")
    for uri, wav, rttm in enrol_files:
        audio, _ = sf.read(wav, dtype="float32")
        turns = turns_of(rttm, uri)
        for who in sorted(turns):
            clip = audio[alone(turns, who, len(audio) / 16000)]
            emb, speech = diar.voiceprint(clip)
            print(f"{who:<12} {uri:<10} {len(clip) / 16000:6.1f} {speech:7.1f}")
            if speech > 0:
                voices.append((who, uri, emb))

    genuine, impostor, systems = [], [], []
    print(f"\n{'file':<10} {'found':<11} {'is':<10} " + " ".join(f"{v[0][:9]:>9}" for v in voices))
    for uri, wav, rttm in test_files:
        audio, _ = sf.read(wav, dtype="float32")
        turns, found = diar.diarize_with_voices(audio)
        ref = turns_of(rttm, uri)
        people = {}
        for label, emb in found.items():
            mine = [t for t in turns if t.speaker == label]
            overlap = {p: sum(max(0.0, min(b, t.end) - max(a, t.start)) for a, b in spans for t in mine)
                       for p, spans in ref.items()}
            person = max(overlap, key=overlap.get) if overlap and max(overlap.values()) > 0 else None
            people[label] = person
            sims = similarities(emb[None], np.stack([v[2] for v in voices]))[0]
            print(f"{uri:<10} {label:<11} {person!s:<10} " + " ".join(f"{s:9.3f}" for s in sims))
            for (who, source, _), s in zip(voices, sims):
                if who == person and source == uri:
                    continue  # a genuine trial needs another clip than the enrolment's
                (genuine if who == person else impostor).append(float(s))
        enrolled = [Voice(who, emb) for who, source, emb in voices if source != uri]
        systems.append((uri, people, match_voices(found, enrolled)))

    genuine, impostor = np.array(genuine), np.array(impostor)
    print(f"\n{len(genuine)} genuine trials (min {genuine.min():.3f}, mean {genuine.mean():.3f}), "
          f"{len(impostor)} impostor trials (max {impostor.max():.3f}, mean {impostor.mean():.3f})")
    print(f"{'threshold':>9} {'FA':>6} {'FR':>6}")
    for th in np.arange(0.20, 0.81, 0.05):
        fa = float((impostor >= th).mean())
        fr = float((genuine < th).mean())
        mark = "  <- MATCH_THRESHOLD" if abs(th - MATCH_THRESHOLD) < 1e-6 else ""
        print(f"{th:9.2f} {fa:6.3f} {fr:6.3f}{mark}")
    print(f"\nnames given (threshold {MATCH_THRESHOLD}; voices enrolled from other clips):")
    for uri, people, names in systems:
        shown = ", ".join(f"{lab}={names.get(lab, 'Speaker N')} (is {p})" for lab, p in people.items())
        print(f"  {uri}: {shown}")
    diar.close()


if __name__ == "__main__":
    main()
