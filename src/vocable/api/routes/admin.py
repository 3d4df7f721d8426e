"""/api/v1/admin/: the operator console (admin accounts only; 403 otherwise): accounts (list,
search, plan, credits, role, disable, delete), invite codes, usage across accounts by day, and
the server's models and workers. The decisions are ``vocable.accounts.console``'s."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from vocable.accounts import invites
from vocable.api.deps import AdminDep, ServicesDep
from vocable.api.errors import ApiError
from vocable.api.openapi import error_responses

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
ADMIN_ERRORS = error_responses(400, 401, 403, 404, 429)


class AccountChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str | None = Field(default=None, max_length=40)
    role: str | None = Field(default=None, max_length=16)
    disabled: bool | None = None


class CreditGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credits: int = Field(ge=-10_000_000, le=10_000_000, description="added (negative: taken back)")


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_uses: int = Field(default=1, ge=1, le=100_000)
    expires_in_days: float | None = Field(default=14, gt=0, le=3650)
    note: str = Field(default="", max_length=200)


@router.get("/accounts/", summary="Accounts, searched by email, name or plan", responses=ADMIN_ERRORS)
def list_accounts(
    _: AdminDep, services: ServicesDep, q: str = Query("", max_length=320),
    page: int = Query(1, ge=1), page_size: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    return services.console.list_accounts(q, page, page_size)


@router.get("/accounts/{account_id}/", summary="One account", responses=ADMIN_ERRORS)
def get_account(account_id: int, _: AdminDep, services: ServicesDep) -> dict[str, Any]:
    return services.console.account(account_id)


@router.patch(
    "/accounts/{account_id}/", summary="Change plan or role; disable or enable",
    description="Applies to the account's next request. Disabling ends its sessions at once and "
    "refuses its keys and stream tickets.",
    responses=ADMIN_ERRORS,
)
def change_account(
    account_id: int, body: AccountChange, admin: AdminDep, services: ServicesDep
) -> dict[str, Any]:
    console = services.console
    if body.disabled and account_id == admin.account_id:
        raise ApiError(400, "You cannot disable your own account.")
    if body.role == "user" and account_id == admin.account_id:
        raise ApiError(400, "You cannot take the admin role from yourself.")
    out = console.account(account_id)
    if body.plan is not None:
        out = console.set_plan(account_id, body.plan)
    if body.role is not None:
        out = console.set_role(account_id, body.role)
    if body.disabled is not None:
        out = console.set_disabled(account_id, body.disabled)
    return out


@router.post("/accounts/{account_id}/credits/", summary="Grant (or take back) credits",
             responses=ADMIN_ERRORS)
def grant_credits(account_id: int, body: CreditGrant, _: AdminDep, services: ServicesDep) -> dict[str, Any]:
    return services.console.grant_credits(account_id, body.credits)


@router.delete(
    "/accounts/{account_id}/",
    summary="Delete an account with its keys, sessions, transcripts, usage and stored audio",
    responses=error_responses(400, 401, 403, 404, 409, 429),
)
def delete_account(account_id: int, admin: AdminDep, services: ServicesDep) -> dict[str, Any]:
    if account_id == admin.account_id:
        raise ApiError(400, "You cannot delete your own account.")
    services.console.delete_account(account_id)
    return {"id": account_id, "deleted": True}


@router.get("/usage/", summary="Usage across accounts by day, and the busiest accounts",
            responses=ADMIN_ERRORS)
def usage(_: AdminDep, services: ServicesDep, days: int = Query(30, ge=1, le=366)) -> dict[str, Any]:
    return services.console.usage(days)


@router.get("/server/", summary="The server's models and workers", responses=ADMIN_ERRORS)
def server(_: AdminDep, services: ServicesDep) -> dict[str, Any]:
    return {
        "workers": [dataclasses.asdict(w) for w in services.queue.workers()],
        "queued_jobs": services.queue.backlog(),
        "open_streams": services.streaming.active,
        "models": [
            {"family": e.family, "id": e.id, "name": e.name, "installed": e.installed,
             "loaded": e.loaded, "default": e.default}
            for e in services.catalog.entries()
        ],
        "signup": services.auth.describe(),
        "mail": {"enabled": services.mailer.enabled, "sent": services.mailer.sent,
                 "failed": services.mailer.failed},
    }


@router.get("/invites/", summary="Invite codes (the codes themselves are shown only once)",
            responses=ADMIN_ERRORS)
def list_invites(_: AdminDep, services: ServicesDep) -> dict[str, Any]:
    return {"invites": [invites.invite_out(i) for i in invites.list_invites(services.db)]}


@router.post("/invites/", status_code=201, summary="Make an invite code (shown once)",
             responses=ADMIN_ERRORS)
def create_invite(body: InviteIn, _: AdminDep, services: ServicesDep) -> dict[str, Any]:
    invite, raw = invites.create_invite(
        services.db, max_uses=body.max_uses, expires_in_days=body.expires_in_days, note=body.note
    )
    return {**invites.invite_out(invite), "code": raw}


@router.delete("/invites/{invite_id}/", summary="Revoke an invite code", responses=ADMIN_ERRORS)
def revoke_invite(invite_id: str, _: AdminDep, services: ServicesDep) -> dict[str, Any]:
    if not invites.revoke_invite(services.db, invite_id):
        raise ApiError(404, "No such active invite.")
    return {"id": invite_id, "revoked": True}
