"""Write the student template and the model solution of the conv-layer pack from one outline,
so that both always have the same cells, in the same order, with the same tags.

    python reference/conv-layer/build_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent.parent / "student_template" / "conv-layer.ipynb"
MODEL = HERE / "model_solution.ipynb"
PLACEHOLDER = "*Write your answer here.*"

INTRO = """# Convolutions for Images — exercises

These exercises follow the section *Convolutions for Images* of *Dive into Deep Learning*
(PyTorch edition). The section defines the two-dimensional cross-correlation `corr2d`, a
hand-written `Conv2D` layer, and the kernel `K = [[1, -1]]`, which detects vertical edges by
taking the difference of horizontally adjacent pixels.

**How this notebook is graded.** Fill in the cells marked `TODO`; keep the names given in each
exercise. The grader runs your notebook from top to bottom in a fresh kernel, then calls your
functions on inputs of its own, so make them work for any valid input, not just the examples
here. Written answers go in the cells that say *Write your answer here*; your instructor grades
them. Check your work with `grader check conv-layer.ipynb` before you hand it in."""

BOOK_IMPORTS = """import torch
from torch import nn
from d2l import torch as d2l"""
"""The book's own first cell in every section (the grader's environment has d2l)."""

GIVEN = '''def corr2d(X, K):
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias


K = torch.tensor([[1.0, -1.0]])'''

# (markdown prompt, template code, model code, free-text tag or None, model free text)
OUTLINE = [
    ("""## Exercise 1 — diagonal edges

**1.1** Construct an image `X_diag` (a 2-D tensor) with a diagonal edge, and compute
`Y_diag = corr2d(X_diag, K)`. What happens when you apply the kernel `K` to it?""",
     """X_diag = None  # TODO 1.1: a 2-D image with a diagonal edge
Y_diag = None  # TODO 1.1: corr2d(X_diag, K)""",
     """X_diag = torch.tril(torch.ones((6, 8)))
Y_diag = corr2d(X_diag, K)
Y_diag""", "answer-1.1",
     "K responds along the diagonal: one signed value per row, where the edge crosses it."),
    ("""**1.2** What happens if you transpose `X_diag`? Compute `Y_diag_Xt = corr2d(X_diag.T, K)`.""",
     """Y_diag_Xt = None  # TODO 1.2: corr2d(X_diag.T, K)""",
     """Y_diag_Xt = corr2d(X_diag.T, K)
Y_diag_Xt""", "answer-1.2",
     "The transposed image still has a diagonal edge, so K still finds it, with flipped sign."),
    ("""**1.3** What happens if you transpose `K`? Compute `Y_diag_Kt = corr2d(X_diag, K.T)`.""",
     """Y_diag_Kt = None  # TODO 1.3: corr2d(X_diag, K.T)""",
     """Y_diag_Kt = corr2d(X_diag, K.T)
Y_diag_Kt""", "answer-1.3",
     "K.T differences vertically; the diagonal edge is found again, in an (h-1) x w output."),
    ("""## Exercise 2 — designing kernels by hand

**2.1** Write `edge_kernel(v)` returning a 2-D kernel that detects edges orthogonal to the
direction `v = (v1, v2)`: it responds where the intensity changes along `v` and gives zero on
constant regions. `v1` is the component along the width (x, columns), `v2` along the height
(y, rows).""",
     """def edge_kernel(v):
    # TODO 2.1: return a 2-D kernel (a tensor) for the direction v = (v1, v2)
    raise NotImplementedError("Exercise 2.1")""",
     """def edge_kernel(v):
    v1, v2 = float(v[0]), float(v[1])
    dx = torch.tensor([[-1.0, 1.0], [0.0, 0.0]])   # change along x (columns)
    dy = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])   # change along y (rows)
    return v1 * dx + v2 * dy""", None, ""),
    ("""**2.2** Write `second_derivative_kernel()` returning a finite-difference kernel for the
second derivative (scaled so that it gives the exact second derivative of a quadratic), and set
`second_derivative_min_size` to the smallest size such a kernel can have. Which image structures
give the strongest response?""",
     """def second_derivative_kernel():
    # TODO 2.2: return a 2-D kernel (a tensor)
    raise NotImplementedError("Exercise 2.2")


second_derivative_min_size = None  # TODO 2.2""",
     """def second_derivative_kernel():
    return torch.tensor([[1.0, -2.0, 1.0]])


second_derivative_min_size = 3""", "answer-2.2",
     "Thin lines, points and corners respond most: curvature, not slope."),
    ("""**2.3** Write `blur_kernel(size, sigma)` returning a `(size, size)` blur kernel. Why would
you blur an image?""",
     """def blur_kernel(size, sigma):
    # TODO 2.3: return a (size, size) tensor
    raise NotImplementedError("Exercise 2.3")""",
     """def blur_kernel(size, sigma):
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma ** 2))
    return g / g.sum()""", "answer-2.3",
     "Blurring averages out noise before edges are detected, and prevents aliasing."),
    ("""**2.4** Write `min_kernel_size(d)`: the minimum size of a kernel computing a derivative of
order `d`, for any `d >= 1`.""",
     """def min_kernel_size(d):
    # TODO 2.4
    raise NotImplementedError("Exercise 2.4")""",
     """def min_kernel_size(d):
    return d + 1""", None, ""),
    ("""## Exercise 3 — autograd and the hand-written `Conv2D`

What happens when you ask autograd for the gradient of the section's `Conv2D` layer applied to
an image? Store the error you get in `autograd_error` (its message, or the exception object).""",
     """autograd_error = None  # TODO 3: the error message (or the exception itself)""",
     """conv = Conv2D(kernel_size=(1, 2))
try:
    conv(X_diag).backward()
    autograd_error = None
except RuntimeError as err:
    autograd_error = err
autograd_error""", None, ""),
    ("""## Exercise 4 — cross-correlation as a matrix multiplication

Write `kernel_matrix(K, shape)` returning the matrix `W` such that
`W @ X.reshape(-1)` equals `corr2d(X, K).reshape(-1)` for every `X` of shape `shape = (h, w)`,
and `corr2d_matmul(X, K)` computing `corr2d` as that matrix product (same result, same shape).""",
     """def kernel_matrix(K, shape):
    # TODO 4: a tensor of shape (out_h * out_w, h * w)
    raise NotImplementedError("Exercise 4")


def corr2d_matmul(X, K):
    # TODO 4
    raise NotImplementedError("Exercise 4")""",
     """def kernel_matrix(K, shape):
    h, w = shape
    kh, kw = K.shape
    oh, ow = h - kh + 1, w - kw + 1
    W = torch.zeros((oh * ow, h * w))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                start = (i + a) * w + j
                W[i * ow + j, start:start + kw] = K[a]
    return W


def corr2d_matmul(X, K):
    oh, ow = X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1
    return (kernel_matrix(K, X.shape) @ X.reshape(-1)).reshape(oh, ow)""", None, ""),
]


def build(model: bool) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(INTRO), new_code_cell(BOOK_IMPORTS), new_code_cell(GIVEN)]
    for prompt, stub, solution, tag, model_text in OUTLINE:
        cells.append(new_markdown_cell(prompt))
        cells.append(new_code_cell(solution if model else stub))
        if tag:
            cells.append(new_markdown_cell(model_text if model else PLACEHOLDER,
                                           metadata={"tags": [tag]}))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["grader"] = {"pack": "conv-layer"}
    return nb


def main() -> None:
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build(model=False), TEMPLATE)
    nbformat.write(build(model=True), MODEL)
    print(f"wrote {TEMPLATE} and {MODEL}")


if __name__ == "__main__":
    main()
