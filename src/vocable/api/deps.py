"""Request dependencies: the shared services, the calling principal, rate limiting."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from vocable.accounts.keys import Principal, authenticate
from vocable.api.errors import ApiError
from vocable.services import Services


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def client_ip(request: Request, services: Services) -> str:
    if services.settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Invalid Authorization header: expected 'Bearer <API key>'.")
    return token.strip()


def resolve_principal(services: Services, token: str | None, ip: str) -> Principal:
    """Anonymous without a token; 401 for a token that is unknown or revoked."""
    if token is None:
        return Principal(plan="anonymous", ip=ip)
    principal = authenticate(services.db, token, ip)
    if principal is None:
        raise ApiError(401, "Invalid or revoked API key.")
    return principal


def get_principal(request: Request, services: ServicesDep) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    return resolve_principal(services, token, client_ip(request, services))


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_account_principal(principal: PrincipalDep) -> Principal:
    if principal.is_anonymous:
        raise ApiError(401, "An API key is required: send 'Authorization: Bearer <API key>'.")
    return principal


AccountDep = Annotated[Principal, Depends(get_account_principal)]


def rate_limited(family: str):
    """Dependency: count one request of ``family`` against the caller's per-minute limit."""

    def _hit(principal: PrincipalDep, services: ServicesDep) -> Principal:
        services.rate_limiter.hit(principal, family)
        services.quota.record(principal.account_id, family, requests=1)
        return principal

    return _hit
