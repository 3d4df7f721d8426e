"""Live speaker labels (streaming/speakers.py) on utterance-sized pieces, by threshold.

    python bench/live_speakers.py [--data ../shared/data] [--model-dir .cache/models]

Pieces are what a stream finalizes: the finals of call-2spk streamed (in-process, base model,
fed as fast as decoded; each final's reference speaker is the call-2spk.rttm speaker talking most
of it, and finals that span a change of speaker are where live labels go wrong), the call-2spk STM
utterances, and the AMI clips' reference turns (ami.rttm) cut into pieces of at most 3 s, in time
order. Each piece's voiceprint is taken once (the diarization worker), then ``LiveSpeakers``
labels them online for every threshold and minimum of clean speech. A cell: share of speech given
to the right speaker (best one-to-one mapping of labels to reference speakers), and speakers found /
in the reference.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def stm_pieces(data: Path) -> tuple[str, list]:
    pieces = []
    for line in (data / "call-2spk.stm").read_text().splitlines():
        f = line.split(maxsplit=5)
        pieces.append((float(f[3]), float(f[4]), f[2]))
    return "call-2spk.wav", pieces


def streamed_pieces(data: Path, model_dir: Path) -> tuple[str, list]:
    from faster_whisper import WhisperModel

    from vocable.streaming.client import pcm16_from_file
    from vocable.streaming.decode import decode_batch
    from vocable.streaming.policy import Final, StreamOptions, StreamTranscriber

    model = WhisperModel(str(model_dir / "base"), device="cpu", compute_type="int8")
    opts = StreamOptions()
    stream = StreamTranscriber("base", "en", opts)
    finals = []

    def pump() -> None:
        while not stream.done:
            request, events = stream.prepare()
            if request is not None:
                events += stream.apply(request, decode_batch(model, [request], opts)[0])
            finals.extend((e.start, e.end) for e in events if isinstance(e, Final))
            if request is None:
                return

    pcm = pcm16_from_file(data / "call-2spk.wav")
    for offset in range(0, len(pcm), 16000):  # 0.5 s at a time
        stream.push_pcm16(pcm[offset:offset + 16000])
        pump()
    stream.close_input()
    pump()
    turns = [(float(f[3]), float(f[3]) + float(f[4]), f[7])
             for f in (line.split() for line in (data / "call-2spk.rttm").read_text().splitlines())]

    def talker(start: float, end: float) -> str:
        return max(turns, key=lambda t: min(end, t[1]) - max(start, t[0]))[2]

    return "call-2spk.wav", [(s, e, talker(s, e)) for s, e in finals if e > s]


def rttm_pieces(data: Path, name: str) -> tuple[str, list]:
    pieces = []
    for line in (data / "ami" / "ami.rttm").read_text().splitlines():
        f = line.split()
        if f[1] != name:
            continue
        start, end = float(f[3]), float(f[3]) + float(f[4])
        t = start
        while t < end - 0.3:
            pieces.append((t, min(t + 3.0, end), f[7]))
            t += 3.0
    return f"ami/{name}.wav", sorted(pieces)


def accuracy(refs, durations, labels) -> tuple[float, int, int]:
    from scipy.optimize import linear_sum_assignment

    hyp_ids = sorted({label for label in labels if label is not None})
    ref_ids = sorted(set(refs))
    overlap = np.zeros((max(1, len(hyp_ids)), len(ref_ids)))
    for label, ref, d in zip(labels, refs, durations):
        if label is not None:
            overlap[hyp_ids.index(label), ref_ids.index(ref)] += d
    rows, cols = linear_sum_assignment(-overlap)
    return overlap[rows, cols].sum() / sum(durations), len(hyp_ids), len(ref_ids)


def main() -> None:
    from vocable.audio import SAMPLE_RATE, decode_audio
    from vocable.config import Settings
    from vocable.diarization.executor import DiarizationExecutor
    from vocable.registry.pool import ModelPool
    from vocable.streaming.speakers import LiveSpeakers

    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--model-dir", type=Path, default=ROOT / ".cache" / "models")
    args = parser.parse_args()
    executor = DiarizationExecutor.for_settings(Settings(model_dir=args.model_dir), pool=ModelPool(600))
    files = [streamed_pieces(args.data, args.model_dir), stm_pieces(args.data)] + \
        [rttm_pieces(args.data, n) for n in ("dev00", "dev01", "tst00", "tst01")]
    titles = ["call finals"] + [Path(name).stem for name, _ in files[1:]]
    prints = []  # per source: (voiceprint, reference speaker, seconds) of each piece
    for name, pieces in files:
        audio = decode_audio(args.data / name)
        prints.append([
            (executor.voiceprint(audio[int(s * SAMPLE_RATE):int(e * SAMPLE_RATE)]), spk, e - s)
            for s, e, spk in pieces
        ])
    executor.close()
    print("| threshold | min speech | " + " | ".join(titles) + " |")
    print("|---|---|" + "---|" * len(files))
    for threshold, min_speech in [(t, m) for t in (0.2, 0.3, 0.4, 0.5) for m in (0.3, 0.6, 0.7, 0.8)]:
        cells = []
        for items in prints:
            known = iter([vp for vp, _, _ in items])
            live = LiveSpeakers(lambda _clip, known=known: next(known), threshold=threshold,
                                min_speech_s=min_speech)
            labels = [live.label(0.0, 0.0) for _ in items]
            acc, found, ref = accuracy([s for _, s, _ in items], [d for *_, d in items], labels)
            cells.append(f"{acc:.2f} ({found}/{ref})")
        print(f"| {threshold} | {min_speech} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
