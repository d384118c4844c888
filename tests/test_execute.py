"""The execute and extract steps alone: a real sandboxed kernel, driven by execute_submission."""

import asyncio

import nbformat
import numpy as np
import pytest

from grader import sandbox as sb
from grader.execute import execute_submission
from grader.kernels import KernelStartError, choose, open_backend
from grader.limits import Limits
from grader.wire import Call, RaisedError, Unsupported, Value


@pytest.fixture(scope="module")
def box():
    """The sandbox this machine has, found once."""
    return sb.detect_sandbox()


def run(cells, requests, box, **limits):
    lim = Limits(**{"cell_timeout": 5, **limits})
    backend = open_backend(choose(box, forge=False), box, lim)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    try:
        return asyncio.run(execute_submission(nb, requests, backend=backend, limits=lim))
    finally:
        backend.close()


def test_values_and_calls_cross_as_plain_data(box):
    ex = run(["import numpy as np, torch\n"
              "a = torch.arange(6.).reshape(2, 3)\nb = np.int16(7)\nc = [1, (2.5, 'x')]\n"
              "d = ValueError('no')\ne = float('inf')\nimport os\nf = os\n"
              "def g(t, s): return t * s[0]\n"
              "def h(x): raise KeyError(x)"],
             [Value("a"), Value("b"), Value("c"), Value("d"), Value("e"), Value("f"),
              Value("zz"), Call("g", (np.ones(2, dtype=np.float32), (3, 4)), key="g"),
              Call("h", (5,), key="h"), Call("a", (), key="a()")], box)
    ans = ex.answers
    assert ans["a"].value.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert ans["b"].value == 7 and ans["c"].value == [1, (2.5, "x")]
    assert ans["d"].value == RaisedError("ValueError", "no")
    assert ans["e"].value == float("inf") and ans["f"].value == Unsupported("module")
    assert ans["zz"].status == "missing"
    assert ans["g"].value.tolist() == [3.0, 3.0] and ans["g"].args[1] == (3, 4)
    assert ans["h"].status == "raised" and ans["h"].value == "KeyError"
    assert "KeyError" in ans["h"].traceback
    assert ans["a()"].status == "not_callable"


def test_cell_outcomes_and_restart_without_the_killer(box):
    ex = run(["x = 1", "raise ValueError('bad')", "import os; os._exit(0)", "y = 2",
              "import time\nwhile True: time.sleep(0.05)", "z = 3"],
             [Value("x"), Value("y"), Value("z")], box, cell_timeout=2)
    assert [c.status for c in ex.cells] == ["ok", "error", "excluded", "ok", "timeout", "ok"]
    assert ex.cells[1].ename == "ValueError" and "bad" in ex.cells[1].traceback
    assert ex.kernels_started == 2
    assert [ex.answers[k].value for k in "xyz"] == [1, 2, 3]


def test_notebook_time_limit_stops_later_cells(box):
    ex = run(["import time; time.sleep(0.5)", "time.sleep(30)", "b = 2"], [Value("b")], box,
             notebook_timeout=4)
    assert ex.cells[0].status == "ok" and ex.cells[1].status == "timeout"
    assert ex.cells[2].status == "not_run"
    assert ex.answers["b"].status in ("missing", "not_run")


def test_stored_outputs_are_ignored_and_cleared(box):
    nb_cells = ["v = 41"]
    ex = run(nb_cells, [Value("v")], box)
    assert ex.answers["v"].value == 41


def test_kernel_sees_nothing_of_the_host(box):
    ex = run(["import os\nhome = os.getcwd()\nenv = dict(os.environ)\n"
              "seen = sorted(os.listdir('/'))\nuid = os.getuid()\n"
              "status = open('/proc/self/status').read()\n"
              "caps = [l for l in status.splitlines() if l.startswith(('CapEff', 'CapBnd', 'NoNewPrivs', 'Seccomp:'))]"],
             [Value("home"), Value("env"), Value("seen"), Value("uid"), Value("caps")], box)
    a = {k: v.value for k, v in ex.answers.items()}
    assert a["home"] == "/home/student" and sb.UID_BASE <= a["uid"] < sb.UID_BASE + sb.UID_SLOTS
    assert "HOME" in a["env"] and not any(k.startswith(("GRADER", "SSH", "PYTEST")) for k in a["env"])
    assert "srv" not in a["seen"] and "opt" not in a["seen"] and "var" not in a["seen"]
    assert "CapEff:\t0000000000000000" in a["caps"] and "CapBnd:\t0000000000000000" in a["caps"]
    assert "NoNewPrivs:\t1" in a["caps"] and "Seccomp:\t2" in a["caps"]


class FailingStarts:
    """A real backend whose first `failures` kernel starts fail, as on an overloaded machine."""

    def __init__(self, backend, failures):
        self.backend, self.failures, self.calls = backend, failures, 0

    async def new_kernel(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise KernelStartError("the kernel died before answering")
        return await self.backend.new_kernel()


def run_with_failed_starts(failures, box):
    lim = Limits(cell_timeout=5)
    real = open_backend(choose(box, forge=False), box, lim)
    flaky = FailingStarts(real, failures)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 41 + 1")])
    try:
        return asyncio.run(execute_submission(nb, [Value("x")], backend=flaky, limits=lim)), flaky
    finally:
        real.close()


def test_a_kernel_that_fails_to_start_is_started_again(box):
    ex, flaky = run_with_failed_starts(2, box)
    assert flaky.calls == 3 and ex.kernels_started == 1
    assert not ex.infrastructure_error
    assert ex.answers["x"].value == 42 and [c.status for c in ex.cells] == ["ok"]
    assert sum("failed to start" in e and "retried" in e for e in ex.events) == 2


def test_a_kernel_that_never_starts_is_the_grader_s_fault(box):
    ex, flaky = run_with_failed_starts(99, box)
    assert flaky.calls == 3 and ex.kernels_started == 0
    assert "3 attempts" in ex.infrastructure_error and "--regrade" in ex.infrastructure_error
    assert [c.status for c in ex.cells] == ["not_run"]
    assert ex.answers["x"].status != "ok"


def test_globals_named_like_builtins_do_not_break_the_answers(box):
    shadows = ("type = 'gaussian'\nlist = [3, 5, 7]\nisinstance = len = str = float = None\n"
               "dict = tuple = int = bool = repr = hasattr = getattr = callable = 0\n"
               "exec = get_ipython = None\n")
    ex = run(["import torch\nK = torch.tensor([[1.0, -1.0]])\nsize = (1, 3)\n"
              "def f(x): return x * 2", shadows],
             [Value("K"), Value("size"), Call("f", (np.ones(2),), key="f"), Value("type")], box)
    assert [c.status for c in ex.cells] == ["ok", "ok"]
    assert ex.answers["K"].value.tolist() == [[1.0, -1.0]] and ex.answers["size"].value == (1, 3)
    assert ex.answers["f"].value.tolist() == [2.0, 2.0]
    assert ex.answers["type"].value == "gaussian"
