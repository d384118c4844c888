"""The check step alone: a pack's pytest checks judging answers given as plain data."""

from pathlib import Path

import numpy as np

from grader.judge import run_checks
from grader.packs import load_pack
from grader.wire import Answer, Call, Value

TINY = load_pack(Path(__file__).parent / "packs" / "tiny")
CONV = load_pack(Path(__file__).parent.parent / "exercises" / "conv-layer")


def tiny_answers(answer, double):
    out = {"answer": Answer(Value("answer"), "ok", value=answer)}
    for i, x in enumerate((3, -5)):
        req = Call("double", (x,), key=f"double#{i}")
        out[req.key] = Answer(req, "ok", value=double(x))
    return out


def by_question(outcomes):
    res = {}
    for o in outcomes:
        res.setdefault(o.question, []).append(o)
    return res


def test_right_answers_pass():
    outcomes, problems = run_checks(TINY, tiny_answers(42, lambda x: 2 * x), seed=1)
    assert problems == []
    assert all(o.passed for o in outcomes) and len(outcomes) == 2


def test_wrong_answers_fail_with_details():
    outcomes, _ = run_checks(TINY, tiny_answers(41.0, lambda x: x), seed=1)
    q = by_question(outcomes)
    assert not q["1"][0].passed and q["1"][0].answer == "41" and q["1"][0].expected == "42"
    assert q["1"][0].hint == "Read the book again."
    assert "double(3) returned 3" in q["2"][0].feedback


def test_missing_and_raising_answers_are_not_answered():
    answers = {"answer": Answer(Value("answer"), "missing")}
    req = Call("double", (1,), key="double#0")
    answers[req.key] = Answer(req, "raised", value="NotImplementedError")
    outcomes, _ = run_checks(TINY, answers, seed=1)
    assert all(o.not_answered and "Not answered" in o.feedback for o in outcomes)


def test_a_crashing_check_is_flagged_not_passed():
    # an answer the check cannot handle at all (here: a call without the argument the check
    # reads) is a check error for the instructor, never a pass
    answers = tiny_answers(42, lambda x: 2 * x)
    req = Call("double", (), key="double#0")
    answers[req.key] = Answer(req, "ok", value=6)
    outcomes, _ = run_checks(TINY, answers, seed=1)
    q2 = by_question(outcomes)["2"][0]
    assert not q2.passed and q2.check_error and "IndexError" in q2.answer


def test_conv_layer_checks_on_reference_answers():
    rng = np.random.default_rng(5)
    requests = CONV.requests(rng)
    import importlib.util
    spec = importlib.util.spec_from_file_location("refsol", CONV.reference_dir / "solution.py")
    sol = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sol)
    X = np.tril(np.ones((5, 7)))
    values = {"X_diag": X, "Y_diag": sol.corr2d(X, sol.K), "Y_diag_Xt": sol.corr2d(X.T, sol.K),
              "Y_diag_Kt": sol.corr2d(X, sol.K.T), "second_derivative_min_size": 3,
              "autograd_error": "RuntimeError: grad can be implicitly created only for scalar outputs"}
    funcs = {"edge_kernel": sol.edge_kernel, "second_derivative_kernel": lambda: sol.SECOND_DERIVATIVE["laplacian"],
             "blur_kernel": sol.gaussian_blur, "min_kernel_size": sol.min_kernel_size,
             "kernel_matrix": sol.kernel_matrix, "corr2d_matmul": sol.corr2d}
    answers = {}
    for r in requests:
        if isinstance(r, Value):
            answers[r.key] = Answer(r, "ok", value=values[r.name])
        else:
            answers[r.key] = Answer(r, "ok", value=np.asarray(funcs[r.name](*r.args)))
    outcomes, problems = run_checks(CONV, answers, seed=5)
    assert problems == []
    assert all(o.passed for o in outcomes), [o.feedback for o in outcomes if not o.passed]
    assert {o.question for o in outcomes} == {q.id for q in CONV.questions}
