"""The `vocable` command as a user runs it: a real subprocess sharing one data dir."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import MODEL_DIR
from vocable.accounts.keys import authenticate
from vocable.storage.db import Database

VOCABLE = [sys.executable, "-m", "vocable"]


def run(*args, data_dir: Path, check=True):
    env = {**os.environ, "VOCABLE_DATA_DIR": str(data_dir), "VOCABLE_MODEL_DIR": str(MODEL_DIR)}
    return subprocess.run([*VOCABLE, *args], env=env, capture_output=True, text=True, check=check, timeout=600)


def test_accounts_and_keys(tmp_path):
    out = run("accounts", "create", "Cli@Example.com", "--plan", "paid", "--credits", "7", data_dir=tmp_path)
    assert "cli@example.com" in out.stdout and "credits=7" in out.stdout
    dup = run("accounts", "create", "cli@example.com", data_dir=tmp_path, check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr and "Traceback" not in dup.stderr
    key = run("keys", "create", "cli@example.com", data_dir=tmp_path).stdout.strip().splitlines()[-1]
    db = Database(f"sqlite:///{tmp_path / 'vocable.db'}")
    principal = authenticate(db, key, "127.0.0.1")
    assert principal is not None and principal.plan == "paid"
    missing = run("keys", "create", "nobody@example.com", data_dir=tmp_path, check=False)
    assert missing.returncode == 1 and "No account" in missing.stderr


def test_models_list(tmp_path):
    out = run("models", "list", data_dir=tmp_path).stdout
    assert "base" in out and "tiny.en" in out and "large-v3-turbo" in out


def test_transcribe_file(tmp_path, data_dir):
    out = run("transcribe", str(data_dir / "jfk.mp3"), "--format", "vtt", "--data-dir", str(tmp_path),
              data_dir=tmp_path)
    assert out.stdout.startswith("WEBVTT") and "country" in out.stdout
    bad = run("transcribe", str(data_dir / "README.md"), data_dir=tmp_path, check=False)
    assert bad.returncode == 1 and "not a readable audio" in bad.stderr
    # the server's model choice: an unknown id and an English-only model asked for German say so
    unknown = run("transcribe", str(data_dir / "jfk.mp3"), "--model", "nope", data_dir=tmp_path,
                  check=False)
    assert unknown.returncode == 1 and "Unknown model" in unknown.stderr
    english = run("transcribe", str(data_dir / "jfk.mp3"), "--model", "tiny.en", "--language", "de",
                  data_dir=tmp_path, check=False)
    assert english.returncode == 1 and "Traceback" not in english.stderr and "English" in english.stderr


def test_say(tmp_path, data_dir):
    import soundfile as sf

    out_file = tmp_path / "hello.wav"
    out = run("say", "Hello from Vocable. It costs $5.", "-o", str(out_file), data_dir=tmp_path)
    assert "bundled" in out.stderr
    samples, rate = sf.read(out_file)
    assert rate == 22050 and 1.0 < len(samples) / rate < 8.0
    bad = run("say", "Hi.", "--reference", str(data_dir / "README.md"), "-o", str(tmp_path / "x.wav"),
              data_dir=tmp_path, check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "error" in bad.stderr


def test_enhance_file(tmp_path, data_dir):
    import soundfile

    target = tmp_path / "clean.wav"
    out = run("enhance", str(data_dir / "jfk.mp3"), "-o", str(target), data_dir=tmp_path)
    assert "LUFS" in out.stderr
    info = soundfile.info(str(target))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert abs(info.duration - 11.0) < 0.05
    bad = run("enhance", str(data_dir / "README.md"), "-o", str(tmp_path / "x.wav"),
              data_dir=tmp_path, check=False)
    assert bad.returncode == 1 and "not a readable audio" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x.wav").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["clean.wav"]
