"""grader.normalize: one reading of arrays, numbers, sizes, messages and source for every check."""

import numpy as np
import pytest

from grader.feedback import Feedback, as_array, as_number
from grader.normalize import (
    Message,
    array,
    canonical_text,
    code_cells,
    definitions,
    is_size,
    message,
    number,
    size,
    squeeze_leading,
)
from grader.wire import RaisedError

MSG = "grad can be implicitly created only for scalar outputs"


def fails(fn, *args, **kwargs) -> str:
    with pytest.raises(Feedback) as info:
        fn(*args, **kwargs)
    return info.value.message


# --- arrays ------------------------------------------------------------------------------------

def test_leading_batch_and_channel_axes_are_dropped_down_to_the_dimension_asked():
    image = np.arange(12.0).reshape(3, 4)
    for kept in (image, image[None], image[None, None], [[image.tolist()]]):
        out = array(kept, "X_diag", ndim=2)
        assert out.shape == (3, 4) and np.array_equal(out, image)


def test_only_leading_axes_of_length_one_are_dropped():
    assert squeeze_leading(np.zeros((1, 1, 1, 5)), 2).shape == (1, 5)  # a row stays a row
    assert squeeze_leading(np.zeros((2, 1, 3)), 2).shape == (2, 1, 3)
    assert "shape (12,)" in fails(array, np.zeros(12), "Y", ndim=2)  # flattened stays flat
    assert "shape (2, 3, 4)" in fails(array, np.zeros((2, 3, 4)), "Y", ndim=2)


def test_arrays_are_float64_from_any_numeric_container():
    out = array([[1, 2], [3, 4]], "W")
    assert out.dtype == np.float64 and out.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert array(np.array([[True, False]]), "W").tolist() == [[1.0, 0.0]]
    assert array(np.arange(4, dtype=np.int64), "W").dtype == np.float64


@pytest.mark.parametrize("bad", [np.array([[1.0, np.nan]]), np.array([np.inf]), [[1e308, -np.inf]]])
def test_non_finite_arrays_fail_with_their_own_message(bad):
    assert "NaN or infinite" in fails(array, bad, "W")


@pytest.mark.parametrize("bad, said", [("text", "str"), (None, "None"), ([[1, 2], [3]], "rectangular"),
                                       (RaisedError("ValueError", "x"), "exception"), (True, "bool")])
def test_things_that_are_not_arrays_fail(bad, said):
    assert said in fails(array, bad, "W")


def test_feedback_as_array_and_as_number_are_the_same_reading():
    assert as_array(np.ones((1, 1, 2, 2)), "X", ndim=2).shape == (2, 2)
    assert as_number([7], "n") == 7.0


# --- numbers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("given", [3, 3.0, [3], (3,), np.array(3), np.array([[3]]), np.int64(3)])
def test_one_number_in_any_container(given):
    assert number(given, "n") == 3.0


@pytest.mark.parametrize("bad, said", [(True, "bool"), ("3", "str"), ([3, 4], "2 values"),
                                       (float("nan"), "not a finite"), (None, "None")])
def test_what_is_not_one_number_fails(bad, said):
    assert said in fails(number, bad, "n")


# --- sizes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("given, dims", [
    (3, (3.0,)), ([3], (3.0,)), (np.array([[3]]), (3.0,)), ((1, 3), (1.0, 3.0)), ([3, 1], (3.0, 1.0)),
    (np.array([1, 3]), (1.0, 3.0)), (np.array([[1, 3]]), (1.0, 3.0)), ((1, 1, 1, 3), (1.0, 3.0)),
    ((3, 3), (3.0, 3.0)), ((1, 1), (1.0, 1.0)),
])
def test_sizes_in_every_container(given, dims):
    assert size(given, "s") == dims


@pytest.mark.parametrize("bad, said", [("3", "size"), ((3, 3, 3), "one number or a (height, width)"),
                                       (True, "size"), ((np.inf,), "finite")])
def test_what_is_not_a_size_fails(bad, said):
    assert said in fails(size, bad, "s")


@pytest.mark.parametrize("dims, n, right", [
    ((3.0,), 3, True), ((1.0, 3.0), 3, True), ((3.0, 1.0), 3, True), ((3.0, 3.0), 3, True),
    ((2.0,), 3, False), ((9.0,), 3, False), ((2.0, 2.0), 3, False), ((3.0, 2.0), 3, False),
    ((1.0, 5.0), 5, True), ((5.0, 5.0), 5, True), ((5.0, 4.0), 5, False), ((1.0, 1.0), 1, True),
])
def test_one_rule_for_n_samples_wide(dims, n, right):
    assert is_size(dims, n) is right


# --- messages ------------------------------------------------------------------------------------

@pytest.mark.parametrize("given", [
    MSG, MSG.upper(), f"  {MSG}.  \n", f"RuntimeError: {MSG}", f"Error: {MSG}", f"'{MSG}'",
    f"RuntimeError('{MSG}')", f'RuntimeError("{MSG}",)', f"('{MSG}',)", f"RUNTIMEERROR('{MSG.upper()}')",
    f"Traceback (most recent call last):\n  File \"<ipython>\", line 3, in <module>\n"
    f"    y.backward()\nRuntimeError: {MSG}\n",
    f"\x1b[0;31mRuntimeError\x1b[0m                              Traceback (most recent call last)\n"
    f"Cell In[4], line 2\n----> 2 y.backward()\n\n\x1b[0;31mRuntimeError\x1b[0m: {MSG}",
    (MSG,), [MSG], RaisedError("RuntimeError", MSG), (RaisedError("RuntimeError", MSG),),
    ("RuntimeError", MSG),
])
def test_the_right_message_in_every_form(given):
    assert message(given, "autograd_error").same_as("RuntimeError", MSG)


@pytest.mark.parametrize("given", [
    "", "RuntimeError", "grad can be implicitly created", f"{MSG} (because y is not a scalar)",
    f"No error occurs: {MSG} is not raised here", f"Either '{MSG}' or 'element 0 of tensors'",
    "element 0 of tensors does not require grad and does not have a grad_fn",
    RaisedError("ValueError", MSG), f"ValueError: {MSG}", ("TypeError", MSG),
])
def test_other_messages_differ(given):
    assert not message(given, "autograd_error").same_as("RuntimeError", MSG)


def test_several_messages_are_guesses_not_an_answer():
    said = fails(message, [MSG, "element 0 of tensors does not require grad"], "autograd_error")
    assert "2 messages" in said


@pytest.mark.parametrize("bad", [3, None, {"error": MSG}, np.zeros(2)])
def test_what_is_not_a_message_fails(bad):
    assert "error message" in fails(message, bad, "autograd_error")


def test_canonical_text_keeps_the_type_it_finds():
    assert canonical_text(f"torch.RuntimeError: {MSG}") == ("torch.RuntimeError", MSG)
    assert canonical_text(f"Exception: {MSG}") == ("", MSG)
    assert Message("torch.RuntimeError", MSG).same_as("RuntimeError", MSG)


# --- source --------------------------------------------------------------------------------------

def test_code_cells_from_one_text_a_list_or_a_mapping():
    assert code_cells("x = 1") == ["x = 1"]
    assert code_cells(["a = 1", 2, "b = 2"]) == ["a = 1", "b = 2"]
    assert code_cells({"f": "def f(): pass"}) == ["def f(): pass"]
    assert code_cells(None) == [] and code_cells(42) == []


def test_definitions_are_the_last_ones_run_and_bad_cells_are_skipped():
    cells = ["def f(x):\n    return 1", "def f(x):\n    return 2", "def g(:\n", "h = lambda x: x @ x",
             "class C:\n    def method(self): pass", "%timeit f(1)"]
    found = definitions(cells)
    assert set(found) == {"f", "h"}
    assert found["f"].body[0].value.value == 2
    assert type(found["h"]).__name__ == "Lambda"
