"""The parts of free-form grading alone, on small inputs: skipping shell magics, reading printed
arrays, mapping a notebook's prose to questions, choosing the mode, the outcome of a question,
reading a capture, the kernel environment a pack declares."""

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import environment, freeform
from grader.evidence import Function, cell_output, read_capture
from grader.magics import strip_magics, without_magics
from grader.packs import PackError, load_module, load_pack
from grader.printed import arrays_in
from grader.prose import map_notebook
from grader.results import CheckOutcome
from grader.wire import RaisedError

from conftest import ROOT

PACK = ROOT / "exercises" / "conv-layer"


@pytest.fixture(scope="module")
def vocab():
    return load_module(PACK / "freeform.py", "test_conv_layer_freeform").VOCABULARY


def nb(*cells):
    return new_notebook(cells=[new_markdown_cell(c[3:]) if c.startswith("md:") else
                               new_code_cell(c) for c in cells])


# --- magics ------------------------------------------------------------------------------------

@pytest.mark.parametrize("source, kept, skipped", [
    ("!pip install d2l==1.0.3", "pass", 1),
    ("%pip install d2l --quiet\nimport torch", "import torch", 1),
    ("files = !ls", "pass", 1),
    ("if True:\n    !pip install a\n    x = 1", "    x = 1", 1),
    ("%%bash\npip install torchvision", "pass", 1),
    ("get_ipython().system('pip install d2l')", "pass", 1),
    ("%conda install scipy", "pass", 1),
    ("x != 3\nprint('!')", "x != 3", 0),
    ("%matplotlib inline\n%timeit sum(range(9))", "%timeit", 0),
])
def test_shell_and_pip_lines_are_taken_out(source, kept, skipped):
    out = strip_magics(source)
    assert kept in out.source and len(out.skipped) == skipped
    if skipped:
        compile(out.source.replace("%%capture", ""), "cell", "exec")  # still parses


def test_without_magics_reports_each_cell_and_leaves_the_notebook_alone():
    book = nb("!pip install d2l", "import torch", "%pip install torchvision\nx = 1")
    out, events = without_magics(book)
    assert [c.source for c in out.cells][1:] == ["import torch", "pass  # skipped by the "
                                                 "grader: a shell command\nx = 1"]
    assert len(events) == 2 and "Cell 1" in events[0] and "`!pip install d2l`" in events[0]
    assert book.cells[0].source == "!pip install d2l"


# --- printed arrays ----------------------------------------------------------------------------

def test_printed_tensors_and_arrays_are_read_back():
    text = ("K applied:\n tensor([[ 1.,  0.],\n        [-1.,  1.]])\n"
            "tensor([[0.5000, 1.2500]], grad_fn=<MulBackward0>)\n"
            "[[0. 1.]\n [1. 0.]]\n(tensor([[1, 2]], dtype=torch.int32), 3)\n"
            "tensor([[0., 0.,  ..., 0., 0.]])\n[x, y]")
    found = arrays_in(text)
    assert [a.tolist() for a in found] == [[[1, 0], [-1, 1]], [[0.5, 1.25]], [[0, 1], [1, 0]],
                                           [[1, 2]]]


def test_printed_arrays_are_bounded():
    assert arrays_in("[" * 10_000) == [] and arrays_in(None) == []
    many = " ".join(["[1, 2]"] * 100)
    assert len(arrays_in(many)) == 16


# --- prose and numbering -----------------------------------------------------------------------

def test_current_numbering_sub_questions_and_sentences(vocab):
    regions = map_notebook(nb(
        "md:# 7.2 Convolutions: exercises", "import torch",
        "md:## Exercise 1", "X = torch.eye(5)",
        "md:1. The diagonal shows up as +1/-1 pairs.\n2. Transposing X changes nothing here.",
        "md:### 2.4\n\nA derivative of order d needs d+1 pixels.",
        "md:## Exercise 3", "Y.backward()"), vocab)
    assert regions.scheme == "current"
    assert regions.labels == {3: "1", 6: "2.4", 8: "3"} or regions.labels[3] == "1"
    assert "d+1" in regions.text("2.4") and "Transposing X" in regions.text("1.2")
    assert regions.label(1) is None  # before any exercise


def test_older_and_chinese_numbering(vocab):
    regions = map_notebook(nb(
        "md:## 练习1 对角线", "X = torch.eye(6)",
        "md:## 练习2 自动求导", "conv(X).backward()",
        "md:## 练习3 矩阵乘法", "def mm(X, K): ...",
        "md:## 练习4 手工设计卷积核\n\n（3）得到d次导数的最小核的大小是 d+1。"), vocab)
    assert regions.scheme == "old"
    assert [regions.label(i) for i in (1, 3, 5)] == ["1", "3", "4"]
    assert "d+1" in regions.text("2.4")


def test_copied_prompts_and_titles_are_not_answers(vocab):
    regions = map_notebook(nb(
        "md:## Exercise 2",
        "md:**2.1** edges orthogonal to v",
        "md:**2.4** What is the minimum size of a kernel to obtain a derivative of order d?",
        "md:## Exercise 1\n\nConstruct an image X with diagonal edges."), vocab)
    assert not regions.prose


def test_comments_label_the_names_below_them(vocab):
    regions = map_notebook(nb(
        "md:## 2", "# 2.2 second derivative\nsecond = 1\n# 2.3 blur\nblur = 2\n"
        "# 2.4: a derivative of order d needs d + 1 pixels"), vocab)
    assert regions.label(1, "second") == "2.2" and regions.label(1, "blur") == "2.3"
    assert "d + 1" in regions.text("2.4")


def test_copied_exercise_sentences_head_the_answers_below_them(vocab):
    regions = map_notebook(nb(
        "md:# Exercises\n\n* Construct an image X with diagonal edges.\n"
        "  * What happens if you transpose X?\n\n    The same picture, mirrored.\n"
        "* Design some kernels manually.\n"
        "  * What is the form of a kernel for the second derivative?\n\n    [1, -2, 1]"), vocab)
    assert "mirrored" in regions.text("1.2") and "[1, -2, 1]" in regions.text("2.2")
    assert not regions.text("1.1") and not regions.text("2.4")


def test_answers_after_a_pasted_list_go_by_their_words(vocab):
    regions = map_notebook(nb(
        "md:## 练习\n\n1. 构建一个具有对角线边缘的图像X。\n1. 在我们创建的Conv2D自动求导时，有什么错误消息？\n"
        "1. 手工设计一些卷积核。\n    1. 二阶导数的核的形式是什么？\n    1. 积分的核的形式是什么？\n"
        "    1. 得到d次导数的最小核的大小是多少？",
        "md:答：二阶导数 [1, -2, 1]；d 阶导数最小核 d+1。\n\n自动求导报错，输出不是标量。"), vocab)
    assert "[1, -2, 1]" in regions.text("2.2") and "[1, -2, 1]" not in regions.text("2.4")
    assert "d+1" in regions.text("2.4") and "标量" in regions.text("3")


def test_prose_under_an_exercises_heading_goes_by_its_words(vocab):
    regions = map_notebook(nb(
        "md:The section's notes: a kernel is learned by gradient descent here.\nMore notes.",
        "md:## Exercises",
        "md:Backward() fails on our Conv2D: the output is not a scalar.\n\nMore below.",
        "md:Some thoughts on the weather.\nAnd on nothing in particular."), vocab)
    assert "scalar" in regions.text("3") and "gradient descent" not in regions.text("3")
    assert "weather" not in " ".join(regions.text(q) for q in regions.prose)


def test_prose_kept_is_bounded(vocab):
    from grader.limits import WRITTEN_CHARS
    regions = map_notebook(nb("md:## Exercises", *["md:" + "The diagonal of K.T. " * 50_000] * 4),
                           vocab)
    assert regions.text("1.3") and sum(len(t) for _, t in regions.prose["1.3"]) <= WRITTEN_CHARS + 40
    assert len(regions.prose["1.3"]) < 2_000


def test_an_error_printed_as_its_repr_is_read_as_that_error():
    finders = load_module(PACK / "freeform.py", "test_conv_layer_freeform_variants")
    found = finders._variants("Ex3 RuntimeError('grad can be implicitly created only for "
                              "scalar outputs')")
    assert RaisedError("RuntimeError", "grad can be implicitly created only for scalar "
                       "outputs") in found


# --- mode --------------------------------------------------------------------------------------

def test_mode_rule():
    pack = load_pack(PACK)
    template = nbformat.read(ROOT / "student_template" / "conv-layer.ipynb", 4)
    free = nb("import torch", "X = torch.eye(5)", "def edge_kernel(v): return v")
    assert freeform.choose_mode("auto", pack, template, names_pack=True) == "template"
    template.metadata.pop("grader")
    assert freeform.choose_mode("auto", pack, template, names_pack=False) == "template"
    assert freeform.choose_mode("auto", pack, free, names_pack=False) == "freeform"
    assert freeform.choose_mode("template", pack, free, names_pack=False) == "template"
    assert freeform.choose_mode("freeform", pack, template, names_pack=True) == "freeform"
    tiny = load_pack(ROOT / "tests" / "packs" / "tiny")
    assert freeform.choose_mode("freeform", tiny, free, names_pack=False) == "template"


# --- outcomes ----------------------------------------------------------------------------------

def finding(state):
    return freeform.Finding("2.4", state)


@pytest.mark.parametrize("state, checks, expected", [
    ("absent", [], "absent"),
    ("review", [], "review"),
    ("judge", [CheckOutcome("2.4", "a", True)], "right"),
    ("judge", [CheckOutcome("2.4", "a", True), CheckOutcome("2.4", "b", False)], "wrong"),
    ("judge", [CheckOutcome("2.4", "a", False, not_answered=True)], "review"),
    ("judge", [CheckOutcome("2.4", "a", True),
               CheckOutcome("2.4", "b", False, not_answered=True)], "right"),
    ("judge", [CheckOutcome("2.4", "a", False, check_error=True)], "review"),
])
def test_outcome_of_a_question(state, checks, expected):
    assert freeform.outcome(finding(state), checks) == expected


def test_wrong_and_absent_earn_nothing_review_waits():
    pack = load_pack(PACK)
    findings = {"2.4": finding("judge"), "3": finding("review"), "4": finding("absent")}
    outcomes = [CheckOutcome("2.4", "a", True), CheckOutcome("2.4", "b", False),
                CheckOutcome("3", "c", False, not_answered=True)]
    questions = {q.id: q for q in freeform.questions(pack, outcomes, findings, [], {})}
    assert questions["2.4"].outcome == "wrong" and questions["2.4"].score == 0
    assert questions["3"].outcome == "review" and questions["3"].score == 0
    assert [w.state for w in questions["3"].written] == ["pending"]
    assert questions["3"].max_score == pack.questions[7].points
    assert questions["4"].outcome == "absent" and questions["4"].score == 0


# --- capture records ---------------------------------------------------------------------------

def test_capture_entries_are_validated():
    X = np.eye(3)
    items, functions = read_capture(4, [
        ("variable", "X", X), ("variable", "bad name", 1), ("result", "", 3.0),
        ("function", "f", ("4:f", ["v", "w"], 1, False)),
        ("function", "g", ("3:g", ["v"], 0, False)),       # handle of another cell
        ("function", "h", ("4:h", ["1x"], 0, False)),      # not an identifier
        ("variable", "e", RaisedError("RuntimeError", "boom")), "junk", ("x",)])
    assert [(i.origin, i.name) for i in items] == [("variable", "X"), ("result", ""),
                                                   ("variable", "e")]
    assert functions == [Function("f", "4:f", 4, ("v", "w"), 1, False)]
    assert functions[0].takes(1) and functions[0].takes(2) and not functions[0].takes(3)
    assert read_capture(0, "not a list") == ([], [])


def test_saved_outputs_are_unverified():
    out, items = cell_output(2, [{"output_type": "execute_result",
                                  "data": {"text/plain": "tensor([[1., 0.], [0., 1.]])"}},
                                 {"output_type": "error", "ename": "RuntimeError",
                                  "evalue": "grad can be implicitly created"}], verified=False)
    assert out.error == ("RuntimeError", "grad can be implicitly created")
    assert [i.origin for i in items] == ["saved", "saved"] and not items[0].verified


# --- the kernel environment --------------------------------------------------------------------

def test_pack_declares_its_environment(tmp_path):
    pack = load_pack(PACK)
    assert "d2l" in pack.requires and "torchvision" in pack.requires
    assert environment.problem(pack.name, pack.requires) is None
    message = environment.problem("demo", ("no_such_module_xyz", "numpy"))
    assert "no_such_module_xyz" in message and "numpy" not in message.split("needs")[1][:40]
    assert environment.MAKE_TARGET in message
    broken = tmp_path / "broken"
    broken.mkdir()
    text = (ROOT / "tests" / "packs" / "tiny" / "pack.toml").read_text()
    (broken / "pack.toml").write_text(text + '\n[environment]\nrequires = "d2l"\n')
    for name in ("checks", "reference"):
        (broken / name).mkdir()
    (broken / "probes.py").write_text("")
    with pytest.raises(PackError, match="environment"):
        load_pack(broken)
    (broken / "pack.toml").write_text(text + '\n[environment]\npreload = ["d2l torch"]\n')
    with pytest.raises(PackError, match="preload must be a list of module names"):
        load_pack(broken)


def test_the_forge_preloads_what_the_run_s_packs_name(tmp_path):
    from grader.run import preloads
    conv = load_pack(PACK)
    tiny = load_pack(ROOT / "tests" / "packs" / "tiny")
    assert conv.preload == ("d2l.torch",) and tiny.preload == ()
    assert preloads({"conv-layer": conv, "tiny": tiny}, "tiny") == ()
    assert preloads({"conv-layer": conv, "tiny": tiny}, "conv-layer") == ("d2l.torch",)
    assert preloads({"conv-layer": conv, "tiny": tiny}, None) == ("d2l.torch",)
