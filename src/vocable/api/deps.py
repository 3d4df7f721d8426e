"""Request dependencies: the shared services, the upload receiver, the calling principal, admission
of a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from vocable.accounts.keys import Principal, authenticate
from vocable.api.errors import ApiError
from vocable.api.forwarded import forwarded_client, trusted_networks
from vocable.api.uploads import UploadReceiver
from vocable.services import Services


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_uploads(request: Request) -> UploadReceiver:
    return request.app.state.uploads


UploadsDep = Annotated[UploadReceiver, Depends(get_uploads)]


def client_ip(conn: HTTPConnection, services: Services) -> str:
    """The caller's IP (anonymous limits are per IP), for requests and WebSockets alike: the
    socket's peer, or, when the operator turned forwarded headers on, the client that the trusted
    proxies in front of us name (``vocable.api.forwarded``). The server runner never rewrites the
    peer itself (``vocable.api.server``): this is the one place that decides."""
    peer = conn.client.host if conn.client else "unknown"
    settings = services.settings
    if not settings.trust_forwarded_for:
        return peer
    networks = trusted_networks(tuple(settings.trusted_proxies))
    return forwarded_client(peer, conn.headers.getlist("x-forwarded-for"), networks)


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
    """Dependency: admit one request of ``family`` (the caller's per-minute limit, usage)."""

    def _admit(principal: PrincipalDep, services: ServicesDep) -> Principal:
        services.admission.request(principal, family)
        return principal

    return _admit


def account_rate_limited(family: str):
    """As ``rate_limited``, for endpoints that need an API key (401 without one)."""

    def _admit(principal: AccountDep, services: ServicesDep) -> Principal:
        services.admission.request(principal, family)
        return principal

    return _admit
