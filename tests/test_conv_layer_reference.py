"""The conv-layer reference and the lenient comparisons the checks rely on."""

import importlib.util

import numpy as np
import pytest

from grader.normalize import canonical_text

from conftest import ROOT


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




def box_blur_zero_padding(X):
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(X, 1), (3, 3))
    return windows.mean(axis=(2, 3))


def grid(n):
    return np.indices((n, n), dtype=float)  # rows, columns


# Real diagonal edges the first detector refused (issue 9), and more of their kind.
MORE_DIAGONAL = {
    "eye-3x3": np.eye(3), "anti-eye-3x3": np.fliplr(np.eye(3)), "eye-4x4": np.eye(4),
    "two-pixel-steps": np.kron(np.tril(np.ones((4, 4))), np.ones((2, 2))),
    "two-pixel-steps-6x6": np.kron(np.tril(np.ones((3, 3))), np.ones((2, 2))),
    "two-pixel-line": np.kron(np.eye(5), np.ones((2, 2))),
    "three-pixel-steps": np.kron(np.fliplr(np.tril(np.ones((4, 4)))), np.ones((3, 3))),
    "soft-sigmoid": 1 / (1 + np.exp(-2.0 * (grid(9)[1] - grid(9)[0]))),
    "soft-wide-sigmoid": 1 / (1 + np.exp(-(grid(12)[1] - grid(12)[0]) / 1.5)),
    "box-blurred-zero-padding": box_blur_zero_padding(np.tril(np.ones((10, 10)))),
    "noisy-0.05": np.tril(np.ones((10, 10))) + 0.05 * np.random.default_rng(1).normal(size=(10, 10)),
    "noisy-uniform-0.2": np.tril(np.ones((12, 12))) + 0.2 * np.random.default_rng(2).random((12, 12)),
    "noisy-line": np.eye(10) + 0.05 * np.random.default_rng(3).normal(size=(10, 10)),
    "large-300": np.tril(np.ones((300, 300))), "large-eye-512": np.eye(512),
    "large-anti-600x400": np.fliplr(np.tril(np.ones((600, 400)))),
    "scaled-1e-6": 1e-6 * np.tril(np.ones((6, 6))), "offset-1000": 1000 + np.eye(6),
    "thick-line": (np.abs(np.subtract.outer(np.arange(10), np.arange(10))) <= 2) * 1.0,
    "diagonal-stripes": ((np.add.outer(np.arange(10), np.arange(10)) // 3) % 2) * 1.0,
}
MORE_NOT_DIAGONAL = {
    "ramp-along-main": np.subtract.outer(np.arange(9), np.arange(9)) * 1.0,
    "ramp-along-x": np.tile(np.arange(8.0), (6, 1)), "checkerboard": (grid(8).sum(0) % 2) * 1.0,
    "disk": (np.add.outer((np.arange(15) - 7) ** 2, (np.arange(15) - 7) ** 2) <= 25) * 1.0,
    "plus": ((grid(7)[0] == 3) | (grid(7)[1] == 3)) * 1.0,
    "gaussian-blob": np.exp(-((grid(11) - 5) ** 2).sum(0) / 8),
    "corner-dot": np.pad(np.ones((1, 1)), ((0, 6), (0, 6))), "dot-3x3": np.pad(np.ones((1, 1)), 1),
    "steep-line": np.array([[1.0 if j == 2 * i else 0.0 for j in range(12)] for i in range(6)]),
    "steeper-staircase-48": (np.arange(48)[None, :] < 2 * np.arange(24)[:, None]) * 1.0,
    "flatter-staircase-48": (2 * np.arange(24)[None, :] < np.arange(48)[:, None]) * 1.0,
    "horizontal-stripes": ((np.arange(10) // 2) % 2)[:, None] * np.ones((1, 10)),
    "nan": np.where(np.eye(5) > 0, np.nan, 0.0),
    "large-vertical": np.tile(np.arange(400) > 200, (300, 1)) * 1.0,
}


@pytest.mark.parametrize("name", DIAGONAL)
def test_diagonal_edges_are_recognised(name):
    assert ref.diagonal_edge_problem(DIAGONAL[name]) is None


@pytest.mark.parametrize("name", MORE_DIAGONAL)
def test_lines_steps_soft_noisy_and_large_diagonal_edges_are_recognised(name):
    X = MORE_DIAGONAL[name]
    for image in (X, X.T, np.flipud(X)):
        assert ref.diagonal_edge_problem(image) is None


@pytest.mark.parametrize("name", MORE_NOT_DIAGONAL)
def test_ramps_curves_junctions_and_other_slopes_are_not_diagonal_edges(name):
    assert ref.diagonal_edge_problem(MORE_NOT_DIAGONAL[name])


@pytest.mark.parametrize("name", NOT_DIAGONAL)
def test_other_images_are_not_diagonal(name):
    assert ref.diagonal_edge_problem(NOT_DIAGONAL[name])


def test_noise_is_rarely_taken_for_a_diagonal_edge():
    rng = np.random.default_rng(7)
    accepted = sum(ref.diagonal_edge_problem((rng.random((h, w)) < 0.5) * 1.0) is None
                   for h, w in rng.integers(5, 12, size=(500, 2)))
    assert accepted <= 10


def test_grey_noise_of_any_size_is_not_a_diagonal_edge():
    rng = np.random.default_rng(11)
    accepted = sum(ref.diagonal_edge_problem(rng.normal(size=(h, w))) is None
                   for h, w in rng.integers(5, 40, size=(150, 2)))
    assert accepted <= 3


def test_why_an_image_is_not_a_diagonal_edge():
    say = ref.diagonal_edge_problem
    assert "constant" in say(np.full((5, 5), 2.0))
    assert "vertical" in say(NOT_DIAGONAL["vertical"]) and "horizontal" in say(NOT_DIAGONAL["horizontal"])
    assert "ramp" in say(NOT_DIAGONAL["ramp"])
    assert "at least 3x3" in say(np.eye(2)) and "2-D" in say(np.ones(5))
    assert "NaN" in say(MORE_NOT_DIAGONAL["nan"])


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


# --- the checks' rules, on real values ----------------------------------------------------------

CHECKS = ROOT / "exercises" / "conv-layer" / "checks"
kernel_checks = load(CHECKS / "test_kernels.py", "kernel_checks")
diagonal_checks = load(CHECKS / "test_diagonal.py", "diagonal_checks")
matmul_checks = load(CHECKS / "test_matmul.py", "matmul_checks")
HIDDEN = ROOT / "exercises" / "conv-layer" / "hidden"
selectivity = load(HIDDEN / "test_edge_selectivity.py", "selectivity_checks")
size_checks = load(HIDDEN / "test_sizes.py", "size_checks")
public_ref = load(ROOT / "reference" / "conv-layer" / "public.py", "ref_public")


def edge_problem(W, v, name):
    """What the public check (basic properties) or the hidden one (selectivity) finds wrong."""
    return (kernel_checks.edge_behaviour(W, v, public_ref, name)
            or selectivity.selectivity_problem(W, v, ref))
probes = load(ROOT / "exercises" / "conv-layer" / "probes.py", "conv_probes")


def answers_of(values=None, calls=None):
    """judge.Answers from {name: value} and {function: [(args, result), ...]}."""
    from grader.judge import Answers
    from grader.wire import Answer, Call, Value

    out = {}
    for name, value in (values or {}).items():
        out[name] = Answer(Value(name), "ok", value=value)
    for name, made in (calls or {}).items():
        for i, (args, result) in enumerate(made):
            req = Call(name, args, key=f"{name}#{i}")
            out[req.key] = Answer(req, "ok", value=result)
    return Answers(out)


def judged(check, *args) -> str | None:
    """None when the check passes, else its message (an accepted note passes too)."""
    from grader.feedback import Accepted, Feedback
    try:
        check(*args)
    except Feedback as exc:
        return exc.message
    except Accepted:
        return None
    return None


SOBEL = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
LAPLACIAN = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
RIGHT_EDGE_KERNELS = {
    "central": ref.edge_kernel, "sobel": lambda v: v[0] * SOBEL + v[1] * SOBEL.T,
    "2x2": lambda v: v[0] * np.array([[-1, 1], [-1, 1.0]]) / 2 + v[1] * np.array([[-1, -1], [1, 1.0]]) / 2,
    "forward": lambda v: np.array([[-v[0] - v[1], v[0]], [v[1], 0.0]]),
    "sobel-5x5": lambda v: v[0] * np.outer([1, 4, 6, 4, 1.0], [-1, -2, 0, 2, 1.0])
    + v[1] * np.outer([-1, -2, 0, 2, 1.0], [1, 4, 6, 4, 1.0]),
    "negated-unit": lambda v: -(v[0] * SOBEL + v[1] * SOBEL.T) / np.hypot(*v),
    "scaled-1e-6": lambda v: 1e-6 * ref.edge_kernel(v), "scaled-1e200": lambda v: 1e200 * ref.edge_kernel(v),
}
WRONG_EDGE_KERNELS = {
    "zeros": lambda v: np.zeros((3, 3)), "zeros-7x7": lambda v: np.zeros((7, 7)),
    "truncated-to-int": lambda v: np.trunc(ref.edge_kernel(v) / (2 * np.hypot(*v))),
    "plus-laplacian": lambda v: ref.edge_kernel(v) + np.hypot(*v) * LAPLACIAN,
    "plus-half-laplacian": lambda v: ref.edge_kernel(v) + 0.5 * np.hypot(*v) * LAPLACIAN,
    "parallel": lambda v: v[1] * SOBEL - v[0] * SOBEL.T, "x-only": lambda v: np.array([[-v[0], v[0]]]),
    "ignores-v": lambda v: np.array([[1.0, -1.0], [1.0, -1.0]]),
    "abs": lambda v: np.abs(v[0] * SOBEL + v[1] * SOBEL.T),
    "swapped-and-y-up": lambda v: v[1] * SOBEL - v[0] * SOBEL.T,
}
DIRECTIONS = [v for seed in (1, 2, 3) for v in probes.directions(np.random.default_rng(seed))]


@pytest.mark.parametrize("name", RIGHT_EDGE_KERNELS)
def test_edge_detectors_of_any_form_and_scale_pass(name):
    for v in DIRECTIONS:
        assert edge_problem(RIGHT_EDGE_KERNELS[name](v), v, name) is None


@pytest.mark.parametrize("name", WRONG_EDGE_KERNELS)
def test_degenerate_and_weak_edge_detectors_fail(name):
    problems = [edge_problem(WRONG_EDGE_KERNELS[name](v), v, name) for v in DIRECTIONS]
    assert any(problems)


def test_edge_detectors_that_overflow_fail_with_their_own_message():
    from grader.feedback import Feedback
    v = DIRECTIONS[0]
    with pytest.raises(Feedback, match="infinite or NaN"):
        kernel_checks.edge_behaviour(1e307 * np.sign(ref.edge_kernel(v)), v, ref, "edge_kernel(v)")


def test_a_laplacian_term_is_seen_on_step_edges_parallel_to_v():
    v = DIRECTIONS[0]
    assert kernel_checks.edge_behaviour(WRONG_EDGE_KERNELS["plus-laplacian"](v), v, public_ref,
                                        "k") is None  # the public check cannot tell
    said = selectivity.selectivity_problem(WRONG_EDGE_KERNELS["plus-laplacian"](v), v, ref)
    assert "parallel to v" in said


@pytest.mark.parametrize("convention, kernel", [
    ("swapped", lambda v: v[1] * SOBEL + v[0] * SOBEL.T),
    ("y-up", lambda v: v[0] * SOBEL - v[1] * SOBEL.T),
])
def test_axis_conventions_pass_with_a_note_and_only_as_a_whole(convention, kernel):
    calls = [((v,), kernel(v)) for v in DIRECTIONS[:4]]
    check = kernel_checks.test_edge_kernel
    from grader.feedback import Accepted
    with pytest.raises(Accepted, match=convention.capitalize().replace("-u", "-u")):
        check(answers_of(calls={"edge_kernel": calls}), ref)
    mixed = calls[:2] + [((v,), ref.edge_kernel(v)) for v in DIRECTIONS[2:4]]
    assert "does not detect" in judged(check, answers_of(calls={"edge_kernel": mixed}), ref)


def blur_calls(make):
    return answers_of(calls={"blur_kernel": [((n, s), make(n, s)) for n, s in
                                             ((3, 0.5), (5, 1.2), (7, 2.9), (11, 0.8))]})


def centred_indices(n):
    r = np.arange(n) - (n - 1) / 2
    return r[:, None], r[None, :]


def narrow_gaussian(n, sigma):
    i, j = centred_indices(n)
    g = np.exp(-(i ** 2 + j ** 2) / sigma ** 2)
    return g / g.sum()


def corners(n, sigma):
    k = np.zeros((n, n))
    k[0, 0] = k[-1, -1] = 0.5
    return k


def one_colour(n, sigma):
    i, j = centred_indices(n)
    k = ((i + j) % 2 == 0) * 1.0
    return k / k.sum()


def alternate_columns(n, sigma):
    k = np.zeros((n, n))
    k[:, ::2] = 1.0
    return k / k.sum()


def ring(n, sigma):
    k = np.ones((n, n))
    k[1:-1, 1:-1] = 0.0
    return k / k.sum()


def delta(n, sigma):
    k = np.zeros((n, n))
    k[n // 2, n // 2] = 1.0
    return k


def top_left(n, sigma):
    k = np.zeros((n, n))
    k[:2, :2] = 0.25
    return k


@pytest.mark.parametrize("make", [ref.gaussian_blur, lambda n, s: np.full((n, n), 1 / n ** 2),
                                  narrow_gaussian, lambda n, s: ref.gaussian_blur(n, s)[None, None]])
def test_blurs_pass(make):
    assert judged(kernel_checks.test_blur_kernel, blur_calls(make), np.random.default_rng(0), ref) is None


@pytest.mark.parametrize("make, said", [
    (corners, "not local"), (one_colour, "not local"), (alternate_columns, "not local"),
    (ring, "not local"), (delta, "does not smooth"), (top_left, "not local"),
    (lambda n, s: np.zeros((n, n)), "sum to 0"), (lambda n, s: np.ones((n, n)), "sum to"),
    (lambda n, s: ref.gaussian_blur(3, s), "shape"),
])
def test_blurs_that_are_not_local_or_not_low_pass_fail(make, said):
    assert said in judged(kernel_checks.test_blur_kernel, blur_calls(make), np.random.default_rng(0), ref)


def test_weights_on_one_parity_keep_the_finest_details():
    # local enough on a wide window (centre included), but a checkerboard passes unchanged
    def every_other_pixel(n, sigma):
        i, j = centred_indices(n)
        k = ((i + j) % 2 == 0) & (i ** 2 + j ** 2 <= 4)
        return k / k.sum()
    answers = answers_of(calls={"blur_kernel": [((n, 1.0), every_other_pixel(n, 1.0)) for n in (5, 7)]})
    said = judged(kernel_checks.test_blur_kernel, answers, np.random.default_rng(0), ref)
    assert "does not smooth a checkerboard" in said


@pytest.mark.parametrize("kernel, ok", [
    (np.array([[1.0, -2.0, 1.0]]), True), (np.array([1.0, -2.0, 1.0]), True), (LAPLACIAN[None, None], True),
    (np.array([[-1.0, 16.0, -30.0, 16.0, -1.0]]) / 12, True), (np.zeros((3, 3)), False),
    (np.trunc(np.array([[1.0, 0.0, -2.0, 0.0, 1.0]]) / 4), False), (-LAPLACIAN, False),
    (5e307 * np.array([[1.0, -2.0, 1.0]]), False), (3 * LAPLACIAN, False),
])
def test_second_derivative_kernels(kernel, ok):
    answers = answers_of(values={"second_derivative_kernel": kernel})
    said = judged(kernel_checks.test_second_derivative_kernel, answers, np.random.default_rng(4), ref)
    assert (said is None) is ok, said


@pytest.mark.parametrize("value, ok", [(3, True), ([3], True), ((1, 3), True), ((3, 3), True),
                                       (np.array([[3, 1]]), True), (2, False), (9, False), ((2, 2), False)])
def test_second_derivative_min_size(value, ok):
    said = judged(size_checks.test_second_derivative_min_size,
                  answers_of(values={"second_derivative_min_size": value}))
    assert (said is None) is ok


@pytest.mark.parametrize("make, ok", [(lambda d: d + 1, True), (lambda d: (1, d + 1), True),
                                      (lambda d: [d + 1, d + 1], True), (lambda d: np.array([d + 1]), True),
                                      (lambda d: d, False), (lambda d: (1, d + 2), False), (lambda d: 2 * d + 1, False)])
def test_min_kernel_size(make, ok):
    answers = answers_of(calls={"min_kernel_size": [((d,), make(d)) for d in (1, 2, 3, 17)]})
    assert (judged(size_checks.test_min_kernel_size, answers) is None) is ok


def exercise_1(X, change=lambda name, Y: Y):
    Xs = np.asarray(X, dtype=float).reshape(np.shape(X)[-2:])
    return answers_of(values={"X_diag": X, "Y_diag": change("Y_diag", ref.corr2d(Xs, ref.K)),
                              "Y_diag_Xt": change("Y_diag_Xt", ref.corr2d(Xs.T, ref.K)),
                              "Y_diag_Kt": change("Y_diag_Kt", ref.corr2d(Xs, ref.K.T))})


EXERCISE_1 = [diagonal_checks.test_y_diag, diagonal_checks.test_y_diag_xt, diagonal_checks.test_y_diag_kt]


def test_responses_of_a_tiny_image_are_compared_at_its_own_scale():
    X = 1e-6 * np.eye(6)
    assert all(judged(check, exercise_1(X), ref) is None for check in EXERCISE_1)
    zeros = exercise_1(X, lambda name, Y: np.zeros_like(Y))
    negated = exercise_1(X, lambda name, Y: -Y)
    for check in EXERCISE_1:
        assert "all zeros" in judged(check, zeros, ref)
        assert "is not corr2d" in judged(check, negated, ref)


def test_images_and_responses_may_keep_batch_and_channel_axes():
    X = np.tril(np.ones((6, 6)))[None, None]
    answers = exercise_1(X, lambda name, Y: Y[None, None])
    assert judged(diagonal_checks.test_x_diag_has_a_diagonal_edge, answers, ref) is None
    assert all(judged(check, answers, ref) is None for check in EXERCISE_1)


def test_no_credit_for_1_2_and_1_3_without_an_edge_but_follow_through_otherwise():
    flat = exercise_1(np.zeros((6, 6)))
    assert "no edge at all" in judged(diagonal_checks.test_y_diag_xt, flat, ref)
    assert "no edge at all" in judged(diagonal_checks.test_y_diag_kt, flat, ref)
    vertical = exercise_1(np.hstack([np.ones((6, 3)), np.zeros((6, 3))]))
    assert judged(diagonal_checks.test_x_diag_has_a_diagonal_edge, vertical, ref)
    assert judged(diagonal_checks.test_y_diag_xt, vertical, ref) is None
    assert judged(diagonal_checks.test_y_diag_kt, vertical, ref) is None


def test_responses_that_overflow_fail_with_their_own_message():
    X = np.where(np.tril(np.ones((5, 5))) > 0, 1e308, -1e308)
    said = judged(diagonal_checks.test_y_diag, exercise_1(X, lambda name, Y: np.nan_to_num(Y)), ref)
    assert "overflows" in said


CORPUS = ROOT / "tests" / "corpus" / "conv_layer"


def code_of(notebook):
    import nbformat
    nb = nbformat.read(notebook, 4)
    return [c.source for c in nb.cells if c.cell_type == "code"], nb.metadata["grader_test"]


def test_reading_the_code_of_corr2d_matmul_agrees_with_the_corpus():
    """Where the verdict of exercise 4 rests on the code (`without_source`), the code is
    refused; every submission that passes exercise 4 is accepted."""
    read = 0
    for notebook in sorted(CORPUS.glob("*.ipynb")):
        cells, expected = code_of(notebook)
        problem = matmul_checks.matrix_product_problem(cells)
        if "4" in expected.get("without_source", {}):
            assert problem, notebook.stem
            read += 1
        elif expected["expected"]["4"] == "pass":
            assert problem is None, (notebook.stem, problem)
    assert read >= 3


class FakeRequest:
    def __init__(self, **fixtures):
        self.fixtures = fixtures

    def getfixturevalue(self, name):
        if name not in self.fixtures:  # as pytest says it: the grader has no such fixture
            raise pytest.FixtureLookupError.__new__(pytest.FixtureLookupError)
        return self.fixtures[name]


def test_corr2d_matmul_is_judged_on_its_code_where_the_grader_gives_it():
    rng = np.random.default_rng(0)
    calls = []
    for _ in range(3):
        X, K = probes.fractional(rng, (6, 7), 4), probes.fractional(rng, (2, 3), 3)
        calls.append(((X, K), ref.corr2d(X, K)))
    answers = answers_of(calls={"corr2d_matmul": calls})
    wrong = "def corr2d_matmul(X, K):\n    return corr2d(X, K)\n"
    right = "def corr2d_matmul(X, K):\n    return (kernel_matrix(K, X.shape) @ X.reshape(-1)).reshape(5, 5)\n"
    check = matmul_checks.test_corr2d_matmul
    assert judged(check, answers, ref, FakeRequest()) is None  # values only
    assert "ready-made cross-correlation" in judged(check, answers, ref, FakeRequest(source=wrong))
    assert judged(check, answers, ref, FakeRequest(source={"corr2d_matmul": right})) is None


@pytest.mark.parametrize("code, said", [
    ("def corr2d_matmul(X, K):\n    return torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]",
     "ready-made"),
    ("def corr2d_matmul(X, K):\n    Y = torch.zeros(2, 2)\n    for i in range(2):\n        for j in range(2):\n"
     "            Y[i, j] = X[i:i+2, j:j+2].reshape(-1) @ K.reshape(-1)\n    return Y", "one patch at a time"),
    ("def corr2d_matmul(X, K):\n    Y = torch.zeros(2, 2)\n    for i in range(2):\n        for j in range(2):\n"
     "            Y[i, j] = (X[i:i+2, j:j+2] * K).sum()\n    return Y", "does not compute"),
    ("def corr2d_matmul(X, K):\n    y = corr2d(X, K).reshape(-1)\n    return torch.eye(y.numel()) @ y", "ready-made"),
    ("def corr2d_matmul(X, K):\n    return (kernel_matrix(K, X.shape) * X.reshape(1, -1)).sum(1).reshape(2, 2)", None),
    ("def corr2d_matmul(X, K):\n    W = kernel_matrix(K, X.shape)\n    return torch.stack([W[r] @ X.reshape(-1) for r in range(4)])", None),
    ("import numpy as np\ndef corr2d_matmul(X, K):\n    return np.einsum('ij,j->i', M(K), X.ravel()).reshape(2, 2)", None),
    ("corr2d_matmul = lambda X, K: (kernel_matrix(K, X.shape) @ X.flatten()).view(2, 2)", None),
])
def test_what_counts_as_a_matrix_product(code, said):
    given = "def corr2d(X, K):\n    Y = torch.zeros(2, 2)\n    return Y\n"
    problem = matmul_checks.matrix_product_problem([given, code])
    assert problem is None if said is None else said in problem


def test_code_too_long_to_read_gets_no_benefit_of_the_doubt():
    padding = "junk = '" + "x" * 600_000 + "'"
    cheat = "def corr2d_matmul(X, K):\n    return corr2d(X, K)\n"
    assert "could not be read" in matmul_checks.matrix_product_problem([padding, cheat])
    assert matmul_checks.matrix_product_problem(["x = 1", "y = 2"]) is None  # not defined here


def test_kernel_matrix_built_in_an_integer_tensor_fails():
    rng = np.random.default_rng(3)
    K = probes.fractional(rng, (2, 3), 3)
    shape = (4, 5)
    truncated = ref.kernel_matrix(np.trunc(K), shape)
    answers = answers_of(calls={"kernel_matrix": [((K, shape), truncated)]})
    assert "reproduce corr2d" in judged(matmul_checks.test_kernel_matrix, answers, rng, ref)
    answers = answers_of(calls={"kernel_matrix": [((K, shape), ref.kernel_matrix(K, shape))]})
    assert judged(matmul_checks.test_kernel_matrix, answers, rng, ref) is None


def test_probes_for_exercise_4_are_never_whole_numbers():
    requests = probes.requests(np.random.default_rng(9))
    arrays = [a for r in requests if r.name in ("kernel_matrix", "corr2d_matmul")
              for a in r.args if isinstance(a, np.ndarray)]
    assert len(arrays) == 9
    assert all(not np.any(a == np.round(a)) for a in arrays)


def test_step_edges_and_ramps():
    edge = ref.step_edge(21, 0.0)
    assert edge[:, 0].max() < 1e-6 and edge[:, -1].min() > 1 - 1e-6  # rises along x
    assert np.allclose(edge, edge[0])  # constant along y
    assert np.allclose(ref.step_edge(21, np.pi / 2), edge.T)
    assert np.allclose(np.diff(ref.ramp(5, np.pi / 2, 2.0), axis=0), 2.0)


def test_a_blur_off_centre_by_half_a_pixel_is_still_a_blur():
    def half_pixel_off(n, sigma):  # centred at n / 2 instead of (n - 1) / 2
        r = np.arange(n) - n / 2
        g = np.exp(-r ** 2 / (2 * sigma ** 2))
        k = np.outer(g, g)
        return k / k.sum()
    assert judged(kernel_checks.test_blur_kernel, blur_calls(half_pixel_off), np.random.default_rng(0), ref) is None
    far = answers_of(calls={"blur_kernel": [((5, 1.0), top_left(5, 1.0))]})
    assert "pixels away from the centre" in judged(kernel_checks.test_blur_kernel, far, np.random.default_rng(0), ref)
