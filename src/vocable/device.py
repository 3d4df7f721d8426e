"""Which accelerator is here: CUDA when present (via CTranslate2, and torch if installed), else CPU."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "cuda" | "cpu"
    gpu_available: bool
    gpu_name: str | None = None
    gpu_memory_mb: int | None = None


def detect_device(preference: str = "auto") -> DeviceInfo:
    import ctranslate2

    cuda_count = ctranslate2.get_cuda_device_count()
    name, memory = None, None
    if cuda_count:
        try:
            import torch

            if torch.cuda.is_available():
                props = torch.cuda.get_device_properties(0)
                name, memory = props.name, props.total_memory // (1024 * 1024)
        except ImportError:  # pragma: no cover - torch is a dependency
            pass
    available = cuda_count > 0
    kind = "cuda" if (preference == "cuda" or (preference == "auto" and available)) else "cpu"
    return DeviceInfo(kind=kind, gpu_available=available, gpu_name=name, gpu_memory_mb=memory)
