"""Finding submissions: names from where they are, special files and links refused."""

from __future__ import annotations

import os

import pytest

from grader.discover import NameClash, NothingToGrade, collect
from grader.writers.layout import folder_name

NB = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def make(root, *files: str) -> None:
    for f in files:
        path = root / f
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(NB)


def names(jobs) -> dict[str, str]:
    return {j.name: (j.refusal or "ok") for j in jobs}


def test_student_folders_name_their_notebook(tmp_path):
    make(tmp_path, "alice/hw.ipynb", "bob/hw.ipynb", "carol/sub/conv.ipynb", "dan.ipynb",
         "eve/a.ipynb", "eve/b.ipynb", "eve/.ipynb_checkpoints/a-checkpoint.ipynb",
         ".hidden/x.ipynb")
    jobs = collect([tmp_path])
    assert names(jobs) == {"alice": "ok", "bob": "ok", "carol": "ok", "dan": "ok",
                           "eve/a": "ok", "eve/b": "ok"}
    (tmp_path / "frank").mkdir()
    (tmp_path / "frank" / "hw.py").write_text("print(1)")
    assert "holds no notebook" in names(collect([tmp_path]))["frank"]


def test_names_do_not_depend_on_argument_order_or_late_arrivals(tmp_path):
    make(tmp_path, "alice/hw.ipynb", "bob/hw.ipynb")
    first = {j.name: j.path for j in collect([tmp_path])}
    make(tmp_path, "bea/hw.ipynb")
    second = {j.name: j.path for j in collect([tmp_path])}
    assert all(second[n] == p for n, p in first.items()) and "bea" in second


def test_same_name_twice_is_an_error_naming_both(tmp_path):
    make(tmp_path, "a/hw.ipynb", "b/hw.ipynb")
    with pytest.raises(NameClash, match=r"a/hw.ipynb.*b/hw.ipynb"):
        collect([tmp_path / "a" / "hw.ipynb", tmp_path / "b" / "hw.ipynb"])


def test_names_that_clean_alike_stay_apart(tmp_path):
    make(tmp_path, "a b.ipynb", "a_b.ipynb", "a%20b.ipynb")
    jobs = collect([tmp_path])
    folders = {folder_name(j.name) for j in jobs}
    assert len(jobs) == len(folders) == 3


def test_special_files_and_links_are_refused(tmp_path):
    subs = tmp_path / "subs"
    make(subs, "ok.ipynb", "alice/hw.ipynb", "bob/hw.ipynb")
    make(tmp_path, "elsewhere/secret.ipynb")
    os.mkfifo(subs / "fifo.ipynb")
    (subs / "zero.ipynb").symlink_to("/dev/zero")
    (subs / "dir.ipynb").mkdir()
    (subs / "twin.ipynb").symlink_to("ok.ipynb")
    (subs / "carol").mkdir()
    (subs / "carol" / "hw.ipynb").symlink_to(subs / "alice" / "hw.ipynb")
    (subs / "dave").symlink_to(subs / "bob")
    (subs / "leak.ipynb").symlink_to(tmp_path / "elsewhere" / "secret.ipynb")
    jobs = {j.name: j for j in collect([subs])}
    assert "outside" in jobs["leak"].refusal
    assert "FIFO" in jobs["fifo"].refusal
    assert "outside" in jobs["zero"].refusal
    assert "holds no notebook" in jobs["dir.ipynb"].refusal
    assert "outside its submission's folder" in jobs["carol"].refusal
    assert "links to folders are not followed" in jobs["dave"].refusal
    assert not jobs["twin"].refusal and jobs["twin"].twins == ("ok",)
    assert jobs["ok"].twins == ("twin",)
    assert not jobs["alice"].refusal and jobs["alice"].twins == ()


def test_nothing_to_grade(tmp_path):
    with pytest.raises(NothingToGrade):
        collect([tmp_path])
