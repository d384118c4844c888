"""Reading and validating submissions, without a kernel."""

import nbformat
import pytest

from grader.notebook import NotebookError, read_submission

from conftest import NOTEBOOKS


@pytest.mark.parametrize("name, words", [
    ("corrupt-truncated", "not valid JSON"),
    ("not-a-notebook", "not a valid notebook"),
    ("empty-file", "empty"),
    ("binary-junk", "not UTF-8"),
])
def test_broken_files_give_readable_errors(name, words):
    with pytest.raises(NotebookError, match=words):
        read_submission(NOTEBOOKS / f"{name}.ipynb")


def test_written_answers_and_pack_come_from_metadata():
    sub = read_submission(NOTEBOOKS / "tiny-correct.ipynb")
    assert sub.pack_name == "tiny"
    assert sub.written == {"answer-1": "42."}
    assert len(sub.sha256) == 64


def test_old_format_is_upgraded(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("answer = 42")])
    v3 = nbformat.convert(nb, 3)
    path = tmp_path / "old.ipynb"
    nbformat.write(v3, path)
    sub = read_submission(path)
    assert [c.source for c in sub.nb.cells if c.cell_type == "code"] == ["answer = 42"]


def test_missing_file(tmp_path):
    with pytest.raises(NotebookError, match="cannot read"):
        read_submission(tmp_path / "nope.ipynb")
