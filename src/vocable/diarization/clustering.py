"""Clustering of speaker embeddings into speakers: which windows train it, spectral clustering
(or agglomerative, cut by a threshold), small clusters absorbed, near-identical voices merged.

Pure numpy/scipy/sklearn on unit embeddings; ``engine.py`` calls ``speaker_centroids``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vocable.diarization.engine import DiarizationParams

log = logging.getLogger("vocable.diarization.clustering")

PRUNE_ROWS = 256  # affinity rows pruned at a time (bounds the index array argpartition makes)


def speaker_centroids(
    emb: np.ndarray,
    clean: np.ndarray,
    moments: np.ndarray,
    num_speakers: int,
    p: DiarizationParams,
    embed: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Window embeddings (with their seconds of clean speech and pooling sums) -> (K, 192) unit
    centroids, one per speaker. ``embed`` turns pooling sums into unit embeddings (``Models.embed``)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    X = emb.astype(np.float64)
    train = np.flatnonzero(clean >= p.train_clean_s)
    if len(train) < max(2, num_speakers):
        train = np.arange(len(X))
    if len(train) > p.max_train:  # evenly spaced in time keeps every speaker's share
        train = train[np.linspace(0, len(train) - 1, p.max_train).round().astype(np.int64)]
    X = X[train]
    if len(X) < 2:
        return unit_vectors(X[:1])
    if p.method == "spectral":
        labels = spectral_labels(X, num_speakers, p)
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
        labels = absorb_small(X, labels, p.min_cluster_size)
        labels = merge_similar(moments[train], labels, p.merge_cos, embed)
    return unit_vectors(np.stack([X[labels == k].mean(0) for k in np.unique(labels)]))


def merge_similar(
    moments: np.ndarray, labels: np.ndarray, merge_cos: float, embed: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Merge the two most similar speakers while their voices, each embedded from all of its
    speech at once, are more alike than ``merge_cos``. Embeddings of many seconds are far more
    reliable than those of 1.5 s windows, so this catches a voice split in two (e.g. by
    loudness or channel) without merging two real speakers."""
    labels = labels.copy()
    while merge_cos < 1:
        ids = np.unique(labels)
        if len(ids) < 2:
            break
        emb = embed(np.stack([moments[labels == k].sum(0) for k in ids]))
        sim = np.triu(emb @ emb.T, 1)
        i, j = np.unravel_index(np.argmax(sim), sim.shape)
        log.debug("closest voices %.3f", sim[i, j])
        if sim[i, j] < merge_cos:
            break
        labels[labels == ids[j]] = ids[i]
    return np.unique(labels, return_inverse=True)[1]


def unit_vectors(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)



def absorb_small(X: np.ndarray, labels: np.ndarray, min_cluster_size: int) -> np.ndarray:
    """Merge clusters smaller than min_cluster_size (short outliers) into the nearest large one."""
    min_size = min(min_cluster_size, max(1, round(0.1 * len(X))))
    ids, sizes = np.unique(labels, return_counts=True)
    large = ids[sizes >= min_size]
    if len(large) == 0:
        return np.zeros_like(labels)
    cents = unit_vectors(np.stack([X[labels == k].mean(0) for k in large]))
    out = labels.copy()
    for k in ids[sizes < min_size]:
        members = labels == k
        out[members] = large[np.argmax(cents @ X[members].mean(0))]
    return np.unique(out, return_inverse=True)[1]


def spectral_labels(X: np.ndarray, num_speakers: int, p: DiarizationParams) -> np.ndarray:
    """Spectral clustering with p-pruned cosine affinity and the eigen-gap speaker count
    (3D-Speaker's recipe for CAM++ embeddings).

    Worked in place on one n x n matrix (n is at most ``max_train``): the affinity becomes the
    Laplacian, rows are pruned in blocks, and only the eigenpairs the speaker count needs are
    computed, so the peak is about two n x n matrices, not six.
    """
    from scipy.linalg import eigh
    from sklearn.cluster import KMeans

    A = X @ X.T
    n = len(A)
    drop = min(int((1 - p.pval) * n), n - 6)
    if drop > 0:
        for b in range(0, n, PRUNE_ROWS):  # each row keeps its n - drop largest affinities
            rows = A[b:b + PRUNE_ROWS]
            low = np.argpartition(rows, drop - 1, axis=1)[:, :drop]
            np.put_along_axis(rows, low, 0.0, axis=1)
    A += A.T  # numpy buffers the overlapping transpose
    A *= 0.5
    np.fill_diagonal(A, 0.0)
    degree = np.abs(A).sum(1)
    L = np.negative(A, out=A)  # the Laplacian D - A, in A's memory
    L[np.diag_indices(n)] += degree
    top = min(p.max_speakers, n - 1)
    k_max = min(max(top, num_speakers), n - 1)
    values, vectors = eigh(L, subset_by_index=[0, k_max], overwrite_a=True, check_finite=False)
    if num_speakers > 0:
        k = min(num_speakers, n)
    else:
        gaps = np.diff(values[: top + 1])
        k = int(np.argmax(gaps)) + 1
    if k <= 1:
        return np.zeros(n, dtype=np.int64)
    return KMeans(n_clusters=k, random_state=0, n_init=p.kmeans_runs).fit_predict(vectors[:, :k])
