"""Request dependencies: the shared services, the upload receiver, the calling principal, admission
of a request."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from vocable.accounts.keys import Principal
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


def is_https(conn: HTTPConnection, services: Services) -> bool:
    """Whether the client reached us over TLS: the request's own scheme, or the
    ``X-Forwarded-Proto`` of a trusted proxy in front (when forwarded headers are on)."""
    if conn.url.scheme in ("https", "wss"):
        return True
    settings = services.settings
    if not settings.trust_forwarded_for:
        return False
    peer = conn.client.host if conn.client else ""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if not any(address in net for net in trusted_networks(tuple(settings.trusted_proxies))):
        return False  # the peer is not one of our proxies: its headers mean nothing
    proto = conn.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
    return proto == "https"


def public_base_url(request: Request, services: Services) -> str:
    """Where links in emails point: ``VOCABLE_PUBLIC_URL``, else the address of this request."""
    configured = services.settings.public_url.strip().rstrip("/")
    if configured:
        return configured
    base = str(request.base_url).rstrip("/")
    if is_https(request, services) and base.startswith("http://"):
        base = "https://" + base[len("http://"):]
    return base


# The signed-in browser's cookie (HttpOnly: no script reads it) and the header that must carry
# the session's CSRF token on calls that change state (see accounts/sessions.py).
SESSION_COOKIE = "vocable_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Invalid Authorization header: expected 'Bearer <API key>'.")
    return token.strip()


def resolve_principal(
    services: Services, token: str | None, ip: str, *, session: str | None = None,
    csrf_token: str | None = None, changes_state: bool = False,
) -> Principal:
    """Who is calling, decided by admission (``Admission.identify``): the API key when there is
    one (401 if unknown or revoked), else the session cookie (401 once it ended; 403 for a call
    that changes state without the session's CSRF token), else anonymous."""
    return services.admission.identify(
        ip=ip, api_key=token, session=session, csrf_token=csrf_token, changes_state=changes_state
    )


def get_principal(request: Request, services: ServicesDep) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    return resolve_principal(
        services, token, client_ip(request, services),
        session=request.cookies.get(SESSION_COOKIE) or None,
        csrf_token=request.headers.get(CSRF_HEADER),
        changes_state=request.method not in SAFE_METHODS,
    )


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_account_principal(principal: PrincipalDep) -> Principal:
    if principal.is_anonymous:
        raise ApiError(
            401, "An API key is required: send 'Authorization: Bearer <API key>' (or sign in)."
        )
    return principal


AccountDep = Annotated[Principal, Depends(get_account_principal)]


def get_admin_principal(principal: AccountDep, services: ServicesDep) -> Principal:
    if not principal.is_admin:
        raise ApiError(403, "This is for the server's operators: it needs an admin account.")
    services.admission.request(principal, "admin")
    return principal


AdminDep = Annotated[Principal, Depends(get_admin_principal)]


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
