"""Write the demo submissions graded by `make demo` (from the conv-layer model solution).

    .venv/bin/python examples/make_examples.py
"""

import copy
import importlib.util
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
spec = importlib.util.spec_from_file_location(
    "build_notebooks", HERE.parent / "reference" / "conv-layer" / "build_notebooks.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


def replace(nb, old: str, new: str):
    nb = copy.deepcopy(nb)
    hits = [c for c in nb.cells if old in c.source]
    assert hits, old
    for c in hits:
        c.source = c.source.replace(old, new)
    return nb


def main() -> None:
    model = build.build(model=True)
    nbformat.write(model, HERE / "ada.ipynb")

    # Right in unusual ways: numpy answers, anti-diagonal image, Sobel edge kernel, box blur.
    cleo = replace(model, "X_diag = torch.tril(torch.ones((6, 8)))",
                   "X_diag = torch.flip(torch.eye(7), dims=[1]) * 3")
    cleo = replace(cleo, """    dx = torch.tensor([[-1.0, 1.0], [0.0, 0.0]])   # change along x (columns)
    dy = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])   # change along y (rows)
    return v1 * dx + v2 * dy""", """    import numpy as np
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    return v1 * sobel_x + v2 * sobel_x.T""")
    cleo = replace(cleo, """    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma ** 2))
    return g / g.sum()""", """    return torch.ones((size, size)) / size ** 2""")
    nbformat.write(cleo, HERE / "cleo.ipynb")

    # Wrong in plausible ways: ignores v, 2d + 1, a blur that sums to 9, a vertical edge.
    ben = replace(model, "X_diag = torch.tril(torch.ones((6, 8)))",
                  "X_diag = torch.ones((6, 8))\nX_diag[:, 2:6] = 0")
    ben = replace(ben, "    return v1 * dx + v2 * dy", "    return torch.tensor([[1.0, -1.0]])")
    ben = replace(ben, "    return d + 1", "    return 2 * d + 1")
    ben = replace(ben, "    return g / g.sum()", "    return torch.ones((size, size))")
    nbformat.write(ben, HERE / "ben.ipynb")

    nbformat.write(build.build(model=False), HERE / "dev-untouched.ipynb")
    print("wrote", ", ".join(p.name for p in sorted(HERE.glob("*.ipynb"))))


if __name__ == "__main__":
    main()
