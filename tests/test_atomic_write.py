"""Output files are written whole (a temporary file renamed) with the permissions the user's
umask gives any new file, so reports can be shared or served as the instructor's files are."""

import os

import pytest

from grader.writers import atomic_write


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_mode_follows_the_umask(tmp_path, umask, mode):
    before = os.umask(umask)
    try:
        atomic_write(tmp_path / "deep" / "results.json", "{}")
    finally:
        os.umask(before)
    path = tmp_path / "deep" / "results.json"
    assert path.read_text() == "{}"
    assert path.stat().st_mode & 0o777 == mode
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temporary left


def test_replacing_keeps_no_temporary(tmp_path):
    path = tmp_path / "index.html"
    atomic_write(path, "one")
    atomic_write(path, "two")
    assert path.read_text() == "two" and sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]
