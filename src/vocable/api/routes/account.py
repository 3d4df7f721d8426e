"""/api/v1/account/: the caller's account; PUT changes what a user may change."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vocable.accounts import profile
from vocable.api.deps import AccountDep, ServicesDep, public_base_url, rate_limited
from vocable.api.errors import ApiError
from vocable.api.openapi import error_responses

router = APIRouter(prefix="/api/v1/account", tags=["account"], dependencies=[Depends(rate_limited("account"))])

# Shown by GET but owned by the operator (or derived): a PUT that tries to set them is refused.
READ_ONLY = ("id", "email_verified", "plan", "role", "credits", "uses_credits", "month", "minutes_used", "minutes_left",
             "monthly_minutes", "limits", "created_at")


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    email_preferences: dict[str, Any] | None = None


@router.get(
    "/", summary="Your account: plan, credits, this month's minutes, email preferences",
    responses=error_responses(400, 401, 429),
)
def get_account(principal: AccountDep, services: ServicesDep) -> dict[str, Any]:
    return profile.profile(services.db, services.settings.plans, principal.account_id)


@router.put(
    "/", summary="Change your name, email address or email preferences",
    responses=error_responses(400, 401, 409, 429),
)
def put_account(
    principal: AccountDep, services: ServicesDep, request: Request,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    read_only = [k for k in READ_ONLY if k in body]
    if read_only:
        raise ApiError(400, f"{', '.join(read_only)} cannot be changed through the API.")
    try:
        change = AccountUpdate.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise ApiError(400, f"Invalid request: {problems}") from None
    before = profile.profile(services.db, services.settings.plans, principal.account_id)["email"]
    profile.update(
        services.db, principal.account_id,
        name=change.name, email=change.email, preferences=change.email_preferences,
    )
    if change.email is not None:
        services.auth.address_changed(principal.account_id, before,
                                      profile.validate_email(change.email),
                                      base_url=public_base_url(request, services))
    return profile.profile(services.db, services.settings.plans, principal.account_id)
