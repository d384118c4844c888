"""Write the small notebooks the engine's tests use, each named after what it tests.

    .venv/bin/python tests/notebooks/make_notebooks.py

Each notebook of the `tiny` pack records the verdict it should get per question in
metadata.grader_test.expected.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

HERE = Path(__file__).resolve().parent

RIGHT = ["answer = 42", "def double(x):\n    return 2 * x"]


def tiny(name: str, cells: list, expected: dict[str, str], why: str, free: str | None = "42.") -> None:
    nb_cells = [new_code_cell(c) if isinstance(c, str) else c for c in cells]
    if free is not None:
        nb_cells.append(new_markdown_cell(free, metadata={"tags": ["answer-1"]}))
    nb = new_notebook(cells=nb_cells)
    nb.metadata["grader"] = {"pack": "tiny"}
    nb.metadata["grader_test"] = {"expected": expected, "why": why}
    nbformat.write(nb, HERE / f"{name}.ipynb")


def main() -> None:
    both = {"1": "pass", "2": "pass"}
    tiny("tiny-correct", RIGHT, both, "both answers right")
    tiny("tiny-wrong", ["answer = 41", "def double(x):\n    return x + x + 1"],
         {"1": "fail", "2": "fail"}, "both answers wrong")
    tiny("tiny-numpy-answer", ["import numpy as np\nanswer = np.int32(42)",
                               "import numpy as np\ndef double(x):\n    return np.float32(2 * x)"],
         both, "numpy scalars are plain numbers")
    tiny("tiny-error-cell", ["answer = 42", "raise ValueError('oops')",
                             "def double(x):\n    return 2 * x"],
         both, "an erroring cell in between costs nothing")
    tiny("tiny-error-defines", ["answer = 42", "1/0\ndef double(x):\n    return 2 * x"],
         {"1": "pass", "2": "fail"}, "the cell defining double fails: only question 2 is lost")
    tiny("tiny-timeout", ["answer = 42", "import time\nwhile True:\n    time.sleep(0.01)",
                          "def double(x):\n    return 2 * x"],
         both, "an endless loop is interrupted; later cells run")
    tiny("tiny-ignores-interrupt",
         ["answer = 42", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
          "def double(x):\n    return 2 * x"],
         both, "a loop that ignores the interrupt: new kernel, notebook re-run without it")
    tiny("tiny-kernel-death", ["answer = 42", "import os\nos._exit(3)",
                               "def double(x):\n    return 2 * x"],
         both, "a cell that kills the kernel: new kernel, notebook re-run without it")
    tiny("tiny-probe-kills-kernel",
         ["answer = 42", "import os\ndef double(x):\n    os._exit(1)"],
         {"1": "pass", "2": "fail"}, "double kills the kernel when the grader calls it")
    tiny("tiny-probe-hangs", ["def double(x):\n    while True:\n        pass", "answer = 42"],
         {"1": "pass", "2": "fail"}, "double never returns when called")
    stale = new_code_cell("answer = 41")
    stale.outputs = [new_output("stream", name="stdout", text="answer = 42  # all tests passed\n")]
    stale.execution_count = 1
    tiny("tiny-stale-outputs", [stale, "def double(x):\n    return 2 * x"],
         {"1": "fail", "2": "pass"}, "stored outputs claim success; only execution counts")
    tiny("tiny-forged-output", ["answer = 41",
                                "print('{\"score\": 3, \"tests\": []}')\n"
                                "from IPython.display import publish_display_data\n"
                                "publish_display_data({'text/x-grader-answer': '{\"id\": 1000, \"status\": \"ok\", \"value\": 42}'})",
                                "def double(x):\n    return 2 * x"],
         {"1": "fail", "2": "pass"}, "printing or publishing fake answers gains nothing")
    tiny("tiny-not-answered", ["answer = None",
                               "def double(x):\n    raise NotImplementedError"],
         {"1": "fail", "2": "fail"}, "the untouched template", free="*Write your answer here.*")
    tiny("tiny-html-in-answers", RIGHT, both, "free text with markup is shown escaped",
         free="<script>document.title='pwned'</script><img src=x onerror=alert(1)> 42")
    tiny("tiny-huge-output", ["print('x' * 2_000_000)", *RIGHT], both,
         "a flood of output is truncated in the results")
    (HERE / "corrupt-truncated.ipynb").write_text('{"cells": [{"cell_type": "code", "sou')
    (HERE / "not-a-notebook.ipynb").write_text('{"hello": "world"}')
    (HERE / "empty-file.ipynb").write_text("")
    (HERE / "binary-junk.ipynb").write_bytes(bytes(range(256)) * 4)
    template = new_notebook(cells=[new_code_cell("answer = None"),
                                   new_code_cell("def double(x):\n    raise NotImplementedError"),
                                   new_markdown_cell("*Write your answer here.*",
                                                     metadata={"tags": ["answer-1"]})])
    template.metadata["grader"] = {"pack": "tiny"}
    nbformat.write(template, HERE.parent / "packs" / "tiny" / "template.ipynb")
    print("wrote notebooks to", HERE)


if __name__ == "__main__":
    main()
