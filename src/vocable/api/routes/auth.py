"""/api/v1/auth/: sign-up, sign-in, sign-out, the signed-in caller, address verification,
password change and reset (the decisions are ``vocable.accounts.auth``'s).

A signed-in browser holds the ``vocable_session`` cookie (HttpOnly, SameSite=Lax, Secure when
the request came over TLS); calls it makes that change state send ``X-CSRF-Token`` with the
``csrf_token`` these answers give. Programs keep using API keys (``Authorization: Bearer``),
which need no CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from vocable.accounts import profile
from vocable.accounts.auth import CHECK_MAIL, Welcome
from vocable.accounts.sessions import NewSession, SessionInvalid, csrf_token
from vocable.api.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    AccountDep,
    ServicesDep,
    bearer_token,
    client_ip,
    is_https,
    public_base_url,
    resolve_principal,
)
from vocable.api.openapi import content_responses, error_responses
from vocable.services import Services

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupIn(_Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    name: str = Field(default="", max_length=200)
    invite: str | None = Field(default=None, max_length=200, description="VOCABLE_SIGNUP=invite")


class SigninIn(_Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class TokenIn(_Body):
    token: str = Field(max_length=200)


class ResetIn(_Body):
    email: str = Field(max_length=320)


class ResetConfirmIn(_Body):
    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class PasswordIn(_Body):
    current_password: str = Field(default="", max_length=1024)
    new_password: str = Field(max_length=1024)


def _cookie_path(request: Request) -> str:
    return (request.scope.get("root_path") or "").rstrip("/") + "/"


def _set_cookie(response: Response, request: Request, services: Services, session: NewSession) -> None:
    response.set_cookie(
        SESSION_COOKIE, session.raw, max_age=session.expires_in, path=_cookie_path(request),
        httponly=True, samesite="lax", secure=is_https(request, services),
    )


def _clear_cookie(response: Response, request: Request, services: Services) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=_cookie_path(request), httponly=True, samesite="lax",
        secure=is_https(request, services),
    )


def _signed_in(services: Services, session: NewSession, **extra) -> dict[str, Any]:
    return {
        "signed_in": True,
        "via": "session",
        "account": profile.profile(services.db, services.settings.plans, session.account_id),
        "csrf_token": session.csrf_token,
        "expires_in": session.expires_in,
        **extra,
    }


def _welcome_out(services: Services, welcome: Welcome) -> dict[str, Any]:
    key = {"id": welcome.key_id, "key": welcome.key} if welcome.key else None
    return _signed_in(services, welcome.session, key=key)


def _context(request: Request, services: Services) -> dict[str, str]:
    return {"ip": client_ip(request, services),
            "user_agent": request.headers.get("user-agent", "")[:300]}


@router.get("/config", summary="How accounts are opened here (for sign-up pages)",
            responses=error_responses(400))
def auth_config(services: ServicesDep) -> dict[str, Any]:
    return services.auth.describe()


@router.post(
    "/signup", status_code=201,
    summary="Open an account (email + password); the first API key is in the answer, once",
    description="With email verification on (SMTP configured), the answer is 202 "
    '`{"status": "verification_sent"}` for every address; the key comes with '
    "`POST /api/v1/auth/verify`.",
    responses={
        **content_responses("email verification on: a link was mailed (the same answer for every "
                            "address)", ["application/json"], status=202),
        **error_responses(400, 403, 409, 429),
    },
)
def signup(body: SignupIn, request: Request, response: Response, services: ServicesDep) -> dict[str, Any]:
    ctx = _context(request, services)
    welcome = services.auth.signup(
        body.email, body.password, ip=ctx["ip"], user_agent=ctx["user_agent"], name=body.name,
        invite=body.invite, base_url=public_base_url(request, services),
    )
    if welcome.verification_sent:
        response.status_code = 202
        return {"status": "verification_sent", "message": CHECK_MAIL}
    _set_cookie(response, request, services, welcome.session)
    return _welcome_out(services, welcome)


@router.post(
    "/verify", summary="Confirm an address (the emailed link): signs in, answers the first key once",
    responses=error_responses(400, 403, 429),
)
def verify(body: TokenIn, request: Request, response: Response, services: ServicesDep) -> dict[str, Any]:
    welcome = services.auth.verify(
        body.token, **_context(request, services), replaces=request.cookies.get(SESSION_COOKIE)
    )
    _set_cookie(response, request, services, welcome.session)
    return _welcome_out(services, welcome)


@router.post(
    "/verify/resend", status_code=202,
    summary="Mail a new confirmation link (the same answer for every address)",
    responses=error_responses(400, 429),
)
def resend_verification(body: ResetIn, request: Request, services: ServicesDep) -> dict[str, str]:
    message = services.auth.resend_verification(
        body.email, ip=client_ip(request, services), base_url=public_base_url(request, services)
    )
    return {"status": "verification_sent", "message": message}


@router.post(
    "/signin", summary="Sign in: a new session cookie (and its CSRF token)",
    responses=error_responses(400, 401, 403, 429),
)
def signin(body: SigninIn, request: Request, response: Response, services: ServicesDep) -> dict[str, Any]:
    session = services.auth.signin(
        body.email, body.password, **_context(request, services),
        replaces=request.cookies.get(SESSION_COOKIE),
    )
    _set_cookie(response, request, services, session)
    return _signed_in(services, session)


@router.post(
    "/signout", summary="Sign out: the session ends (send X-CSRF-Token)",
    responses=error_responses(400, 403),
)
def signout(request: Request, response: Response, services: ServicesDep) -> dict[str, Any]:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        try:  # a live session ends only with its CSRF token (no signing people out cross-site)
            resolve_principal(services, None, client_ip(request, services), session=raw,
                              csrf_token=request.headers.get(CSRF_HEADER), changes_state=True)
        except SessionInvalid:
            pass  # already over: just forget the cookie
        services.auth.signout(raw)
    _clear_cookie(response, request, services)
    return {"signed_in": False}


@router.get(
    "/me", summary="Who is calling: signed in (session or key) or not; the session's CSRF token",
    responses=error_responses(400, 401, 403, 429),
)
def me(request: Request, response: Response, services: ServicesDep) -> dict[str, Any]:
    token = bearer_token(request.headers.get("authorization"))
    raw = request.cookies.get(SESSION_COOKIE) if token is None else None
    try:
        principal = resolve_principal(services, token, client_ip(request, services), session=raw)
    except SessionInvalid:
        _clear_cookie(response, request, services)
        return {"signed_in": False}
    if principal.is_anonymous:
        return {"signed_in": False}
    services.admission.request(principal, "account")
    via = "key" if principal.key_id else "session"
    return {
        "signed_in": True, "via": via,
        "csrf_token": csrf_token(services.db, principal.session_hash) if via == "session" else None,
        "account": profile.profile(services.db, services.settings.plans, principal.account_id),
    }


@router.post(
    "/password", summary="Change the password: every session ends, this browser gets a new one",
    responses=error_responses(400, 401, 403, 429),
)
def change_password(
    body: PasswordIn, principal: AccountDep, request: Request, response: Response,
    services: ServicesDep,
) -> dict[str, Any]:
    services.admission.request(principal, "account")
    session = services.auth.change_password(
        principal.account_id, body.current_password, body.new_password,
        **_context(request, services),
    )
    if principal.session_hash is None:  # a program with a key: no browser to sign in again
        services.auth.signout(session.raw)
        return {"changed": True, "signed_in": False}
    _set_cookie(response, request, services, session)
    return {"changed": True, **_signed_in(services, session)}


@router.post(
    "/reset", status_code=202,
    summary="Ask for a password-reset link by email (the same answer for every address)",
    responses=error_responses(400, 429),
)
def request_reset(body: ResetIn, request: Request, services: ServicesDep) -> dict[str, str]:
    message = services.auth.request_reset(
        body.email, ip=client_ip(request, services), base_url=public_base_url(request, services)
    )
    return {"status": "reset_requested", "message": message}


@router.post(
    "/reset/confirm", summary="Choose a new password with the emailed link (works once)",
    responses=error_responses(400, 429),
)
def confirm_reset(body: ResetConfirmIn, request: Request, response: Response,
                  services: ServicesDep) -> dict[str, Any]:
    services.auth.confirm_reset(body.token, body.password)
    _clear_cookie(response, request, services)
    return {"changed": True, "signed_in": False}
