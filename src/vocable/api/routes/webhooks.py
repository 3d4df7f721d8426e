"""/api/v1/account/webhook/: the account's default webhook URL and the secret deliveries are
signed with (see vocable/webhooks.py for the signature)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vocable.api.deps import AccountDep, ServicesDep, rate_limited
from vocable.api.errors import ApiError
from vocable.api.openapi import error_responses

router = APIRouter(
    prefix="/api/v1/account/webhook", tags=["account"],
    dependencies=[Depends(rate_limited("account"))],
)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=2000)


@router.get(
    "/", summary="Your default webhook URL and its signing secret",
    responses=error_responses(400, 401, 429),
)
def get_webhook(principal: AccountDep, services: ServicesDep) -> dict[str, Any]:
    return services.webhooks.account_webhook(principal.account_id)


@router.put(
    "/", summary="Set (or clear, with null) the webhook URL async jobs report to by default",
    responses=error_responses(400, 401, 429),
)
def put_webhook(
    principal: AccountDep, services: ServicesDep, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    try:
        change = WebhookUpdate.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise ApiError(400, f"Invalid request: {problems}") from None
    return services.webhooks.set_account_url(principal.account_id, change.url)


@router.post(
    "/secret/", summary="Replace the signing secret (deliveries from now on use the new one)",
    responses=error_responses(400, 401, 429),
)
def rotate_secret(principal: AccountDep, services: ServicesDep) -> dict[str, Any]:
    return services.webhooks.rotate_secret(principal.account_id)
