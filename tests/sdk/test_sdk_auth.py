"""The SDKs' sign-up and operator-console calls against a live server (Python here, sync and
async; Node.js in sdks/node/test/admin-console.mjs, run from here)."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest
from vocable_sdk import (
    AsyncVocable,
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    Vocable,
)

from tests.api.test_auth import FAST_HASH
from tests.sdk.test_node_sdk import node_binary
from vocable.accounts.keys import create_account, create_key

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def stack(start_server):
    server = start_server(**FAST_HASH)
    admin = create_account(server.services.db, "root@example.com", role="admin")
    return server, create_key(server.services.db, admin.id)[1]


def test_python_sdk_signup_and_console(stack):
    server, admin_key = stack
    with Vocable(base_url=server.url) as anonymous:
        assert anonymous.auth.config()["signup"] == "open"
        opened = anonymous.auth.signup("sdk@example.com", "a long password", name="Sid")
        assert not anonymous._http.cookies  # programs use the key, not a cookie
        with pytest.raises(BadRequestError, match="not confirmed by mail"):  # no SMTP here
            anonymous.auth.resend_verification("sdk@example.com")
    key, account_id = opened["key"]["key"], opened["account"]["id"]
    user = Vocable(api_key=key, base_url=server.url)
    assert user.auth.me()["via"] == "key" and user.account.get().plan == "free"
    with pytest.raises(PermissionDeniedError):
        user.admin.accounts()

    admin = Vocable(api_key=admin_key, base_url=server.url)
    assert admin.admin.accounts("sdk@")["total"] == 1
    assert admin.admin.set_plan(account_id, "paid")["plan"] == "paid"
    assert admin.admin.grant_credits(account_id, 12)["credits"] == 12
    assert user.account.get().credits == 12  # at once
    admin.admin.disable(account_id)
    with pytest.raises(PermissionDeniedError, match="disabled"):
        user.account.get()
    admin.admin.enable(account_id)
    assert user.auth.change_password("a long password", "another long one")["changed"]
    invite = admin.admin.create_invite(max_uses=2, note="team")
    assert invite["code"].startswith("inv_")
    assert [i["note"] for i in admin.admin.invites()] == ["team"]
    admin.admin.revoke_invite(invite["id"])
    assert admin.admin.usage(days=3)["totals"]["accounts"] == 2
    assert any(m["id"] == "base" for m in admin.admin.server()["models"])
    admin.admin.delete_account(account_id)
    with pytest.raises(AuthenticationError):
        user.account.get()

    async def run_async():
        async with AsyncVocable(api_key=admin_key, base_url=server.url) as client:
            return (await client.admin.accounts())["total"], (await client.auth.me())["account"]["role"]

    assert asyncio.run(run_async()) == (1, "admin")


def test_node_sdk_signup_and_console(stack):
    server, admin_key = stack
    node = node_binary()
    result = subprocess.run(
        [node, "--test", os.path.join(ROOT, "sdks", "node", "test", "admin-console.mjs")],
        env={**os.environ, "VOCABLE_BASE_URL": server.url, "VOCABLE_ADMIN_KEY": admin_key},
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
