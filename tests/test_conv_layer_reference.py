"""The conv-layer reference and the lenient comparisons the checks rely on."""

import importlib.util

import numpy as np
import pytest

from conftest import ROOT
from grader.normalize import canonical_text


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ref = load(ROOT / "reference" / "conv-layer" / "solution.py", "ref_solution")

DIAGONAL = {
    "eye": np.eye(6), "eye-nonsquare": np.eye(6, 9), "tril": np.tril(np.ones((6, 8))),
    "triu-3x3": np.triu(np.ones((3, 3))), "anti-line": np.fliplr(np.eye(7)),
    "anti-step": np.fliplr(np.tril(np.ones((5, 9)))), "values-5-2": np.where(np.eye(6) > 0, 5.0, -2.0),
    "band": (np.abs(np.subtract.outer(np.arange(8), np.arange(8))) <= 1) * 1.0,
    "segment-in-canvas": np.pad(np.eye(4), 3), "triangle-in-canvas": np.pad(np.tril(np.ones((6, 6))), 1),
    "cross": np.clip(np.eye(7) + np.fliplr(np.eye(7)), 0, 1),
    "slightly-noisy": np.tril(np.ones((8, 8))) + 0.01 * np.random.default_rng(0).normal(size=(8, 8)),
}
NOT_DIAGONAL = {
    "vertical": np.hstack([np.ones((6, 2)), np.zeros((6, 4)), np.ones((6, 2))]),
    "horizontal": np.vstack([np.ones((3, 8)), np.zeros((3, 8))]), "constant": np.ones((6, 8)),
    "zeros": np.zeros((5, 5)), "dot": np.pad(np.ones((1, 1)), 3), "square": np.pad(np.ones((3, 3)), 2),
    "ramp": np.add.outer(np.arange(6), np.arange(8)) * 1.0, "2x2": np.eye(2), "1-D": np.ones(5),
    "steeper-than-45": np.array([[1.0 if j < 2 * i else 0.0 for j in range(12)] for i in range(6)]),
    "block-checkerboard": np.kron(np.indices((3, 3)).sum(0) % 2, np.ones((2, 2))) * 1.0,
}


@pytest.mark.parametrize("name", DIAGONAL)
def test_diagonal_edges_are_recognised(name):
    assert ref.diagonal_edge_problem(DIAGONAL[name]) is None


@pytest.mark.parametrize("name", NOT_DIAGONAL)
def test_other_images_are_not_diagonal(name):
    assert ref.diagonal_edge_problem(NOT_DIAGONAL[name])


def test_noise_is_rarely_taken_for_a_diagonal_edge():
    rng = np.random.default_rng(7)
    accepted = sum(ref.diagonal_edge_problem((rng.random((h, w)) < 0.5) * 1.0) is None
                   for h, w in rng.integers(5, 12, size=(500, 2)))
    assert accepted <= 10


def test_transposed_and_flipped_diagonals_stay_diagonal():
    rng = np.random.default_rng(3)
    for _ in range(50):
        h, w = rng.integers(3, 12, size=2)
        X = np.tril(np.ones((h, w)), k=int(rng.integers(-1, 2)))
        for image in (X, X.T, np.fliplr(X), np.flipud(X), 3 * X - 1):
            assert ref.diagonal_edge_problem(image) is None


def test_kernel_matrix_reproduces_corr2d():
    rng = np.random.default_rng(1)
    for _ in range(30):
        h, w = rng.integers(2, 9, size=2)
        kh, kw = rng.integers(1, h + 1), rng.integers(1, w + 1)
        X, K = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
        W = ref.kernel_matrix(K, (h, w))
        assert np.allclose(W @ X.ravel(), ref.corr2d(X, K).ravel())


def test_autograd_errors_come_from_the_installed_torch(tmp_path, monkeypatch):
    fresh = ref._run_autograd_scenarios()  # runs the scenarios on the installed torch
    assert fresh and all(etype == "RuntimeError" for _, etype, _ in fresh)
    assert any("scalar outputs" in msg for _, _, msg in fresh)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    ref.autograd_errors.cache_clear()
    assert ref.autograd_errors() == fresh  # computed, then cached under the torch install
    assert len(list((tmp_path / "grader").glob("conv-layer-autograd-*.json"))) == 1
    ref.autograd_errors.cache_clear()
    assert ref.autograd_errors() == fresh  # read back from the cache


@pytest.mark.parametrize("given", [
    "grad can be implicitly created only for scalar outputs",
    "RuntimeError: grad can be implicitly created only for scalar outputs",
    "  RuntimeError:   grad can be implicitly\n created only for scalar outputs.  ",
    "RuntimeError('grad can be implicitly created only for scalar outputs')",
    "Traceback (most recent call last):\n  File \"x\", line 1\nRuntimeError: grad can be implicitly created only for scalar outputs",
])
def test_autograd_messages_compare_leniently(given):
    want = canonical_text("grad can be implicitly created only for scalar outputs")[1]
    assert canonical_text(given)[1] == want


@pytest.mark.parametrize("given", ["RuntimeError", "", "grad can be implicitly created",
                                   "element 0 of tensors does not require grad"])
def test_wrong_autograd_messages_differ(given):
    want = canonical_text("grad can be implicitly created only for scalar outputs")[1]
    assert canonical_text(given)[1] != want
