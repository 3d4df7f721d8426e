"""Runs tests/api/openai/node (``node --test`` with the official `openai` npm package) against a live
server. ``make test`` installs the package (``npm ci`` there); without it, or without Node.js 20+,
this test fails and says what to do, it is never skipped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.sdk.test_node_sdk import node_binary

NODE_TESTS = Path(__file__).resolve().parent / "node"


def test_openai_npm_package(openai_server, account, data_dir, german_wav):
    node = node_binary()
    if not (NODE_TESTS / "node_modules" / "openai").is_dir():
        pytest.fail(f"the openai npm package is not installed: run `npm ci` in {NODE_TESTS}")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOCABLE_")},
        "VOCABLE_BASE_URL": openai_server.url,
        "VOCABLE_API_KEY": account[1],
        "VOCABLE_JFK": str(data_dir / "jfk.wav"),
        "VOCABLE_GERMAN": str(german_wav),
    }
    run = subprocess.run(
        [node, "--test", "--test-reporter=tap", "openai.test.mjs"], check=False, cwd=NODE_TESTS,
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, f"node --test failed:\n{(run.stdout + run.stderr)[-12000:]}"
