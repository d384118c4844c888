"""cgroup v1 and v2 layouts, on a folder laid out like each (no machine has both)."""

from __future__ import annotations

from grader import cgroups
from grader.limits import GIB, MIB, Limits

LIMITS = Limits(memory_bytes=2 * GIB, scratch_bytes=256 * MIB, processes=99)


def v2_root(tmp_path, enabled: str = ""):
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids hugetlb\n")
    (tmp_path / "cgroup.subtree_control").write_text(enabled)
    return tmp_path


def test_detects_v2_and_delegates_memory_and_pids(tmp_path):
    root = v2_root(tmp_path)
    tree = cgroups.detect(root)
    assert tree is not None and tree.version == "v2"
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert (root / "grader" / "cgroup.subtree_control").read_text() == "+memory +pids"


def test_v2_limits_peak_and_oom(tmp_path):
    tree = cgroups.Cgroups("v2", v2_root(tmp_path, "memory pids"))
    tree.create("k1-ab", LIMITS)
    d = tmp_path / "grader" / "k1-ab"
    assert (d / "memory.max").read_text() == str(2 * GIB + 256 * MIB)
    assert (d / "pids.max").read_text() == "99"
    assert (d / "memory.swap.max").read_text() == "0"
    (d / "memory.peak").write_text("123456\n")
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert tree.peak_memory("k1-ab") == 123456 and tree.oom_killed("k1-ab")
    assert [str(p) for p in tree.dirs("k1-ab")] == [str(d)]


def test_v1_limits_peak_and_oom(tmp_path):
    for c in ("memory", "pids"):
        (tmp_path / c).mkdir()
        (tmp_path / c / "cgroup.procs").write_text("")
    tree = cgroups.detect(tmp_path)
    assert tree is not None and tree.version == "v1"
    tree.create("k1-ab", LIMITS)
    mem, pids = tree.dirs("k1-ab")
    assert (mem / "memory.limit_in_bytes").read_text() == str(2 * GIB + 256 * MIB)
    assert (pids / "pids.max").read_text() == "99"
    (mem / "memory.max_usage_in_bytes").write_text("777")
    (mem / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
    assert tree.peak_memory("k1-ab") == 777 and not tree.oom_killed("k1-ab")


def test_no_usable_cgroups(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("hugetlb\n")  # memory, pids held by v1
    assert cgroups.detect(tmp_path) is None
