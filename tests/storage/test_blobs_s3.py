"""S3BlobStore against a local S3-compatible server (moto's, started here): the same contract
as the local store, seekable and ranged reads, and a whole job through it."""

from __future__ import annotations

import io

import pytest

from tests.s3server import new_bucket, s3_server
from vocable.storage.blobs import (
    BlobNotFound,
    InvalidBlobKey,
    S3BlobStore,
    blob_store_from_url,
    transcript_audio_key,
)


@pytest.fixture(scope="module")
def endpoint():
    with s3_server() as url:
        yield url


@pytest.fixture
def store(endpoint) -> S3BlobStore:
    return blob_store_from_url(f"s3://{new_bucket(endpoint)}/blobs", s3_endpoint_url=endpoint)


def test_put_open_size_delete(store, data_dir):
    audio = (data_dir / "jfk.wav").read_bytes()
    key = transcript_audio_key("0123456789abcdef0123456789abcdef")
    assert not store.exists(key)
    with open(data_dir / "jfk.wav", "rb") as source:
        assert store.put(key, source) == len(audio)
    assert store.exists(key) and store.size(key) == len(audio)
    listed = store.client.list_objects_v2(Bucket=store.bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"blobs/{key}"]
    with store.open(key) as blob:
        assert blob.read() == audio
    with store.local_path(key) as path:
        assert path.read_bytes() == audio
    assert not path.exists()  # the download is temporary
    store.put(key, io.BytesIO(b"replaced"))
    assert store.size(key) == 8 and store.open(key).read() == b"replaced"
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting what is gone is not an error
    for missing in (store.open, store.size):
        with pytest.raises(BlobNotFound):
            missing(key)
    with pytest.raises(BlobNotFound), store.local_path(key):
        pass
    with pytest.raises(BlobNotFound):
        store.read_range(key, 0, 10)


def test_seekable_and_ranged_reads(store, data_dir):
    audio = (data_dir / "jfk.wav").read_bytes()
    store.put("audio/x", io.BytesIO(audio))
    with store.open("audio/x") as blob:
        assert blob.seekable()
        blob.seek(1000)
        assert blob.read(16) == audio[1000:1016]
        blob.seek(-10, io.SEEK_END)
        assert blob.read() == audio[-10:]
        blob.seek(44)
        assert blob.tell() == 44 and blob.read(100) == audio[44:144]
    assert store.read_range("audio/x", 5, 7) == audio[5:12]
    assert store.read_range("audio/x", len(audio) - 3, 100) == audio[-3:]
    assert store.read_range("audio/x", len(audio) + 5, 10) == b""


def test_put_file_takes_the_file_over(store, tmp_path, data_dir):
    received = tmp_path / "upload-abc"
    received.write_bytes((data_dir / "jfk.mp3").read_bytes())
    size = received.stat().st_size
    assert store.put_file("audio/y", received) == size
    assert not received.exists() and store.size("audio/y") == size


@pytest.mark.parametrize("key", ["../x", "/abs", "a//b", ".hidden", "a/../b", "", "a b"])
def test_bad_keys_refused(store, key):
    with pytest.raises(InvalidBlobKey):
        store.put(key, io.BytesIO(b"x"))


def test_a_job_through_s3(start_server, endpoint, data_dir):
    """The server keeps uploads and audio in the bucket; a worker reads them from there."""
    from vocable.accounts.keys import create_account, create_key

    bucket = new_bucket(endpoint)
    server = start_server(blob_url=f"s3://{bucket}/v", blob_s3_endpoint_url=endpoint)
    assert isinstance(server.services.blobs, S3BlobStore)
    account = create_account(server.services.db, "s3@example.com", plan="paid", credits=5)
    key = create_key(server.services.db, account.id)[1]
    with server.client(key) as client, open(data_dir / "jfk.wav", "rb") as f:
        answer = client.post("/v1/transcribe", files={"file": ("jfk.wav", f)},
                             data={"model": "base", "diarize": "false"})
    assert answer.status_code == 200, answer.text
    assert "ask not what your country" in answer.json()["text"].lower()
    kept = server.services.blobs.client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in kept] == [f"v/audio/{answer.json()['id']}"]  # an account's audio stays
