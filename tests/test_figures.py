"""Which arrays of a check's feedback become pictures: small 2-D numeric ones, capped in size
and number, with a note for each one left out; and their heatmaps."""

import numpy as np
import pytest

from grader.figures import DIFFERENCE, as_matrix, outcome_figures, plain
from grader.limits import FIGURE_SIDE, FIGURES_PER_CHECK
from grader.results import CheckOutcome, Figure
from grader.writers.heatmap import Scale, pictures, scales, svg


def labels(figures):
    return [f.label for f in figures]


def test_answer_expected_difference_and_input_are_kept_as_plain_numbers():
    X = np.array([[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    mine, want = np.array([[1.0, 0.0]]), np.array([[-1.0, 0.5]])
    figures, notes = outcome_figures(inputs=X, answer=mine, expected=want)
    assert notes == ()
    assert labels(figures) == ["Your answer", "Expected", DIFFERENCE, "Input"]
    assert figures[0].values == ((1.0, 0.0),)
    assert figures[2].values == ((2.0, -0.5),)
    assert figures[3].values == ((0.0, 1.0, 1.0), (0.0, 0.0, 1.0))
    assert all(type(x) is float for f in figures for row in f.values for x in row)
    assert [f.scale for f in figures] == ["answer", "answer", "", ""]


def test_no_difference_when_shapes_differ_and_nothing_for_text_or_scalars():
    figures, notes = outcome_figures(inputs=(3, 1.5), answer=np.ones((2, 3)),
                                     expected="weights summing to 1")
    assert labels(figures) == ["Your answer"] and notes == ()
    figures, _ = outcome_figures(answer=np.ones((2, 3)), expected=np.ones((3, 2)))
    assert labels(figures) == ["Your answer", "Expected"]
    assert outcome_figures(answer=7, expected="x", inputs=None) == ((), ())


def test_inputs_by_key_and_by_position_and_batched_arrays():
    K, X = np.array([[1, -1]]), np.arange(12).reshape(3, 4)
    figures, _ = outcome_figures(inputs={"K": K, "shape": (3, 4), "X": X})
    assert labels(figures) == ["Input K", "Input X"]
    figures, _ = outcome_figures(inputs=(K, (3, 4)))
    assert labels(figures) == ["Input 1"]
    assert as_matrix(np.ones((1, 1, 2, 5))).shape == (2, 5)
    assert as_matrix([[1, 2], [3, 4]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    for not_2d in ([[1, 2], [3]], np.ones(5), np.ones((2, 2, 2)), np.zeros((0, 3)),
                   np.array([["a", "b"]]), np.ones((2, 2)) * 1j, "[[1, 2]]", None):
        assert as_matrix(not_2d) is None, not_2d


def test_large_and_non_finite_arrays_are_named_not_pictured():
    side = FIGURE_SIDE
    edge = np.zeros((side, side))
    figures, notes = outcome_figures(answer=np.zeros((side + 1, 3)), expected=edge)
    assert labels(figures) == ["Expected"]
    assert notes == (f"Your answer ({side + 1}×3) is larger than {side}×{side}, so not "
                     "pictured.",)
    figures, notes = outcome_figures(answer=np.array([[1.0, np.nan]]))
    assert figures == () and notes == ("Your answer has NaN or infinite values, so not "
                                       "pictured.",)


def test_at_most_so_many_figures_per_check_and_the_rest_counted():
    named = {f"probe {i}": np.full((2, 2), float(i)) for i in range(FIGURES_PER_CHECK + 3)}
    figures, notes = outcome_figures(answer=np.ones((2, 2)), named=named)
    assert len(figures) == FIGURES_PER_CHECK
    assert labels(figures)[:3] == ["Your answer", "probe 0", "probe 1"]
    assert notes == (f"4 more arrays not pictured (at most {FIGURES_PER_CHECK} per check).",)


def test_named_figures_that_are_not_arrays_get_a_note_not_an_error():
    figures, notes = outcome_figures(named={"kernel": "[[1, -1]]", "ok": [[1, 2]]})
    assert labels(figures) == ["ok"]
    assert notes == ("kernel: not a 2-D array of numbers, so not pictured.",)
    assert outcome_figures(named=[np.ones((2, 2))])[1] != ()


def test_named_figures_can_share_a_colour_scale():
    figures, notes = outcome_figures(named={"noise": (np.ones((2, 2)), "noise"),
                                            "blurred": (np.full((1, 1), 9.0), "noise"),
                                            "kernel": np.ones((3, 3))})
    assert notes == ()
    assert [f.scale for f in figures] == ["check:noise", "check:noise", ""]
    assert scales(figures) == [Scale(0.0, 9.0), Scale(0.0, 9.0), Scale(0.0, 1.0)]


def test_rounding_noise_becomes_zero_and_values_keep_six_digits():
    assert plain(np.array([[1e-17, -3e-12, 2.0]])) == ((0.0, 0.0, 2.0),)
    assert plain(np.array([[1 / 3, -0.0]])) == ((0.333333, 0.0),)
    assert str(plain(np.array([[-0.0]]))[0][0]) == "0.0"


def test_answer_and_expected_share_a_colour_scale_anchored_at_zero():
    figures = (Figure("Your answer", ((0.0, 4.0),), "answer"),
               Figure("Expected", ((-1.0, 1.0),), "answer"),
               Figure("Difference", ((1.0, 3.0),)),
               Figure("zeros", ((0.0, 0.0),)))
    assert scales(figures) == [Scale(-4.0, 4.0), Scale(-4.0, 4.0), Scale(0.0, 3.0),
                               Scale(0.0, 1.0)]


def test_heatmaps_are_deterministic_svg_with_values_and_no_external_reference():
    values = ((0.0, 1.5), (-2.0, 3.0))
    first = svg(values, Scale(-3.0, 3.0))
    svg(((1.0,),), Scale(0.0, 1.0))  # the shared canvas drawing something else in between
    svg.cache_clear()
    assert svg(values, Scale(-3.0, 3.0)) == first
    assert first.startswith("<svg") and "<text" in first and "1.5" in first and "−2" in first
    assert "http://" not in first.replace("http://www.w3.org", "")
    assert "<script" not in first and "Date" not in first


def test_large_arrays_are_not_annotated_and_pictures_carry_their_range():
    big = tuple(tuple(float(i * j) for j in range(20)) for i in range(20))
    outcome = CheckOutcome("1", "c", False, figures=(Figure("W", big),))
    (p,) = pictures(outcome)
    assert (p.rows, p.cols, p.low, p.high) == (20, 20, 0.0, 361.0)
    assert p.svg.count("<text") == 2  # the colour bar's labels only: 0 and 361
    assert pictures(CheckOutcome("1", "c", True)) == []


@pytest.mark.parametrize("value, text", [(3.0, "3"), (-0.25, "−0.25"), (1 / 3, "0.33"),
                                         (12345.0, "1.2e+04"), (0.0, "0")])
def test_cell_labels_are_short(value, text):
    from grader.writers.heatmap import label
    assert label(value) == text
