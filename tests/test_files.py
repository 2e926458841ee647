"""atomic_write: all or nothing, and the new file gets the permissions open() would give it."""

from __future__ import annotations

import os
import stat

import pytest

from minembed._files import atomic_write


def test_new_file_has_the_mode_open_gives_under_the_current_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        with open(tmp_path / "plain.txt", "w") as f:
            f.write("x")
        with atomic_write(tmp_path / "atomic.txt", "w") as f:
            f.write("x")
    finally:
        os.umask(previous)
    plain = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert plain == 0o640
    assert stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode) == plain


def test_a_failure_inside_the_block_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as f:
        f.write(b"half of the new")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_a_missing_folder_and_a_bad_mode_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"), atomic_write(tmp_path / "no" / "x.txt", "w"):
        pass
    with pytest.raises(ValueError, match="mode='a'"), atomic_write(tmp_path / "x.txt", "a"):
        pass
