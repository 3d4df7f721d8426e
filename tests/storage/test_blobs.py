"""LocalBlobStore on real temporary directories: put, read, take over, delete, size, key checks."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from vocable.config import Settings
from vocable.storage.blobs import (
    BlobNotFound,
    InvalidBlobKey,
    LocalBlobStore,
    blob_store_from_url,
    transcript_audio_key,
)


@pytest.fixture
def store(tmp_path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_put_open_size_delete(store, data_dir):
    audio = (data_dir / "jfk.wav").read_bytes()
    key = transcript_audio_key("0123456789abcdef0123456789abcdef")
    assert not store.exists(key)
    with open(data_dir / "jfk.wav", "rb") as source:
        assert store.put(key, source) == len(audio)
    assert store.exists(key) and store.size(key) == len(audio)
    with store.open(key) as blob:
        assert blob.read() == audio
    with store.local_path(key) as path:
        assert path.read_bytes() == audio
    assert files_under(store.root) == [store.root / "audio" / "0123456789abcdef0123456789abcdef"]

    store.put(key, io.BytesIO(b"replaced"))  # a put replaces the blob whole
    assert store.size(key) == 8 and store.open(key).read() == b"replaced"

    store.delete(key)
    assert not store.exists(key) and files_under(store.root) == []
    store.delete(key)  # deleting what is gone is not an error
    for missing in (store.open, store.size):
        with pytest.raises(BlobNotFound):
            missing(key)
    with pytest.raises(BlobNotFound), store.local_path(key):
        pass


def test_put_file_takes_the_file_over(store, tmp_path, data_dir):
    received = tmp_path / "uploads" / "upload-abc"
    received.parent.mkdir()
    received.write_bytes((data_dir / "jfk.wav").read_bytes())
    size = received.stat().st_size
    assert store.put_file("uploads/abc", received) == size
    assert not received.exists()
    assert store.size("uploads/abc") == size
    assert store.open("uploads/abc").read() == (data_dir / "jfk.wav").read_bytes()


def test_a_failed_put_leaves_nothing(store):
    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError("client gone")

    store.put("audio/kept", io.BytesIO(b"old"))
    with pytest.raises(OSError, match="client gone"):
        store.put("audio/kept", Broken())
    assert store.open("audio/kept").read() == b"old"  # the old blob stays whole
    assert files_under(store.root) == [store.root / "audio" / "kept"]  # no staging file left


@pytest.mark.parametrize(
    "key",
    ["", "/etc/passwd", "../outside", "audio/../../outside", "audio/..", "./audio", "audio//x",
     "audio/", ".hidden", "audio/.incoming-x", "a\\b", "a\x00b", "C:/x", "audio/é"],
)
def test_keys_that_escape_or_are_malformed_are_refused(store, tmp_path, key):
    for call in (store.exists, store.size, store.open, store.delete):
        with pytest.raises(InvalidBlobKey):
            call(key)
    with pytest.raises(InvalidBlobKey):
        store.put(key, io.BytesIO(b"x"))
    assert files_under(tmp_path) == []


def test_a_symlink_out_of_the_store_is_refused(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    store.root.mkdir()
    os.symlink(outside, store.root / "audio")
    with pytest.raises(InvalidBlobKey):
        store.open("audio/secret")
    with pytest.raises(InvalidBlobKey):
        store.put("audio/new", io.BytesIO(b"x"))
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


def test_store_from_url(tmp_path):
    spaced = tmp_path / "my blobs"
    assert blob_store_from_url(spaced.as_uri()).root == spaced
    assert blob_store_from_url(str(tmp_path / "plain")).root == tmp_path / "plain"
    for unsupported in ("gs://bucket/prefix", "file://otherhost/srv/blobs", "s3:///no-bucket"):
        with pytest.raises(ValueError):
            blob_store_from_url(unsupported)


def test_default_store_is_under_the_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    assert blob_store_from_url(settings.resolved_blob_url).root == tmp_path / "data" / "blobs"
    other = Settings(data_dir=tmp_path / "data", blob_url=str(tmp_path / "elsewhere"))
    assert blob_store_from_url(other.resolved_blob_url).root == tmp_path / "elsewhere"
