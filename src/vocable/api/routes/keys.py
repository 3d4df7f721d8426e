"""/api/v1/keys/: list, create (raw key returned once), revoke."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vocable.accounts import keys as accounts
from vocable.api.deps import AccountDep, ServicesDep, rate_limited
from vocable.api.errors import ApiError
from vocable.api.openapi import error_responses

router = APIRouter(prefix="/api/v1/keys", tags=["keys"], dependencies=[Depends(rate_limited("account"))])


class KeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool


class KeyCreate(BaseModel):
    name: str = Field(default="", max_length=200)


class KeyCreated(KeyOut):
    key: str


def _out(key) -> dict:
    return {
        "id": key.id, "name": key.name, "prefix": key.prefix, "created_at": key.created_at,
        "last_used_at": key.last_used_at, "revoked_at": key.revoked_at, "active": key.revoked_at is None,
    }


@router.get("/", responses=error_responses(400, 401, 429))
def list_keys(principal: AccountDep, services: ServicesDep) -> dict[str, list[KeyOut]]:
    return {"keys": [KeyOut(**_out(k)) for k in accounts.list_keys(services.db, principal.account_id)]}


@router.post("/", status_code=201, responses=error_responses(400, 401, 429))
def create_key(principal: AccountDep, services: ServicesDep, body: KeyCreate | None = None) -> KeyCreated:
    key, raw = accounts.create_key(services.db, principal.account_id, name=(body.name if body else ""))
    return KeyCreated(**_out(key), key=raw)


@router.delete("/{key_id}/", responses=error_responses(400, 401, 404, 429))
def revoke_key(key_id: str, principal: AccountDep, services: ServicesDep) -> dict:
    if not accounts.revoke_key(services.db, principal.account_id, key_id):
        raise ApiError(404, "No such active API key.")
    return {"id": key_id, "revoked": True}
