"""The overview's grouping of failures: one kind of mistake whatever the values in its message,
counted per check, with links to the reports."""

import pytest

from grader.writers.index_html import render, row, script_hash
from grader.writers.mistakes import error_groups, kind, question_mistakes

from synthetic_class import ERRORS, EXPECTED, make_class


@pytest.mark.parametrize("a, b", [
    ("The weights of blur_kernel(3, 1.196) sum to 9, so it changes the image's brightness.",
     "The weights of blur_kernel(7, 0.5) sum to 49, so it changes the image's brightness."),
    ("edge_kernel(v=(2.4732, 1.1864)) does not detect edges orthogonal to v: it responds",
     "edge_kernel(v=(-0.5, 3)) does not detect edges orthogonal to v: it responds"),
    ("X_diag is 300x300; use a small image", "X_diag is 1000x257; use a small image"),
    ("`f(1)` raised NameError: name 'foo' is not defined",
     "`f(22)` raised NameError: name \"bar_2\" is not defined"),
    ("is tensor([[1., 0.],\n [0., 1.]]) (shape (2, 2))", "is tensor([[5]]) (shape (1, 1))"),
    ("keeps 95% of the noise variance", "keeps 100% of the noise variance"),
    ("read /tmp/a/b.ipynb: bad", "read /home/x/y.ipynb: bad"),
])
def test_the_same_mistake_with_other_values_is_one_kind(a, b):
    assert kind(a) == kind(b)


@pytest.mark.parametrize("a, b", [
    ("its only edges are vertical", "its only edges are horizontal"),
    ("`Y_diag` is not corr2d(X_diag, K)", "`Y_diag_Kt` is not corr2d(X_diag, K.T)"),
    ("d2/dx2 is wrong", "d2/dy2 is wrong"),
])
def test_different_mistakes_stay_apart(a, b):
    assert kind(a) != kind(b)


def test_kind_keeps_names_with_digits_and_marks_the_gaps():
    assert kind("min_kernel_size(4) returned 9, for corr2d and conv2d and v2, -v1.") == \
        "min_kernel_size(…) returned …, for corr2d and conv2d and v2, -v1."
    assert kind("the image's brightness") == "the image's brightness"
    assert kind("f(x, 1) and g()") == "f(x, …) and g()"


def test_groups_of_a_class_have_the_built_counts_and_links():
    results = make_class(300)
    for qid, sizes in EXPECTED.items():
        groups = question_mistakes(results, qid, lambda n: f"{n}/report.html")
        assert [g.count for g in groups] == sizes, qid
    (blur, negative, missing) = question_mistakes(results, "2.3", lambda n: f"{n}/report.html")
    assert blur.kind == ("The weights of blur_kernel(…) sum to …, so it changes the image's "
                         "brightness.")
    assert blur.example.startswith("The weights of blur_kernel(") and blur.example != blur.kind
    assert blur.links[0].href == f"{blur.links[0].name}/report.html#q-2.3"
    assert missing.not_answered and not blur.not_answered
    (crash,) = question_mistakes(results, "4", str)
    assert crash.check_error
    errors = error_groups(results, lambda n: f"{n}/report.html")
    assert [g.count for g in errors] == ERRORS
    assert {g.kind for g in errors} == {
        "the notebook has no list of cells",
        "the file is not valid JSON, so it is not a Jupyter notebook (Expecting … delimiter: "
        "line … column … (char …))"}


def test_rows_carry_what_the_filters_match():
    results = make_class(30)
    error, first = results[0], results[1]
    assert row(error, ["1.1"]).tags == "error" and row(error, ["1.1"]).failed == ""
    r = row(first, ["1.2", "2.3", "9"])
    assert r.tags == "graded failing pending"
    assert r.failed == "1.2 2.3"
    assert r.cells[2] == ("9", None, False)


def test_the_page_allows_exactly_its_script():
    page = render(make_class(30))
    script = page.split("<script>", 1)[1].split("</script>", 1)[0]
    csp = page.split('http-equiv="Content-Security-Policy" content="', 1)[1].split('"', 1)[0]
    assert f"script-src '{script_hash(script)}';" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "default-src 'none'" in csp
