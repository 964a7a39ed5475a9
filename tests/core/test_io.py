"""Atomic writes keep the user's permissions; bounded reads refuse devices, pipes and huge files unread."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from studio.core.errors import DatasetError, ProjectFileError
from studio.core.io import MB, atomic_write_text, current_umask, read_bounded
from studio.core.project import PROJECT_FILE_LIMIT, load_project

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and pipes")


@posix
def test_a_new_file_gets_the_umask_and_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    new, private = tmp_path / "new.json", tmp_path / "private.json"
    atomic_write_text(new, "{}")
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~current_umask()
    private.write_text("old")
    private.chmod(0o600)
    atomic_write_text(private, "new")
    assert private.read_text() == "new" and stat.S_IMODE(private.stat().st_mode) == 0o600


def test_current_umask_does_not_change_it() -> None:
    before = os.umask(0o027)
    try:
        assert current_umask() == 0o027 and current_umask() == 0o027
    finally:
        os.umask(before)


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with open(big, "wb") as handle:  # sparse: the size is there, the disk space is not
        handle.truncate(PROJECT_FILE_LIMIT + 1)
    with pytest.raises(ProjectFileError, match=r"big.json is 10.0 MB; a project file may be at most 10 MB"):
        load_project(big)
    assert read_bounded(big, PROJECT_FILE_LIMIT + 1, "file") == b"\0" * (PROJECT_FILE_LIMIT + 1)


def test_folders_and_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ProjectFileError, match="is a folder, not a project file"):
        load_project(tmp_path)
    with pytest.raises(DatasetError, match="CSV file not found"):
        read_bounded(tmp_path / "missing.csv", MB, "CSV file", DatasetError)


@posix
def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    result: list[BaseException] = []
    reader = threading.Thread(target=lambda: _catch(result, lambda: load_project(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=10)  # opening a pipe with no writer would block forever
    assert not reader.is_alive()
    assert isinstance(result[0], ProjectFileError) and "is a pipe or socket" in str(result[0])


def _catch(into: list[BaseException], fn) -> None:
    try:
        fn()
    except BaseException as exc:  # handed to the test thread
        into.append(exc)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_predict_inputs_refuse_a_device_unread() -> None:
    from studio.core.inspect.inputs import read_inputs

    with pytest.raises(DatasetError, match="/dev/zero is a device, not an input file"):
        read_inputs(None, Path("/dev/zero"))  # type: ignore[arg-type]  # refused before the source is needed
