"""Find the submissions behind the command line's paths, each with a stable name.

A submission's name comes from where it is, never from the order of the arguments: a notebook
in a student's folder (`subs/alice/hw.ipynb`, as LMS downloads and GitHub Classroom lay them
out) is named after the folder (`alice`; `alice/hw` when the folder holds several notebooks);
a notebook directly in a folder given, or given itself, is named after its file (`hw`). Two
submissions with one name are an error naming both files.

Only regular files are graded. Anything else that looks like a notebook (a FIFO, a device, a
folder, a link leaving its submission's folder) becomes a refused job, reported with the
batch, never read.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .limits import NOTEBOOK_BYTES


class NothingToGrade(ValueError):
    pass


class NameClash(ValueError):
    """Two submissions would have the same name; the message names both files."""


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    """The submission's identity, e.g. "alice" or "alice/hw" (see the module's docstring)."""
    path: Path
    """Where it was found, as the user named it."""
    source: Path | None = None
    """The regular file to read (links resolved); None when the job is refused."""
    refusal: str = ""
    """Why this is not graded (not a regular file, a link out of its folder...), or empty."""
    twins: tuple[str, ...] = ()
    """Other submissions of this run that are the same file (links or hard links)."""


@dataclass(frozen=True, slots=True)
class _Found:
    path: Path
    home: Path
    """The folder the submission must stay in: its student's folder, else the folder holding it."""
    name: str


def collect(paths: list[Path]) -> list[Job]:
    """The jobs for `paths` (notebooks, and folders searched for *.ipynb, hidden folders and
    checkpoints skipped), sorted by name. Raises NothingToGrade or NameClash."""
    found: list[_Found] = []
    for p in paths:
        if p.is_dir():
            found += _in_folder(p)
        else:
            found.append(_Found(p, p.parent, _stem(Path(p.name))))
    if not found:
        raise NothingToGrade("no notebooks (*.ipynb) found in " + ", ".join(map(str, paths)))
    by_name: dict[str, _Found] = {}
    for f in found:
        other = by_name.setdefault(f.name, f)
        if other is not f and other.path != f.path:
            raise NameClash(
                f"two submissions would both be named {f.name!r}: {other.path} and {f.path}. "
                "Put each student's notebook in a folder of its own and pass the parent folder "
                "(each is then named after its folder), or rename one of the files")
    jobs = [_job(f) for f in by_name.values()]
    return _with_twins(sorted(jobs, key=lambda j: j.name))


def _in_folder(top: Path) -> list[_Found]:
    """Notebooks below `top`, named by student folder (first level) or by file."""
    out: list[_Found] = []
    for entry in sorted(top.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            notebooks = _notebooks(entry)
            if not notebooks:
                out.append(_Found(entry, top, entry.name))  # refused: no notebook in it
            for nb in notebooks:
                rel = _stem(nb.relative_to(entry))
                name = entry.name if len(notebooks) == 1 else f"{entry.name}/{rel}"
                out.append(_Found(nb, entry, name))
        elif entry.name.endswith(".ipynb") or entry.is_dir():  # the latter: a link to a folder
            out.append(_Found(entry, top, _stem(Path(entry.name))))
    return out


def _notebooks(folder: Path) -> list[Path]:
    """*.ipynb below `folder` without following links to folders; hidden folders (such as
    .ipynb_checkpoints) skipped. A link to a folder that looks like a notebook is kept, to be
    refused."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        linked = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        found += [Path(root, f) for f in files if f.endswith(".ipynb")]
        found += [Path(root, d) for d in linked if d.endswith(".ipynb")]
    return sorted(found)


def _stem(path: Path) -> str:
    """The path without its .ipynb suffix, as text with forward slashes."""
    text = path.as_posix()
    return text[: -len(".ipynb")] if text.endswith(".ipynb") else text


def _job(f: _Found) -> Job:
    refusal, source = _check(f.path, f.home)
    return Job(f.name, f.path, source, refusal)


def _check(path: Path, home: Path) -> tuple[str, Path | None]:
    """("", the file to read), or (why it is refused, None)."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "it is a broken link or cannot be reached", None
    if path.is_dir() and path.is_symlink():
        return f"it is a link to the folder {real}; links to folders are not followed", None
    if path.is_dir():
        return f"the folder {path} holds no notebook (*.ipynb)", None
    if path.is_symlink() and not real.is_relative_to(home.resolve()):
        return (f"it is a link to {real}, outside its submission's folder {home}: only what is "
                "in the submitted folder is graded (copy the file itself there)"), None
    try:
        st = os.stat(real)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})", None
    if not stat.S_ISREG(st.st_mode):
        return f"it is not a regular file (it is {_kind(st.st_mode)}), so not a notebook", None
    if st.st_size > NOTEBOOK_BYTES:
        return (f"it is {st.st_size // 2**20} MiB; notebooks over {NOTEBOOK_BYTES // 2**20} "
                "MiB are not graded (clear its outputs and submit again)"), None
    return "", real


def _kind(mode: int) -> str:
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def _with_twins(jobs: list[Job]) -> list[Job]:
    """Mark jobs that are the same file under several names: each is graded and reported."""
    by_file: dict[tuple[int, int], list[str]] = {}
    for job in jobs:
        if job.source is not None:
            st = os.stat(job.source)
            by_file.setdefault((st.st_dev, st.st_ino), []).append(job.name)
    out = []
    for job in jobs:
        twins: tuple[str, ...] = ()
        if job.source is not None:
            st = os.stat(job.source)
            twins = tuple(n for n in by_file[(st.st_dev, st.st_ino)] if n != job.name)
        out.append(Job(job.name, job.path, job.source, job.refusal, twins))
    return out
