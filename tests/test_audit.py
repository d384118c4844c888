"""`grader audit`: the mutants it makes, that every pack of the repository passes its audit as
it is, and that the audit catches a weakened check."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from grader.audit import ignore_requests, mutations
from grader.wire import Call, RaisedError

from conftest import ROOT, run_grader

pytestmark = pytest.mark.slow


def test_mutations_of_arrays_numbers_and_text():
    rng = np.random.default_rng(0)
    kernel = np.array([[1.0, -2.0, 1.0]])
    kinds = mutations(kernel, rng)
    assert {"zeros", "negated", "scaled-1e-6", "transposed", "nan", "inf", "wrong-shape",
            "random", "constant", "ones", "scaled-1e6"} <= set(kinds)
    assert "int-cast" not in kinds  # the same values: nothing to detect
    assert np.isnan(kinds["nan"]).any() and kinds["transposed"].shape == (3, 1)
    assert mutations(3, rng)["negated"] == -3.0 and mutations((1, 3), rng)["zeros"] == (0, 0)
    text = mutations("grad can be implicitly created only for scalar outputs", rng)
    assert text["empty"] == "" and "halved" in text
    err = mutations(RaisedError("RuntimeError", "boom now"), rng)
    assert all(isinstance(v, RaisedError) for v in err.values())


def test_functions_that_ignore_an_argument():
    calls = [Call("blur", (3, 0.5), key="b0"), Call("blur", (5, 1.5), key="b1")]
    extra = {c.key: c.args for c in ignore_requests(calls)}
    assert extra == {"b0~ignores0": (5, 0.5), "b1~ignores0": (3, 1.5),
                     "b0~ignores1": (3, 1.5), "b1~ignores1": (5, 0.5)}


@pytest.mark.parametrize("pack", ["conv-layer", "tiny"])
def test_every_pack_passes_its_audit(pack):
    """No wrong answer made from the model solution survives undeclared (tiny: tests/packs)."""
    done = run_grader("audit", pack, timeout=900)
    assert done.returncode == 0 and "0 survived undeclared" in done.stdout, (
        done.stdout[-3000:] + done.stderr[-2000:])


def test_a_weakened_check_is_caught(tmp_path):
    pack = tmp_path / "conv-layer"
    shutil.copytree(ROOT / "exercises" / "conv-layer", pack)
    toml = (pack / "pack.toml").read_text()
    toml = toml.replace('reference = "../../reference/conv-layer"',
                        f'reference = "{ROOT / "reference" / "conv-layer"}"')
    toml = toml.replace('template = "../../student_template/conv-layer.ipynb"',
                        f'template = "{ROOT / "student_template" / "conv-layer.ipynb"}"')
    (pack / "pack.toml").write_text(toml)
    sizes = (pack / "hidden" / "test_sizes.py").read_text()
    weakened = sizes.replace("        if not is_size(size(value, f\"min_kernel_size({d})\"), d + 1):",
                             "        if not is_size(size(value, f\"min_kernel_size({d})\"), d + 1)"
                             " and value != 0:")
    assert weakened != sizes
    (pack / "hidden" / "test_sizes.py").write_text(weakened)
    done = run_grader("audit", str(pack), timeout=900)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SURVIVED: min_kernel_size zeros" in done.stdout
    assert "0 survived undeclared" not in done.stdout
