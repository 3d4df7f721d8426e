"""The upload receiver's start-up sweep, on a real directory: what a dead process left goes, what
is being written now stays."""

from __future__ import annotations

import os
import time

from vocable.api.uploads import UploadReceiver


def test_start_up_removes_only_files_last_written_before_it(tmp_path):
    directory = tmp_path / "uploads"
    directory.mkdir()
    stale = directory / "upload-left-by-a-crash"
    stale.write_bytes(b"half an upload")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    live = directory / "upload-being-written"  # by a process still running: written since
    live.write_bytes(b"arriving")
    later = time.time() + 60
    os.utime(live, (later, later))
    (directory / "a-directory").mkdir()  # not an upload: left alone

    receiver = UploadReceiver(directory)

    assert receiver.swept == 1
    assert sorted(p.name for p in directory.iterdir()) == ["a-directory", "upload-being-written"]


def test_missing_directory_is_created(tmp_path):
    receiver = UploadReceiver(tmp_path / "data" / "uploads")
    assert receiver.directory.is_dir() and receiver.swept == 0
