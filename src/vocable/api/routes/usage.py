"""/api/v1/usage/: the caller's usage by day (audio minutes, transcriptions, requests, credits)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from vocable.accounts import usage
from vocable.api.deps import AccountDep, ServicesDep, rate_limited
from vocable.api.openapi import error_responses

router = APIRouter(prefix="/api/v1/usage", tags=["usage"], dependencies=[Depends(rate_limited("account"))])


@router.get(
    "/", summary="Usage by day, oldest first, ending today (UTC)",
    responses=error_responses(400, 401, 429),
)
def get_usage(
    principal: AccountDep, services: ServicesDep, days: int = Query(usage.DEFAULT_DAYS, ge=1, le=366)
) -> dict[str, Any]:
    return usage.daily_usage(services.db, principal.account_id, days)
