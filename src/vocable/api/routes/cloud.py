"""/api/v1/cloud/: the workers serving this account: the in-process one in the default setup, the
Celery worker nodes (from their heartbeats) on a cluster."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from vocable.api.deps import AccountDep, ServicesDep, rate_limited
from vocable.api.openapi import error_responses

router = APIRouter(prefix="/api/v1/cloud", tags=["cloud"], dependencies=[Depends(rate_limited("account"))])


@router.get(
    "/", summary="Worker nodes serving your account, with their device, models and load",
    responses=error_responses(400, 401, 429),
)
def get_cloud(principal: AccountDep, services: ServicesDep) -> dict[str, Any]:
    workers = []
    for w in services.queue.workers():  # in-process: this server; celery: heartbeats of workers
        workers.append({
            "id": w.id,
            "kind": w.kind,
            "host": w.host,
            "status": w.status,
            "device": w.device,
            "gpu_name": w.gpu_name if w.device == "cuda" else None,
            "gpu_memory_mb": w.gpu_memory_mb if w.device == "cuda" else None,
            "models_loaded": list(w.models_loaded),
            "queues": list(w.queues),
            "last_heartbeat": w.last_heartbeat,
            "load": {
                "running_jobs": w.running_jobs,
                "queued_jobs": w.queued_jobs,
                "capacity": w.capacity,
                "utilization": round(w.running_jobs / w.capacity, 3) if w.capacity else 0.0,
            },
        })
    slots = services.admission.slots(principal)
    return {
        "workers": workers,
        # Dedicated deployments are an operator feature not offered by a single-machine install.
        "deployments": [],
        "account": {"active_jobs": slots.active, "concurrent_jobs": slots.limit},
    }
