"""Streaming benchmark: WS /v1/stream at real-time speed on ../shared/data (run by hand, not in CI).

For every file it reports, over the words of the final transcript:

* partial latency: from the moment the audio of a word had been sent (the frame holding the word's
  end) until the word first shows (in a partial or a final);
* final latency: from the same moment until the word arrives in a final;
* WER of the final text against the reference, and against file transcription of the same audio
  with the same model (how much streaming loses to having the whole file).

Word times come from file transcription of the same audio (full context, word timestamps), matched
to the streamed words; words that do not match use the stream's own timestamps.

Then it runs N concurrent real-time streams of one file for N = 1, 2, ... and reports the latencies
at each N; "sustained" is the largest N whose median final latency stays within the targets.

    python bench/streaming.py                        # starts a local server on the shared data
    python bench/streaming.py --url http://host:8000 --key voc_...   # an existing server
    python bench/streaming.py --files jfk.wav --max-streams 0        # quick
    python bench/streaming.py --files --max-streams 0 --wer-runs 5 --diarize   # WER spread, labels
    python bench/streaming.py --files --min-streams 4 --max-streams 4 --scale-repeat 20  # 10 min
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import difflib
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))  # tests.evaluation (WER)

from vocable.streaming.client import StreamOutcome, pcm16_from_file, stream_pcm

DATA = Path(os.environ.get("VOCABLE_TEST_DATA", ROOT.parent / "shared" / "data"))
MODEL_DIR = Path(os.environ.get("VOCABLE_TEST_MODEL_DIR", ROOT / ".cache" / "models"))
DEFAULT_FILES = ["jfk.wav", "call-2spk.wav", "ami/dev00.wav", "long/lecture-60s.wav"]
TARGET_FINAL_S, TARGET_PARTIAL_S = 1.5, 0.7
MATCH_WINDOW_S = 5.0  # a streamed word is matched to a file-transcribed word this close in time


def norm(word: str) -> str:
    return re.sub(r"[^\w']+", "", word.lower())


def words_of(text: str) -> list[str]:
    return [w for w in (norm(t) for t in text.split()) if w]


@dataclass
class Latencies:
    partial: list[float] = field(default_factory=list)
    final: list[float] = field(default_factory=list)
    words: int = 0


def word_latencies(out: StreamOutcome, reference_words: list[tuple[str, float]]) -> Latencies:
    """``reference_words``: (word, end time in the audio) from file transcription."""
    sent_audio = [a for a, _ in out.sent]
    sent_time = [t for _, t in out.sent]

    def sent_at(audio_s: float) -> float:
        i = min(bisect.bisect_left(sent_audio, audio_s - 1e-6), len(sent_time) - 1)
        return sent_time[i]

    finals: list[tuple[str, float, float]] = []  # (normalised word, own end time, received)
    for t, m in out.messages:
        if "text" in m:
            for w in m.get("words") or []:
                if norm(w["word"]):
                    finals.append((norm(w["word"]), w["end"], t))
    final_norm = [w for w, _, _ in finals]

    # When did each final word first show? Align every visible state (finals so far + partial).
    first_seen: list[float | None] = [None] * len(finals)
    shown: list[str] = []
    partial: list[str] = []
    for t, m in out.messages:
        if "text" in m:
            shown += [norm(w["word"]) for w in m.get("words") or [] if norm(w["word"])]
            partial = []
        elif "partial" in m:
            partial = words_of(m["partial"])
        else:
            continue
        visible = shown + partial
        matcher = difflib.SequenceMatcher(None, visible, final_norm, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                j = block.b + k
                if first_seen[j] is None:
                    first_seen[j] = t

    # Reference audio times from file transcription, matched to the streamed words.
    ref_end = [end for _, end, _ in finals]
    matcher = difflib.SequenceMatcher(None, final_norm, [norm(w) for w, _ in reference_words],
                                      autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            # A file played several times over (--scale-repeat) says the same words in every
            # copy: a match in another copy (far from where the stream heard the word) is wrong.
            end = reference_words[block.b + k][1]
            if abs(end - ref_end[block.a + k]) < MATCH_WINDOW_S:
                ref_end[block.a + k] = end

    lat = Latencies(words=len(finals))
    for i, (_, _, received) in enumerate(finals):
        spoken = sent_at(ref_end[i])
        lat.final.append(received - spoken)
        if first_seen[i] is not None:
            lat.partial.append(first_seen[i] - spoken)
    return lat


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p90(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


# -- a local server ---------------------------------------------------------------------------------
class LocalServer:
    def __init__(self, workdir: Path, **settings):
        import uvicorn

        from vocable.accounts.keys import create_account, create_key
        from vocable.api.app import create_app
        from vocable.config import Settings
        from vocable.services import Services

        self.settings = Settings(data_dir=workdir, model_dir=MODEL_DIR, default_model="base",
                                 stream_max_active=64, **settings)
        self.services = Services.create(self.settings)
        account = create_account(self.services.db, "bench@example.com", plan="paid",
                                 credits=1_000_000)
        self.key = create_key(self.services.db, account.id)[1]
        # Enough concurrency for the scaling runs.
        self.settings.plans["paid"].concurrent_jobs = 64
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(create_app(services=self.services), host="127.0.0.1", port=port,
                                log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


# -- runs -------------------------------------------------------------------------------------------
def file_transcription(path: Path, model_id: str, model_dir: Path) -> tuple[str, list[tuple[str, float]]]:
    """The same audio through file transcription (whole file, same model, word timestamps)."""
    from faster_whisper import WhisperModel

    from vocable.registry.speech import ModelRegistry
    from vocable.transcription.recognize import RecognitionOptions, recognize_file

    global _model
    if "_model" not in globals():
        _model = WhisperModel(str(ModelRegistry(model_dir).path(model_id)), device="cpu",
                              compute_type="int8")
    result = recognize_file(_model, path, RecognitionOptions(language="en", batched=False))
    words = [(w.word, w.end) for s in result.segments for w in s.words]
    return result.text, words


def print_file_table(rows: list, all_partial: list[float], all_final: list[float]) -> None:
    print()
    header = (f"{'file':24} {'audio':>6} {'words':>5} {'#part':>5} {'#fin':>4} "
              f"{'partial p50':>11} {'p90':>5} {'final p50':>9} {'p90':>5} "
              f"{'WER ref':>7} {'WER file':>8} {'ok':>3}")
    print(header)
    print("-" * len(header))
    for r in rows:
        wer_ref = f"{r[9]:.3f}" if r[9] is not None else "-"
        print(f"{r[0]:24} {r[1]:6.1f} {r[2]:5d} {r[3]:5d} {r[4]:4d} {r[5]:11.2f} {r[6]:5.2f} "
              f"{r[7]:9.2f} {r[8]:5.2f} {wer_ref:>7} {r[10]:8.3f} {'yes' if r[11] else 'NO':>3}")
    print(f"{'overall':24} {sum(r[1] for r in rows):6.1f} {sum(r[2] for r in rows):5d} "
          f"{'':5} {'':4} {median(all_partial):11.2f} {p90(all_partial):5.2f} "
          f"{median(all_final):9.2f} {p90(all_final):5.2f}")
    print(f"targets: median partial <= {TARGET_PARTIAL_S} s, median final <= {TARGET_FINAL_S} s")


def long_run(minutes: float, model_id: str, block_s: float = 120.0) -> None:
    """Flat cost: one stream of ``minutes`` of speech (news + lecture, repeated), fed as fast as
    it is decoded, in-process; per block of audio: decodes, their mean time, buffer and prefix."""
    import numpy as np

    from vocable.streaming.decode import decode_batch
    from vocable.streaming.policy import StreamOptions, StreamTranscriber

    file_transcription(DATA / "jfk.wav", model_id, MODEL_DIR)  # loads _model
    pieces = [pcm16_from_file(DATA / "long/news-169s.wav"), pcm16_from_file(DATA / "long/lecture-60s.wav")]
    total = int(minutes * 60 * 32000)
    pcm = b"".join(pieces * (total // sum(map(len, pieces)) + 1))[:total]
    opts = StreamOptions()
    stream = StreamTranscriber(model_id, "en", opts)
    blocks: dict[int, list] = {}
    chunk = 32000 // 2

    def pump() -> None:
        while True:
            request, _ = stream.prepare()
            if request is None:
                return
            started = time.perf_counter()
            result = decode_batch(_model, [request], opts)[0]
            elapsed = time.perf_counter() - started
            stream.apply(request, result)
            block = blocks.setdefault(int(request.end_sample / 16000 // block_s), [])
            block.append((elapsed, stream.buffer_s, len(request.prefix.split())))

    for offset in range(0, len(pcm), chunk):
        stream.push_pcm16(pcm[offset:offset + chunk])
        pump()
    stream.close_input()
    pump()
    print(f"\none stream of {minutes:g} min, decoded as fast as possible (in-process)")
    header = f"{'audio':>11} {'decodes':>7} {'decode ms':>9} {'buffer s max':>12} {'prefix words max':>16}"
    print(header)
    print("-" * len(header))
    for index in sorted(blocks):
        rows = np.array(blocks[index])
        print(f"{index * block_s / 60:4.0f}-{(index + 1) * block_s / 60:3.0f} min {len(rows):7d} "
              f"{rows[:, 0].mean() * 1000:9.0f} {rows[:, 1].max():12.1f} {rows[:, 2].max():16.0f}")


def wer_runs(url: str, key: str | None, args, manifest: dict, wer) -> None:
    """The final text of ``--scale-file`` streamed ``--wer-runs`` times in real time: WER against
    the reference and against file transcription, each run and the spread (worst run first)."""
    path = DATA / args.scale_file
    pcm = pcm16_from_file(path)
    file_text, _ = file_transcription(path, args.model, MODEL_DIR)
    reference = manifest.get(args.scale_file, {}).get("reference")
    print(f"\nfinal-text WER of {args.scale_file} over {args.wer_runs} real-time runs "
          f"(file transcription vs reference: {wer(reference, file_text) if reference else float('nan'):.3f})")
    stm = path.with_suffix(".stm")  # utterances with speakers: scores the live labels
    speakers = [(f[5], f[2]) for f in (line.split(maxsplit=5) for line in stm.read_text().splitlines())] \
        if args.diarize and stm.exists() else None
    refs, files, labels = [], [], []
    for i in range(args.wer_runs):
        out = asyncio.run(stream_pcm(url, pcm, key=key, model=args.model, language=args.language,
                                     options={"diarize": True} if args.diarize else None))
        refs.append(wer(reference, out.text) if reference else float("nan"))
        files.append(wer(file_text, out.text))
        line = f"  run {i + 1}: WER ref {refs[-1]:.3f} file {files[-1]:.3f}"
        if speakers:
            from tests.evaluation import word_speaker_error

            words = [(w["word"], m.get("speaker") or "?") for _, m in out.messages
                     if "words" in m for w in m["words"]]
            labels.append(word_speaker_error(speakers, words)[0])
            line += f" word-speaker error {labels[-1]:.3f} ({len({s for _, s in words})} labels)"
        print(f"{line}  {out.text}", flush=True)
    print(f"WER ref  worst {max(refs):.3f} best {min(refs):.3f} median {median(refs):.3f}")
    print(f"WER file worst {max(files):.3f} best {min(files):.3f} median {median(files):.3f}")
    if labels:
        print(f"word-speaker error of the live labels: worst {max(labels):.3f} best {min(labels):.3f} "
              f"median {median(labels):.3f}")


async def run_streams(url: str, key: str | None, pcm: bytes, n: int, model: str, language: str,
                      stagger_s: float) -> list[StreamOutcome]:
    async def one(i: int) -> StreamOutcome:
        await asyncio.sleep(i * stagger_s)
        # The client's own limit must outlast the audio (ten minutes of it with --scale-repeat).
        return await stream_pcm(url, pcm, key=key, model=model, language=language,
                                timeout_s=len(pcm) / 32000 + 300)

    return await asyncio.gather(*(one(i) for i in range(n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="server to test (default: start one here)")
    parser.add_argument("--key", help="API key for --url")
    parser.add_argument("--model", default="base")
    parser.add_argument("--language", default="en")
    parser.add_argument("--files", nargs="*", default=DEFAULT_FILES)
    parser.add_argument("--scale-file", default="call-2spk.wav")
    parser.add_argument("--max-streams", type=int, default=6, help="0 skips the concurrency runs")
    parser.add_argument("--min-streams", type=int, default=1)
    parser.add_argument("--scale-repeat", type=int, default=1,
                        help="concurrency runs on the scale file repeated this many times (lag over time)")
    parser.add_argument("--wer-runs", type=int, default=0,
                        help="stream --scale-file this many times (real time) and report the WER spread")
    parser.add_argument("--diarize", action="store_true",
                        help="the --wer-runs streams ask for live speaker labels, scored against "
                             "the file's .stm (share of words given to the wrong speaker)")
    parser.add_argument("--long-minutes", type=float, default=0,
                        help="also run one long stream in-process to show flat cost (e.g. 60)")
    parser.add_argument("--log", help="write the server's streaming debug log to this file")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="a StreamOptions field for the local server, e.g. max_context_s=1.5")
    args = parser.parse_args()
    if args.log:
        import logging

        handler = logging.FileHandler(args.log)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        logger = logging.getLogger("vocable.streaming")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

    from tests.evaluation import wer

    manifest = {m["audio"]: m for m in json.loads((DATA / "manifest.json").read_text())}
    server = None
    if args.url:
        if args.option:
            parser.error("--option applies to the local server only")
        url, key = args.url, args.key
    else:
        server = LocalServer(Path(tempfile.mkdtemp(prefix="vocable-bench-")))
        url, key = server.url, server.key
        if args.option:
            import dataclasses

            scheduler = server.services.streaming
            types = {f.name: f.type for f in dataclasses.fields(scheduler.options)}
            changes = {}
            for item in args.option:
                name, _, value = item.partition("=")
                if name not in types:
                    parser.error(f"--option: no StreamOptions field {name!r}")
                kind = str(types[name])
                changes[name] = (value.lower() in ("1", "true", "yes") if "bool" in kind
                                 else int(value) if "int" in kind else float(value))
            scheduler.options = dataclasses.replace(scheduler.options, **changes)
            print(f"options: {changes}")
    print(f"server {url}  model {args.model}  cpu {os.cpu_count()}  "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)

    rows, all_partial, all_final = [], [], []
    try:
        for name in args.files:
            path = DATA / name
            pcm = pcm16_from_file(path)
            file_text, ref_words = file_transcription(path, args.model, MODEL_DIR)
            out = asyncio.run(stream_pcm(url, pcm, key=key, model=args.model, language=args.language))
            lat = word_latencies(out, ref_words)
            reference = manifest.get(name, {}).get("reference")
            rows.append((
                name, len(pcm) / 32000, lat.words, len(out.partials), len(out.finals),
                median(lat.partial), p90(lat.partial), median(lat.final), p90(lat.final),
                wer(reference, out.text) if reference else None, wer(file_text, out.text),
                out.completed and out.close_code == 1000,
            ))
            all_partial += lat.partial
            all_final += lat.final
            print(f"  {name}: {out.text[:100]}", flush=True)

        if rows:
            print_file_table(rows, all_partial, all_final)

        if args.max_streams > 0:
            path = DATA / args.scale_file
            pcm = pcm16_from_file(path)
            file_text, ref_words = file_transcription(path, args.model, MODEL_DIR)
            if args.scale_repeat > 1:  # word times of every copy, shifted
                seconds = len(pcm) / 32000
                ref_words = [(w, end + k * seconds) for k in range(args.scale_repeat)
                             for w, end in ref_words]
                file_text = " ".join([file_text] * args.scale_repeat)
                pcm = pcm * args.scale_repeat
            print(f"\nconcurrent real-time streams of {args.scale_file} x{args.scale_repeat} "
                  f"(load {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
            header = (f"{'streams':>7} {'partial p50':>11} {'p90':>5} {'final p50':>9} {'p90':>5} "
                      f"{'end lag':>7} {'WER file':>8} {'ok':>3}")
            print(header)
            print("-" * len(header))
            sustained = 0
            for n in range(args.min_streams, args.max_streams + 1):
                outs = asyncio.run(run_streams(url, key, pcm, n, args.model, args.language, 0.37))
                partial, final, lags, wers = [], [], [], []
                for out in outs:
                    lat = word_latencies(out, ref_words)
                    partial += lat.partial
                    final += lat.final
                    done = [t for t, m in out.messages if m.get("is_final")]
                    if done and out.sent:
                        lags.append(done[0] - out.sent[-1][1])
                    wers.append(wer(file_text, out.text))
                ok = all(o.completed for o in outs)
                worst = max(range(len(outs)), key=lambda k: wers[k])
                if wers[worst] > 0.03:  # what a loaded stream lost, to see where
                    print(f"  worst stream (WER file {wers[worst]:.3f}): {outs[worst].text}", flush=True)
                for o in outs:
                    if not o.completed:
                        print(f"  incomplete stream: close {o.close_code} {o.close_reason!r} "
                              f"error {o.error!r}", flush=True)
                print(f"{n:7d} {median(partial):11.2f} {p90(partial):5.2f} {median(final):9.2f} "
                      f"{p90(final):5.2f} {max(lags) if lags else float('nan'):7.2f} "
                      f"{max(wers):8.3f} {'yes' if ok else 'NO':>3}", flush=True)
                if ok and median(final) <= TARGET_FINAL_S and median(partial) <= TARGET_PARTIAL_S:
                    sustained = n
                elif n > 1 and median(final) > 3 * TARGET_FINAL_S:
                    break
            print(f"sustained within targets: {sustained} concurrent stream(s)")
        if args.wer_runs:
            wer_runs(url, key, args, manifest, wer)
        if args.long_minutes:
            long_run(args.long_minutes, args.model)
    finally:
        if server:
            print(f"\nscheduler: {server.services.streaming.decodes} decodes in "
                  f"{server.services.streaming.batches} batches")
            server.stop()


if __name__ == "__main__":
    main()
