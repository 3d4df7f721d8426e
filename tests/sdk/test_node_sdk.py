"""Runs the Node SDK's own suite (sdks/node/test, ``node --test``) against a live server.

The server, its URL and the keys the suite needs (one per error case) come from here, through the
environment. Node.js 20+ must be on PATH: without it this test fails, it is never skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.sdk.sdk_stack import copy_transcripts, running_stack

NODE_SDK = Path(__file__).resolve().parents[2] / "sdks" / "node"


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "Node.js is not installed (no `node` on PATH): the Node SDK tests need Node.js 20+."
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    major = int(re.match(r"v(\d+)", version.strip()).group(1))
    if major < 20:
        pytest.fail(f"Node.js {version.strip()} is too old: the Node SDK needs Node.js 20+.")
    return node


def websocket_flags(node: str) -> list[str]:
    """Node 22+ has a global WebSocket; Node 20 has it behind a flag."""
    probe = [node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"]
    return (
        [] if subprocess.run(probe, check=False).returncode == 0 else ["--experimental-websocket"]
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory, registry, whisper, llm, embedder, analyzer, diarization, tts):
    with running_stack(
        tmp_path_factory.mktemp("sdk-node"),
        tts=tts,
        registry=registry,
        whisper=whisper,
        llm=llm,
        embedder=embedder,
        analysis=analyzer,
        diarization=diarization,
    ) as stack:
        yield stack


def test_node_sdk_suite(stack, data_dir):
    node = node_binary()
    # Rows to page through: copies of a real transcription (stored in the lister's account too).
    with stack.client(stack.lister) as client:
        real = client.transcribe(data_dir / "jfk.wav", model="base", diarize=False)
    copy_transcripts(stack, real)

    tests = sorted(str(p.relative_to(NODE_SDK)) for p in (NODE_SDK / "test").glob("*.test.*js"))
    assert tests, f"no Node test files in {NODE_SDK / 'test'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOCABLE_")},
        "VOCABLE_BASE_URL": stack.server.url,
        "VOCABLE_API_KEY": stack.key,
        "VOCABLE_BROKE_KEY": stack.broke,
        "VOCABLE_LIMITED_KEY": stack.limited,
        "VOCABLE_LISTER_KEY": stack.lister,
        "VOCABLE_TEST_DATA": str(data_dir),
    }
    command = [node, *websocket_flags(node), "--test", "--test-reporter=tap", *tests]
    run = subprocess.run(
        command, check=False, cwd=NODE_SDK, env=env, capture_output=True, text=True, timeout=600
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, f"node --test failed:\n{report[-12000:]}"
    counts = {
        k: int(v)
        for k, v in re.findall(
            r"^# (pass|fail|skipped|todo|cancelled) (\d+)$", report, re.MULTILINE
        )
    }
    assert counts.get("fail") == 0 and counts.get("cancelled") == 0, report[-4000:]
    assert counts.get("skipped") == 0 and counts.get("todo") == 0, "Node tests must not be skipped"
    declared = sum(
        len(re.findall(r"^\s*test\(", (NODE_SDK / name).read_text(), re.MULTILINE))
        for name in tests
    )
    assert counts.get("pass") == declared, f"{declared} Node tests declared:\n{report[-4000:]}"
