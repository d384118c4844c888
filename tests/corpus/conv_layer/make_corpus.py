"""Generate the conv-layer corpus: student submissions with the verdicts an expert would give.

Run from anywhere:  python tests/corpus/conv_layer/make_corpus.py
It (re)writes one `<name>.ipynb` per entry of SUBMISSIONS next to this file and deletes any
other notebook in this folder. Only nbformat and the standard library are used.

Each notebook carries
    metadata["grader"]      = {"pack": "conv-layer"}
    metadata["grader_test"] = {"expected": {question: "pass" | "fail"}, "why": ..., "notes": {...}}

A submission is a small dict:
    name     file name without ".ipynb"
    why      one sentence on what the submission does
    fail     questions an expert would fail (all others pass); FAIL_ALL for every question
    notes    optional {question: expected extra note}
    without_source  optional {question: verdict} where the verdict depends on reading the
             code, for graders that give the checks no `source` fixture
    base     "model" (default) or "template": what fills the slots the entry does not give
    code     {slot: cell source | [several cell sources] | stale(source, output...)}
    answers  {question: markdown text} for the tagged free-text cells (None: placeholder)
    extra    code cells appended at the end of the notebook
    layout   optional full cell order (see LAYOUT) for submissions that move things around
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

HERE = Path(__file__).resolve().parent
QUESTIONS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "3", "4"]
FAIL_ALL = list(QUESTIONS)
SWAPPED = "swapped axis convention"


def src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# --- the template ----------------------------------------------------------------------------
# A copy of student_template/conv-layer.ipynb as handed out (given code, question texts, TODO
# cells), kept here so the corpus does not change when the template's wording does.

GIVEN = ['''\
import torch
from torch import nn


def corr2d(X, K):
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


K = torch.tensor([[1.0, -1.0]])''']

TEXT = {
    'intro': '''\
# Convolutions for Images — exercises

These exercises follow the section *Convolutions for Images* of *Dive into Deep Learning*
(PyTorch edition). The section defines the two-dimensional cross-correlation `corr2d`, a
hand-written `Conv2D` layer, and the kernel `K = [[1, -1]]`, which detects vertical edges by
taking the difference of horizontally adjacent pixels.

**How this notebook is graded.** Fill in the cells marked `TODO`; keep the names given in each
exercise. The grader runs your notebook from top to bottom in a fresh kernel, then calls your
functions on inputs of its own, so make them work for any valid input, not just the examples
here. Written answers go in the cells that say *Write your answer here*; your instructor grades
them. Check your work with `grader check conv-layer.ipynb` before you hand it in.''',
    'q1.1': '''\
## Exercise 1 — diagonal edges

**1.1** Construct an image `X_diag` (a 2-D tensor) with a diagonal edge, and compute
`Y_diag = corr2d(X_diag, K)`. What happens when you apply the kernel `K` to it?''',
    'q1.2': '''\
**1.2** What happens if you transpose `X_diag`? Compute `Y_diag_Xt = corr2d(X_diag.T, K)`.''',
    'q1.3': '''\
**1.3** What happens if you transpose `K`? Compute `Y_diag_Kt = corr2d(X_diag, K.T)`.''',
    'q2.1': '''\
## Exercise 2 — designing kernels by hand

**2.1** Write `edge_kernel(v)` returning a 2-D kernel that detects edges orthogonal to the
direction `v = (v1, v2)`: it responds where the intensity changes along `v` and gives zero on
constant regions. `v1` is the component along the width (x, columns), `v2` along the height
(y, rows).''',
    'q2.2': '''\
**2.2** Write `second_derivative_kernel()` returning a finite-difference kernel for the
second derivative (scaled so that it gives the exact second derivative of a quadratic), and set
`second_derivative_min_size` to the smallest size such a kernel can have. Which image structures
give the strongest response?''',
    'q2.3': '''\
**2.3** Write `blur_kernel(size, sigma)` returning a `(size, size)` blur kernel. Why would
you blur an image?''',
    'q2.4': '''\
**2.4** Write `min_kernel_size(d)`: the minimum size of a kernel computing a derivative of
order `d`, for any `d >= 1`.''',
    'q3': '''\
## Exercise 3 — autograd and the hand-written `Conv2D`

What happens when you ask autograd for the gradient of the section's `Conv2D` layer applied to
an image? Store the error you get in `autograd_error` (its message, or the exception object).''',
    'q4': '''\
## Exercise 4 — cross-correlation as a matrix multiplication

Write `kernel_matrix(K, shape)` returning the matrix `W` such that
`W @ X.reshape(-1)` equals `corr2d(X, K).reshape(-1)` for every `X` of shape `shape = (h, w)`,
and `corr2d_matmul(X, K)` computing `corr2d` as that matrix product (same result, same shape).''',
}

PLACEHOLDER = '*Write your answer here.*'

TEMPLATE = {
    '1.1': '''\
X_diag = None  # TODO 1.1: a 2-D image with a diagonal edge
Y_diag = None  # TODO 1.1: corr2d(X_diag, K)''',
    '1.2': '''\
Y_diag_Xt = None  # TODO 1.2: corr2d(X_diag.T, K)''',
    '1.3': '''\
Y_diag_Kt = None  # TODO 1.3: corr2d(X_diag, K.T)''',
    '2.1': '''\
def edge_kernel(v):
    # TODO 2.1: return a 2-D kernel (a tensor) for the direction v = (v1, v2)
    raise NotImplementedError("Exercise 2.1")''',
    '2.2': '''\
def second_derivative_kernel():
    # TODO 2.2: return a 2-D kernel (a tensor)
    raise NotImplementedError("Exercise 2.2")


second_derivative_min_size = None  # TODO 2.2''',
    '2.3': '''\
def blur_kernel(size, sigma):
    # TODO 2.3: return a (size, size) tensor
    raise NotImplementedError("Exercise 2.3")''',
    '2.4': '''\
def min_kernel_size(d):
    # TODO 2.4
    raise NotImplementedError("Exercise 2.4")''',
    '3': '''\
autograd_error = None  # TODO 3: the error message (or the exception itself)''',
    '4': '''\
def kernel_matrix(K, shape):
    # TODO 4: a tensor of shape (out_h * out_w, h * w)
    raise NotImplementedError("Exercise 4")


def corr2d_matmul(X, K):
    # TODO 4
    raise NotImplementedError("Exercise 4")''',
}


# --- the model solution ----------------------------------------------------------------------

MODEL = {
    "1.1": src('''
        X_diag = torch.eye(6)
        Y_diag = corr2d(X_diag, K)
        Y_diag
    '''),
    "1.2": src('''
        Y_diag_Xt = corr2d(X_diag.T, K)
        Y_diag_Xt
    '''),
    "1.3": src('''
        Y_diag_Kt = corr2d(X_diag, K.T)
        Y_diag_Kt
    '''),
    "2.1": src('''
        def edge_kernel(v):
            """Directional derivative along v: responds to edges orthogonal to v."""
            v1, v2 = v
            dx = torch.tensor([[-1.0, 1.0], [-1.0, 1.0]]) / 2  # change along the width
            dy = torch.tensor([[-1.0, -1.0], [1.0, 1.0]]) / 2  # change along the height
            return v1 * dx + v2 * dy
    '''),
    "2.2": src('''
        def second_derivative_kernel():
            # (f(x+1) - f(x)) - (f(x) - f(x-1))
            return torch.tensor([[1.0, -2.0, 1.0]])

        second_derivative_min_size = 3
    '''),
    "2.3": src('''
        def blur_kernel(size, sigma):
            r = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
            g = torch.exp(-r**2 / (2 * sigma**2))
            k = torch.outer(g, g)
            return k / k.sum()
    '''),
    "2.4": src('''
        def min_kernel_size(d):
            # a finite difference of order d needs d + 1 samples
            return d + 1
    '''),
    "3": src('''
        conv = Conv2D(kernel_size=(1, 2))
        Y = conv(torch.eye(6))
        try:
            Y.backward()
        except RuntimeError as e:
            print(e)
            autograd_error = str(e)
    '''),
    "4": src('''
        def kernel_matrix(K, shape):
            h, w = K.shape
            nh, nw = shape
            oh, ow = nh - h + 1, nw - w + 1
            W = torch.zeros(oh * ow, nh * nw)
            for i in range(oh):
                for j in range(ow):
                    patch = torch.zeros(nh, nw)
                    patch[i:i + h, j:j + w] = K
                    W[i * ow + j] = patch.reshape(-1)
            return W


        def corr2d_matmul(X, K):
            W = kernel_matrix(K, X.shape)
            out = W @ X.reshape(-1).to(W.dtype)
            return out.reshape(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)


        X = torch.rand(5, 7)
        print(torch.allclose(corr2d_matmul(X, K), corr2d(X, K)))
    '''),
}

ANSWERS = {
    "1.1": src('''
        `K` subtracts each pixel's right neighbour from it, so it only fires where a row changes
        value. On the diagonal line every row changes twice, so `Y_diag` shows a diagonal of 1s
        with a diagonal of -1s right next to it; everything else is 0.
    '''),
    "1.2": src('''
        Transposing mirrors the image across the main diagonal. For a symmetric image like the
        identity nothing changes; in general the edge is mirrored and so is the response.
    '''),
    "1.3": src('''
        `K.T` takes differences between vertical neighbours. A diagonal edge changes along the
        height as well, so it is still detected, with the +1/-1 diagonals moved and the output
        one row shorter instead of one column shorter.
    '''),
    "2.2": src('''
        Apply the first difference twice: `[1, -2, 1]`. It needs three samples, so the smallest
        kernel is 3 wide (3x3 for the Laplacian in both directions). Thin lines and small blobs
        (and noise) give the strongest response.
    '''),
    "2.3": src('''
        Averaging neighbours with non-negative weights that sum to 1 (box or Gaussian) keeps the
        brightness and removes noise and fine detail, e.g. before downsampling.
    '''),
}

ANSWER_SLOTS = list(ANSWERS)

# The usual order of cells. ("text", key) markdown, ("given", i) given code, ("code", slot)
# answer code, ("answer", q) tagged free-text cell, ("extra",) the submission's extra cells.
LAYOUT = [
    ("text", "intro"), ("given", 0),
    ("text", "q1.1"), ("code", "1.1"), ("answer", "1.1"),
    ("text", "q1.2"), ("code", "1.2"), ("answer", "1.2"),
    ("text", "q1.3"), ("code", "1.3"), ("answer", "1.3"),
    ("text", "q2.1"), ("code", "2.1"),
    ("text", "q2.2"), ("code", "2.2"), ("answer", "2.2"),
    ("text", "q2.3"), ("code", "2.3"), ("answer", "2.3"),
    ("text", "q2.4"), ("code", "2.4"),
    ("text", "q3"), ("code", "3"),
    ("text", "q4"), ("code", "4"),
    ("extra",),
]


def stale(source: str, *outputs: str, execution_count: int = 7) -> dict:
    """A code cell that keeps outputs from an earlier run (each output is stdout text,
    or an execute_result when it starts with 'Out:')."""
    return {"source": source, "outputs": outputs, "execution_count": execution_count}


# --- the submissions -------------------------------------------------------------------------

SUBMISSIONS: list[dict] = []


def sub(**entry) -> None:
    SUBMISSIONS.append(entry)


# ---------------- right, in the expected and in unusual ways ----------------

sub(name="model_solution",
    why="The model solution: identity image, 2x2 directional kernel, [1,-2,1], Gaussian blur, "
        "d+1, the RuntimeError text and a loop-built kernel matrix.")

sub(name="numpy_everywhere",
    why="Every array answer is a numpy array (float32 image, Sobel edge kernel, column "
        "second-difference with min size (3, 1), numpy Gaussian, numpy kernel matrix).",
    code={
        "1.1": src('''
            import numpy as np

            X_diag = np.eye(6, dtype=np.float32)
            Y_diag = corr2d(torch.from_numpy(X_diag), K).numpy()
            print(Y_diag)
        '''),
        "1.2": "Y_diag_Xt = corr2d(torch.from_numpy(np.ascontiguousarray(X_diag.T)), K).numpy()",
        "1.3": "Y_diag_Kt = corr2d(torch.from_numpy(X_diag), K.T).numpy()",
        "2.1": src('''
            def edge_kernel(v):
                v1, v2 = v
                sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)
                return v1 * sobel_x + v2 * sobel_x.T
        '''),
        "2.2": src('''
            def second_derivative_kernel():
                return np.array([[1.0], [-2.0], [1.0]])   # d2/dy2

            second_derivative_min_size = (3, 1)
        '''),
        "2.3": src('''
            def blur_kernel(size, sigma):
                ax = np.arange(size) - size // 2
                xx, yy = np.meshgrid(ax, ax)
                k = np.exp(-(xx**2 + yy**2) / (2.0 * sigma**2))
                return k / k.sum()

            print(blur_kernel(5, 1.0).sum())
        '''),
        "4": src('''
            def kernel_matrix(K, shape):
                K = np.asarray(K, dtype=np.float64)
                h, w = K.shape
                H, W = shape
                oh, ow = H - h + 1, W - w + 1
                M = np.zeros((oh * ow, H * W))
                for i in range(oh):
                    for j in range(ow):
                        for a in range(h):
                            start = (i + a) * W + j
                            M[i * ow + j, start:start + w] = K[a]
                return M


            def corr2d_matmul(X, K):
                X = np.asarray(X, dtype=np.float64)
                K = np.asarray(K, dtype=np.float64)
                out_shape = (X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)
                return (kernel_matrix(K, X.shape) @ X.ravel()).reshape(out_shape)
        '''),
    })

sub(name="nested_lists",
    why="Answers as nested Python lists: list-comprehension identity image, list-valued edge "
        "kernel, Laplacian, box blur and kernel matrix; the autograd message typed in by hand.",
    code={
        "1.1": src('''
            X_diag = [[1.0 if i == j else 0.0 for j in range(7)] for i in range(7)]
            Y_diag = corr2d(torch.tensor(X_diag), K).tolist()
        '''),
        "1.2": "Y_diag_Xt = corr2d(torch.tensor(X_diag).T, K).tolist()",
        "1.3": "Y_diag_Kt = corr2d(torch.tensor(X_diag), K.T).tolist()",
        "2.1": src('''
            def edge_kernel(v):
                v1, v2 = v
                # v1 * (right - left) + v2 * (lower - upper), forward differences
                return [[-v1 - v2, v1],
                        [v2, 0.0]]
        '''),
        "2.2": src('''
            def second_derivative_kernel():
                return [[0, 1, 0],
                        [1, -4, 1],
                        [0, 1, 0]]

            second_derivative_min_size = 3
        '''),
        "2.3": src('''
            def blur_kernel(size, sigma):
                # a box filter: every neighbour gets the same weight (sigma is not needed)
                return [[1 / size**2] * size for _ in range(size)]
        '''),
        "3": 'autograd_error = "grad can be implicitly created only for scalar outputs"',
        "4": src('''
            def kernel_matrix(K, shape):
                k = K.tolist()
                h, w = len(k), len(k[0])
                H, W = shape
                rows = []
                for i in range(H - h + 1):
                    for j in range(W - w + 1):
                        row = [0.0] * (H * W)
                        for a in range(h):
                            for b in range(w):
                                row[(i + a) * W + (j + b)] = k[a][b]
                        rows.append(row)
                return rows


            def corr2d_matmul(X, K):
                M = torch.tensor(kernel_matrix(K, tuple(X.shape)))
                out = M @ X.reshape(-1).float()
                return out.reshape(X.shape[0] - K.shape[0] + 1, -1).tolist()
        '''),
    })

sub(name="int_dtypes",
    why="Integer tensors: an int64 identity image, responses cast to int64/int32 and an int64 "
        "[1,-2,1] kernel.",
    code={
        "1.1": src('''
            X_diag = torch.eye(8, dtype=torch.int64)
            Y_diag = corr2d(X_diag, K).to(torch.int64)
            Y_diag
        '''),
        "1.2": "Y_diag_Xt = corr2d(X_diag.T, K).long()",
        "1.3": "Y_diag_Kt = corr2d(X_diag, K.T).int()",
        "2.2": src('''
            def second_derivative_kernel():
                return torch.tensor([[1, -2, 1]])

            second_derivative_min_size = 3
        '''),
    })

sub(name="antidiagonal_nonsquare",
    why="Anti-diagonal line on a 5x9 image and a 5x5 Sobel-like (smoothing x derivative) edge "
        "kernel.",
    code={
        "1.1": src('''
            # anti-diagonal line on a 5 x 9 image
            X_diag = torch.zeros(5, 9)
            for i in range(5):
                X_diag[i, 8 - i] = 1.0
            Y_diag = corr2d(X_diag, K)
            Y_diag
        '''),
        "2.1": src('''
            def edge_kernel(v):
                v1, v2 = v
                smooth = torch.tensor([1., 4., 6., 4., 1.])
                deriv = torch.tensor([-1., -2., 0., 2., 1.])
                gx = torch.outer(smooth, deriv)   # changes along the columns
                gy = torch.outer(deriv, smooth)   # changes along the rows
                return v1 * gx + v2 * gy
        '''),
    },
    answers={"1.1": "The response has a +1 and a -1 next to each other in every row, following "
                    "the anti-diagonal."})

sub(name="segment_in_canvas",
    why="A short diagonal line segment inside a 10x10 zero canvas and a symmetric 2x2 "
        "directional kernel.",
    code={
        "1.1": src('''
            X_diag = torch.zeros(10, 10)
            for k in range(3, 7):
                X_diag[k, k] = 1.0
            Y_diag = corr2d(X_diag, K)
        '''),
        "2.1": src('''
            def edge_kernel(v):
                v1, v2 = v
                return 0.5 * torch.tensor([[-v1 - v2, v1 - v2],
                                           [v2 - v1, v1 + v2]])
        '''),
    })

sub(name="tril_five_minus_two",
    why="A diagonal step from torch.tril with values 5 and -2, the 3x3 Laplacian, a box blur "
        "and an autograd message with stray whitespace.",
    code={
        "1.1": src('''
            X_diag = torch.tril(torch.ones(6, 6)) * 7 - 2   # 5 on and below the diagonal, -2 above
            Y_diag = corr2d(X_diag, K)
            print(X_diag)
            print(Y_diag)
        '''),
        "2.2": src('''
            def second_derivative_kernel():
                # Laplacian: d2/dx2 + d2/dy2
                return torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])

            second_derivative_min_size = 3
        '''),
        "2.3": src('''
            def blur_kernel(size, sigma):
                return torch.full((size, size), 1.0 / size**2)
        '''),
        "3": 'autograd_error = "  grad can be implicitly created only for scalar outputs \\n"',
    },
    answers={"2.3": "Box blur: the mean of the size x size neighbourhood. It removes noise."})

sub(name="sobel_negated_scaled",
    why="Non-square torch.eye(5, 8), a negated Sobel edge kernel scaled by 3/|v|, the exact "
        "1x5 second-derivative operator and min size (1, 3).",
    code={
        "1.1": src('''
            X_diag = torch.eye(5, 8)
            Y_diag = corr2d(X_diag, K)
        '''),
        "2.1": src('''
            def edge_kernel(v):
                v1, v2 = v
                n = (v1**2 + v2**2) ** 0.5
                sx = torch.tensor([[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]])  # left minus right
                return 3.0 * (v1 * sx + v2 * sx.T) / n
        '''),
        "2.2": src('''
            def second_derivative_kernel():
                # fourth-order accurate central difference
                return torch.tensor([[-1., 16., -30., 16., -1.]]) / 12

            second_derivative_min_size = (1, 3)
        '''),
    })

sub(name="swapped_edge_kernel",
    why="Edge kernel built with v1 along the rows and v2 along the columns (the swapped "
        "convention), the 8-neighbour Laplacian / 3 and min size (3, 3).",
    notes={"2.1": SWAPPED},
    code={
        "2.1": src('''
            def edge_kernel(v):
                # v1 is the first tensor axis (rows), v2 the second (columns)
                v1, v2 = v
                d_rows = torch.tensor([[-1.], [1.]])
                d_cols = torch.tensor([[-1., 1.]])
                k = torch.zeros(2, 2)
                k[:, :1] += v1 * d_rows
                k[:1, :] += v2 * d_cols
                return k
        '''),
        "2.2": src('''
            def second_derivative_kernel():
                k = torch.ones(3, 3)
                k[1, 1] = -8
                return k / 3      # all 8 neighbours; /3 makes it the Laplacian

            second_derivative_min_size = (3, 3)
        '''),
    })

sub(name="autograd_exception_unfold",
    why="autograd_error is the caught RuntimeError object itself; kernel_matrix from "
        "F.unfold of basis images and corr2d_matmul as im2col.",
    code={
        "3": src('''
            conv2d = Conv2D(kernel_size=(1, 2))
            try:
                conv2d(torch.eye(5)).backward()
            except RuntimeError as err:
                autograd_error = err
            autograd_error
        '''),
        "4": src('''
            import torch.nn.functional as F


            def kernel_matrix(K, shape):
                H, W = shape
                basis = torch.eye(H * W, dtype=K.dtype).reshape(H * W, 1, H, W)
                patches = F.unfold(basis, kernel_size=tuple(K.shape))   # (H*W, h*w, L)
                return torch.einsum('k,nkl->ln', K.reshape(-1), patches)


            def corr2d_matmul(X, K):
                oh, ow = X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1
                cols = F.unfold(X.reshape(1, 1, *X.shape), kernel_size=tuple(K.shape))[0]
                return (K.reshape(1, -1) @ cols).reshape(oh, ow)
        '''),
    })

sub(name="autograd_prefix_vectorised",
    why="autograd_error copied from the traceback with the 'RuntimeError: ' prefix and "
        "newlines; kernel_matrix filled by index arithmetic.",
    code={
        "3": src('''
            # Conv2D(kernel_size=(1, 2))(X_diag).backward() fails with:
            autograd_error = """
            RuntimeError: grad can be implicitly created only for scalar outputs
            """
        '''),
        "4": src('''
            def kernel_matrix(K, shape):
                h, w = K.shape
                H, W = shape
                oh, ow = H - h + 1, W - w + 1
                rows = torch.arange(oh * ow)
                i, j = rows // ow, rows % ow
                M = torch.zeros(oh * ow, H * W, dtype=K.dtype)
                for a in range(h):
                    for b in range(w):
                        M[rows, (i + a) * W + (j + b)] = K[a, b]
                return M


            def corr2d_matmul(X, K):
                M = kernel_matrix(K, X.shape)
                return (M @ X.flatten()).view(X.shape[0] - K.shape[0] + 1, -1)
        '''),
    })

sub(name="unusual_order_functions",
    why="Exercise 4 solved first, exercise 1 inside a function whose results are unpacked, "
        "edge_kernel relying on a helper from the last cell, lambdas for 2.2 and 2.4.",
    layout=[
        ("text", "intro"), ("given", 0),
        ("text", "q4"), ("code", "4"),
        ("text", "q1.1"), ("code", "1.1"), ("answer", "1.1"),
        ("text", "q1.2"), ("answer", "1.2"), ("text", "q1.3"), ("answer", "1.3"),
        ("text", "q2.1"), ("code", "2.1"),
        ("text", "q2.2"), ("code", "2.2"), ("answer", "2.2"),
        ("text", "q2.3"), ("code", "2.3"), ("answer", "2.3"),
        ("text", "q2.4"), ("code", "2.4"),
        ("text", "q3"), ("code", "3"),
        ("extra",),
    ],
    code={
        "1.1": src('''
            def exercise_1():
                X = torch.triu(torch.ones(6, 9))   # staircase along the main diagonal
                return X, corr2d(X, K), corr2d(X.T, K), corr2d(X, K.T)

            X_diag, Y_diag, Y_diag_Xt, Y_diag_Kt = exercise_1()
        '''),
        "2.1": src('''
            def edge_kernel(v):
                return _directional_kernel(*v)
        '''),
        "2.2": src('''
            second_derivative_kernel = lambda: torch.tensor([[1.0], [-2.0], [1.0]])
            second_derivative_min_size = len(second_derivative_kernel())
        '''),
        "2.4": "min_kernel_size = lambda d: d + 1",
        "3": src('''
            def get_autograd_error():
                try:
                    Conv2D((2, 2))(torch.rand(4, 4)).backward()
                except Exception as e:
                    return str(e)

            autograd_error = get_autograd_error()
        '''),
    },
    extra=[src('''
        # helpers
        def _directional_kernel(a, b):
            gx = torch.tensor([[0., 0., 0.], [-1., 0., 1.], [0., 0., 0.]]) / 2
            return a * gx + b * gx.T
    ''')])

sub(name="antidiagonal_step_autograd_grad",
    why="Anti-diagonal step (flipped tril, 6x8), 3x3 central-difference edge kernel in numpy, "
        "separable Gaussian, and the RuntimeError object caught from torch.autograd.grad.",
    code={
        "1.1": src('''
            X_diag = torch.flip(torch.tril(torch.ones(6, 8)), dims=[1])
            Y_diag = corr2d(X_diag, K)
            X_diag, Y_diag
        '''),
        "2.1": src('''
            import numpy as np

            def edge_kernel(v):
                k = np.zeros((3, 3), dtype=np.float32)
                k[1, 0], k[1, 2] = -v[0], v[0]   # d/dx, central difference
                k[0, 1], k[2, 1] = -v[1], v[1]   # d/dy
                return k
        '''),
        "2.3": src('''
            def blur_kernel(size, sigma):
                x = torch.linspace(-(size // 2), size // 2, size)
                g = torch.exp(-0.5 * (x / sigma) ** 2)
                g = g / g.sum()
                return g[:, None] * g[None, :]
        '''),
        "3": src('''
            conv = Conv2D((1, 2))
            out = conv(X_diag)
            try:
                torch.autograd.grad(out, conv.weight)
            except RuntimeError as e:
                autograd_error = e
            print(autograd_error)
        '''),
    })

sub(name="answers_at_bottom",
    why="The template's placeholder cells are left as they are and every answer is written in "
        "a 'my solutions' section at the end of the notebook.",
    base="template",
    answers={q: PLACEHOLDER for q in ANSWER_SLOTS},
    extra=[
        "# ---- my solutions ----\nX_diag = torch.tril(torch.ones(7, 7))\nY_diag = corr2d(X_diag, K)",
        "Y_diag_Xt = corr2d(X_diag.T, K)\nY_diag_Kt = corr2d(X_diag, K.T)",
        MODEL["2.1"],
        src('''
            def second_derivative_kernel():
                return torch.tensor([[1., 0., -2., 0., 1.]]) / 4   # central difference of central differences

            second_derivative_min_size = 3
        '''),
        MODEL["2.3"],
        MODEL["2.4"],
        MODEL["3"],
        MODEL["4"],
    ])

# ---------------- the untouched template and partial work ----------------

sub(name="template_untouched",
    why="The template as handed out: functions raise NotImplementedError, variables are None.",
    base="template", fail=FAIL_ALL,
    answers={q: PLACEHOLDER for q in ANSWER_SLOTS})

sub(name="partial_submission",
    why="Exercise 1 and the first two kernels are done; blur, min_kernel_size, exercise 3 and "
        "exercise 4 are still the template.",
    fail=["2.3", "2.4", "3", "4"],
    code={q: TEMPLATE[q] for q in ["2.3", "2.4", "3", "4"]},
    answers={"2.3": PLACEHOLDER})

# ---------------- exercise 1 wrong ----------------

sub(name="vertical_edge_as_diagonal",
    why="Reuses the section's 6x8 vertical-edge image as X_diag; the transposes are computed "
        "correctly on it.",
    fail=["1.1"],
    code={"1.1": src('''
        X_diag = torch.ones((6, 8))
        X_diag[:, 2:6] = 0
        Y_diag = corr2d(X_diag, K)
        Y_diag
    ''')},
    answers={"1.1": "Y_diag has 1 at the left edge and -1 at the right edge."})

sub(name="horizontal_edge",
    why="X_diag has a horizontal edge (top half 0, bottom half 1); Y_diag is all zeros.",
    fail=["1.1"],
    code={"1.1": src('''
        X_diag = torch.zeros(6, 6)
        X_diag[3:, :] = 1
        Y_diag = corr2d(X_diag, K)
        Y_diag
    ''')},
    answers={"1.1": "The output is all zeros: K cannot see this edge."})

sub(name="constant_image_abs_sobel",
    why="A constant image as X_diag (so 1.2 and 1.3 observe nothing: no credit), and an edge "
        "kernel made non-negative with abs() so it responds to constant images.",
    fail=["1.1", "1.2", "1.3", "2.1"],
    code={
        "1.1": "X_diag = torch.ones(6, 6)\nY_diag = corr2d(X_diag, K)",
        "2.1": src('''
            def edge_kernel(v):
                v1, v2 = v
                sx = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])
                # abs so that both edge polarities give a positive response
                return (v1 * sx + v2 * sx.T).abs()
        '''),
    })

sub(name="random_noise_sharpen",
    why="Random noise as the 'diagonal' image, and a sharpening kernel (2*delta - box) as the "
        "blur.",
    fail=["1.1", "2.3"],
    code={
        "1.1": src('''
            X_diag = torch.rand(6, 6)   # random image, it has edges in every direction
            Y_diag = corr2d(X_diag, K)
        '''),
        "2.3": src('''
            def blur_kernel(size, sigma):
                k = -torch.ones(size, size) / size**2
                k[size // 2, size // 2] += 2.0
                return k
        '''),
    })

sub(name="single_dot_identity_blur",
    why="A single bright pixel as X_diag, and a delta (identity) kernel as the blur.",
    fail=["1.1", "2.3"],
    code={
        "1.1": src('''
            X_diag = torch.zeros(6, 6)
            X_diag[2, 3] = 1.0
            Y_diag = corr2d(X_diag, K)
        '''),
        "2.3": src('''
            def blur_kernel(size, sigma):
                # each output pixel = the pixel at the centre of the window
                k = torch.zeros(size, size)
                k[size // 2, size // 2] = 1.0
                return k
        '''),
    })

sub(name="responses_from_conv2d_4d",
    why="The responses come from torch.nn.functional.conv2d, shaped (1, 1, h, w): the same "
        "cross-correlation, with batch and channel axes.",
    code={
        "1.1": src('''
            import torch.nn.functional as F

            def xcorr(X, K):
                return F.conv2d(X[None, None], K[None, None])

            X_diag = torch.tril(torch.ones(6, 8))
            Y_diag = xcorr(X_diag, K)
        '''),
        "1.2": "Y_diag_Xt = xcorr(X_diag.T.contiguous(), K)",
        "1.3": "Y_diag_Kt = xcorr(X_diag, K.T.contiguous())"})

sub(name="ydiag_with_kt",
    why="Y_diag is computed with K.T by mistake (Y_diag_Kt is right).",
    fail=["1.1"],
    code={"1.1": "X_diag = torch.eye(6)\nY_diag = corr2d(X_diag, K.T)\nY_diag"})

sub(name="ydiag_xt_not_transposed",
    why="Non-symmetric tril step on a 5x7 image; Y_diag_Xt forgets to transpose X_diag.",
    fail=["1.2"],
    code={
        "1.1": "X_diag = torch.tril(torch.ones(5, 7))\nY_diag = corr2d(X_diag, K)",
        "1.2": "Y_diag_Xt = corr2d(X_diag, K)",
    })

sub(name="xdiag_overwritten_by_transpose",
    why="The 1.2 cell overwrites X_diag with its transpose, so the final X_diag no longer "
        "matches Y_diag or Y_diag_Xt (Y_diag_Kt, computed afterwards, does).",
    fail=["1.1", "1.2"],
    code={
        "1.1": "X_diag = torch.tril(torch.ones(6, 6))\nY_diag = corr2d(X_diag, K)",
        "1.2": "X_diag = X_diag.T\nY_diag_Xt = corr2d(X_diag, K)",
    })

sub(name="wrong_variable_name",
    why="The image is stored as X_diagonal, so X_diag does not exist and none of exercise 1 "
        "can be checked.",
    fail=["1.1", "1.2", "1.3"],
    code={
        "1.1": "X_diagonal = torch.eye(6)\nY_diag = corr2d(X_diagonal, K)",
        "1.2": "Y_diag_Xt = corr2d(X_diagonal.T, K)",
        "1.3": "Y_diag_Kt = corr2d(X_diagonal, K.T)",
    })

sub(name="cell_raises_in_ex1",
    why="The 1.2 cell calls corr2d(X_diag.t, K) (method, not called) and raises, so only "
        "Y_diag_Xt is missing.",
    fail=["1.2"],
    code={"1.2": "Y_diag_Xt = corr2d(X_diag.t, K)\nY_diag_Xt"})

# ---------------- exercise 2 wrong ----------------

sub(name="edge_kernel_ignores_v",
    why="edge_kernel always returns the 2x2 vertical-edge kernel, whatever v is.",
    fail=["2.1"],
    code={"2.1": src('''
        def edge_kernel(v):
            # the edge detector from the section, made square
            return torch.tensor([[1.0, -1.0], [1.0, -1.0]])
    ''')})

sub(name="edge_kernel_parallel",
    why="Sobel kernel for the derivative along (v2, -v1): detects edges parallel to v.",
    fail=["2.1"],
    code={"2.1": src('''
        def edge_kernel(v):
            v1, v2 = v
            sx = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])
            # the edge is orthogonal to v, so differentiate orthogonally to v
            return v2 * sx - v1 * sx.T
    ''')})

sub(name="edge_kernel_x_only",
    why="edge_kernel uses only v1 ([[-v1, v1]]), dropping the vertical component.",
    fail=["2.1"],
    code={"2.1": src('''
        def edge_kernel(v):
            v1, v2 = v
            return torch.tensor([[-v1, v1]])
    ''')})

sub(name="edge_kernel_1d",
    why="edge_kernel returns the normalised direction itself, a 1-D tensor.",
    fail=["2.1"],
    code={"2.1": src('''
        def edge_kernel(v):
            v = torch.tensor(v)
            return v / v.norm()
    ''')})

sub(name="laplacian_wrong_sign",
    why="Second-derivative kernel is the negated Laplacian [[0,-1,0],[-1,4,-1],[0,-1,0]].",
    fail=["2.2"],
    code={"2.2": src('''
        def second_derivative_kernel():
            return torch.tensor([[0., -1., 0.], [-1., 4., -1.], [0., -1., 0.]])

        second_derivative_min_size = 3
    ''')})

sub(name="laplacian8_unscaled_swapped_sobel",
    why="Sobel edge kernel under the swapped convention (v1 along rows), and the 8-neighbour "
        "Laplacian without the 1/3, which gives three times the Laplacian.",
    fail=["2.2"],
    notes={"2.1": SWAPPED},
    code={
        "2.1": src('''
            def edge_kernel(v):
                v1, v2 = v    # (row direction, column direction)
                sobel_rows = torch.tensor([[-1., -2., -1.], [0., 0., 0.], [1., 2., 1.]])
                return v1 * sobel_rows + v2 * sobel_rows.T
        '''),
        "2.2": src('''
            def second_derivative_kernel():
                return torch.tensor([[1., 1., 1.], [1., -8., 1.], [1., 1., 1.]])

            second_derivative_min_size = 3
        '''),
    })

sub(name="second_derivative_unscaled_wide",
    why="Second difference with step 2, [[1,0,-2,0,1]], without the 1/4, so it returns four "
        "times the second derivative.",
    fail=["2.2"],
    code={"2.2": src('''
        def second_derivative_kernel():
            return torch.tensor([[1., 0., -2., 0., 1.]])

        second_derivative_min_size = 3
    ''')})

sub(name="min_size_two",
    why="Right [1,-2,1] kernel but second_derivative_min_size = 2.",
    fail=["2.2"],
    code={"2.2": src('''
        def second_derivative_kernel():
            return torch.tensor([[1.0, -2.0, 1.0]])

        # two first differences
        second_derivative_min_size = 2
    ''')})

sub(name="min_size_nine_and_d",
    why="second_derivative_min_size = 9 (pixels of a 3x3) and min_kernel_size returns d.",
    fail=["2.2", "2.4"],
    code={
        "2.2": src('''
            def second_derivative_kernel():
                return torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])

            second_derivative_min_size = 9
        '''),
        "2.4": "def min_kernel_size(d):\n    return d",
    })

sub(name="blur_sums_to_nine",
    why="Box blur without normalisation: torch.ones((size, size)).",
    fail=["2.3"],
    code={"2.3": src('''
        def blur_kernel(size, sigma):
            return torch.ones((size, size))
    ''')})

sub(name="blur_ignores_size",
    why="blur_kernel always returns the same normalised 3x3 Gaussian, whatever size is.",
    fail=["2.3"],
    code={"2.3": src('''
        def blur_kernel(size, sigma):
            g = torch.exp(-torch.tensor([1.0, 0.0, 1.0]) / (2 * sigma**2))
            k = torch.outer(g, g)
            return k / k.sum()
    ''')})

sub(name="blur_one_dimensional",
    why="blur_kernel returns the separable 1-D Gaussian (shape (size,)) instead of a "
        "(size, size) kernel.",
    fail=["2.3"],
    code={"2.3": src('''
        def blur_kernel(size, sigma):
            x = torch.arange(size) - size // 2
            g = torch.exp(-x.float()**2 / (2 * sigma**2))
            return g / g.sum()   # separable: apply along rows, then along columns
    ''')})

sub(name="min_kernel_size_2d_plus_1",
    why="min_kernel_size returns 2d + 1 (a centred stencil).",
    fail=["2.4"],
    code={"2.4": src('''
        def min_kernel_size(d):
            # d points on each side of the centre
            return 2 * d + 1
    ''')})

sub(name="min_kernel_size_lookup",
    why="min_kernel_size is a lookup table for d = 1..4 and raises KeyError beyond.",
    fail=["2.4"],
    code={"2.4": src('''
        def min_kernel_size(d):
            sizes = {1: 2, 2: 3, 3: 4, 4: 5}
            return sizes[d]
    ''')})

# ---------------- exercise 3 wrong ----------------

sub(name="autograd_made_up",
    why="autograd_error is an invented explanation, not the message torch prints.",
    fail=["3"],
    code={"3": 'autograd_error = "Conv2D cannot be differentiated because corr2d uses Python loops"'})

sub(name="autograd_name_error",
    why="The try block misspells Conv2D as Conv2d, so the stored message is the NameError.",
    fail=["3"],
    code={"3": src('''
        try:
            out = Conv2d((1, 2))(X_diag)
            out.backward()
        except Exception as e:
            autograd_error = str(e)
        print(autograd_error)
    ''')})

sub(name="autograd_empty",
    why="autograd_error is left as an empty string and exercise 4 is not attempted.",
    fail=["3", "4"],
    code={"3": 'autograd_error = ""', "4": TEMPLATE["4"]})

sub(name="cell_raises_before_autograd_answer",
    why="The exercise 3 cell calls backward() without try/except, so the line assigning "
        "autograd_error never runs.",
    fail=["3"],
    code={"3": src('''
        conv = Conv2D((1, 2))
        out = conv(X_diag)
        out.backward()
        autograd_error = "grad can be implicitly created only for scalar outputs"
    ''')})

# ---------------- exercise 4 wrong ----------------

sub(name="hardcoded_worked_example",
    why="kernel_matrix and corr2d_matmul are hard-coded for the section's 6x8 image and "
        "K=[[1,-1]].",
    fail=["4"],
    code={"4": src('''
        def kernel_matrix(K, shape):
            # 6 x 8 image, 1 x 2 kernel -> 6 x 7 output
            W = torch.zeros(42, 48)
            for i in range(6):
                for j in range(7):
                    W[i * 7 + j, i * 8 + j] = 1.0
                    W[i * 7 + j, i * 8 + j + 1] = -1.0
            return W


        def corr2d_matmul(X, K):
            return (kernel_matrix(K, X.shape) @ X.reshape(-1)).reshape(6, 7)


        X = torch.ones((6, 8))
        X[:, 2:6] = 0
        print(corr2d_matmul(X, K) == corr2d(X, K))
    ''')})

sub(name="kernel_matrix_transposed",
    why="kernel_matrix returns W.T (shape (h*w, out_h*out_w)); corr2d_matmul compensates "
        "with x @ W, so only the matrix is wrong.",
    fail=["4"],
    code={"4": src('''
        def kernel_matrix(K, shape):
            h, w = K.shape
            H, W = shape
            oh, ow = H - h + 1, W - w + 1
            M = torch.zeros(H * W, oh * ow)
            for i in range(oh):
                for j in range(ow):
                    img = torch.zeros(H, W)
                    img[i:i + h, j:j + w] = K
                    M[:, i * ow + j] = img.flatten()
            return M


        def corr2d_matmul(X, K):
            out = X.reshape(1, -1) @ kernel_matrix(K, X.shape)
            return out.reshape(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)
    ''')})

sub(name="corr2d_matmul_flat",
    why="kernel_matrix is right but corr2d_matmul returns the flat vector W @ x.",
    fail=["4"],
    code={"4": MODEL["4"].replace(
        "    out = W @ X.reshape(-1).to(W.dtype)\n"
        "    return out.reshape(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)",
        "    return W @ X.reshape(-1).to(W.dtype)").replace(
        "print(torch.allclose(corr2d_matmul(X, K), corr2d(X, K)))",
        "print(torch.allclose(corr2d_matmul(X, K), corr2d(X, K).reshape(-1)))")})

# ---------------- stale outputs ----------------

sub(name="stale_outputs",
    why="Wrong code (Y_diag_Xt not transposed on a tril image, a Gaussian blur scaled by its "
        "peak instead of its sum, 2d+1, a made-up message) kept under outputs of an earlier run "
        "that look right.",
    fail=["1.2", "2.3", "2.4", "3"],
    code={
        "1.1": stale("X_diag = torch.tril(torch.ones(4, 4))\nY_diag = corr2d(X_diag, K)\nY_diag",
                     "Out:tensor([[ 1.,  0.,  0.],\n        [ 0.,  1.,  0.],\n"
                     "        [ 0.,  0.,  1.],\n        [ 0.,  0.,  0.]])", execution_count=5),
        "1.2": stale("Y_diag_Xt = corr2d(X_diag, K)\nY_diag_Xt",
                     "Out:tensor([[ 0.,  0.,  0.],\n        [-1.,  0.,  0.],\n"
                     "        [ 0., -1.,  0.],\n        [ 0.,  0., -1.]])", execution_count=6),
        "2.3": stale(src('''
            def blur_kernel(size, sigma):
                r = torch.arange(size) - size // 2
                g = torch.exp(-r.float()**2 / (2 * sigma**2))
                return torch.outer(g, g) / g.max()**2

            print(blur_kernel(5, 1.0).sum())
        '''), "tensor(1.0000)\n", execution_count=9),
        "2.4": stale(src('''
            def min_kernel_size(d):
                return 2 * d + 1

            print([min_kernel_size(d) for d in range(1, 5)])
        '''), "[2, 3, 4, 5]\n", execution_count=10),
        "3": stale('autograd_error = "RuntimeError: Conv2D output has no gradient"\nautograd_error',
                   "Out:'RuntimeError: grad can be implicitly created only for scalar outputs'",
                   execution_count=11),
    })


# ================= issue 9: verdicts at the edges =================
# Members of each family of the issue: right in unusual ways, wrong in plausible ways,
# degenerate. Exercise 4 entries marked `without_source` are judged on their code, which the
# grader reads only where it provides the notebook's `source` to the checks; without it only
# the values are judged, and they are right.

# ---------------- exercise 1: real diagonal edges the old detector refused ----------------

sub(name="eye3_diagonal_line",
    why="X_diag is the 3x3 identity: a diagonal line, as small as a diagonal can be.",
    code={"1.1": "X_diag = torch.eye(3)\nY_diag = corr2d(X_diag, K)\nY_diag"})

sub(name="two_pixel_steps",
    why="A diagonal edge drawn as a staircase with 2-pixel steps on an 8x8 image.",
    code={"1.1": src('''
        X_diag = torch.zeros(8, 8)
        for i in range(0, 8, 2):
            X_diag[i:i + 2, :i + 2] = 1.0   # each step is 2 pixels high and 2 pixels wide
        Y_diag = corr2d(X_diag, K)
        print(X_diag)
    ''')})

sub(name="soft_sigmoid_edge",
    why="A soft diagonal edge: a sigmoid of (column - row) on a 9x9 grid.",
    code={"1.1": src('''
        rows, cols = torch.meshgrid(torch.arange(9.0), torch.arange(9.0), indexing="ij")
        X_diag = torch.sigmoid(2.0 * (cols - rows))   # 0 below the diagonal, 1 above, smooth
        Y_diag = corr2d(X_diag, K)
    ''')})

sub(name="blurred_edge_zero_padding",
    why="A diagonal step blurred with a 3x3 box through F.conv2d with zero padding, which also "
        "darkens the border; still a clear diagonal edge.",
    code={"1.1": src('''
        import torch.nn.functional as F

        step = torch.tril(torch.ones(10, 10))
        box = torch.ones(1, 1, 3, 3) / 9
        X_diag = F.conv2d(step[None, None], box, padding=1)[0, 0]
        Y_diag = corr2d(X_diag, K)
    ''')})

sub(name="noisy_diagonal_edge",
    why="A clear diagonal step with mild Gaussian noise (std 0.05) on a 10x10 image.",
    code={"1.1": src('''
        torch.manual_seed(0)
        X_diag = torch.tril(torch.ones(10, 10)) + 0.05 * torch.randn(10, 10)
        Y_diag = corr2d(X_diag, K)
    ''')})

sub(name="large_image_300",
    why="A 300x300 diagonal step; the responses are computed as shifted differences "
        "(exactly corr2d with K and K.T) because corr2d's loops are slow on it.",
    code={
        "1.1": src('''
            X_diag = torch.tril(torch.ones(300, 300))
            Y_diag = X_diag[:, :-1] - X_diag[:, 1:]   # corr2d(X_diag, K), vectorised
            print(torch.equal(Y_diag[:5, :5], corr2d(X_diag[:5, :6], K)))
        '''),
        "1.2": "Xt = X_diag.T\nY_diag_Xt = Xt[:, :-1] - Xt[:, 1:]",
        "1.3": "Y_diag_Kt = X_diag[:-1, :] - X_diag[1:, :]",
    })

sub(name="xdiag_kept_4d",
    why="X_diag is kept with batch and channel axes, shape (1, 1, 7, 7), for F.conv2d; every "
        "response is computed from it with F.conv2d and keeps those axes too.",
    code={
        "1.1": src('''
            import torch.nn.functional as F

            X_diag = torch.fliplr(torch.eye(7))[None, None]   # (1, 1, 7, 7), anti-diagonal
            Y_diag = F.conv2d(X_diag, K[None, None])
        '''),
        "1.2": "Y_diag_Xt = F.conv2d(X_diag.transpose(2, 3), K[None, None])",
        "1.3": "Y_diag_Kt = F.conv2d(X_diag, K.T[None, None])",
    })

sub(name="tiny_scale_image_right",
    why="A diagonal step with pixel values 1e-6 and 0, and the right responses: the scale of "
        "the image does not matter.",
    code={"1.1": "X_diag = 1e-6 * torch.tril(torch.ones(6, 6))\nY_diag = corr2d(X_diag, K)"})

# ---------------- exercise 1: wrong, and degenerate ----------------

sub(name="tiny_scale_zeros_and_negated",
    why="An identity image scaled by 1e-6; Y_diag_Xt is typed in as zeros and Y_diag_Kt is "
        "negated, both within 1e-6 of the right values.",
    fail=["1.2", "1.3"],
    code={
        "1.1": "X_diag = torch.eye(6) * 1e-6\nY_diag = corr2d(X_diag, K)",
        "1.2": "Y_diag_Xt = torch.zeros(6, 5)   # too small to matter",
        "1.3": "Y_diag_Kt = -corr2d(X_diag, K.T)",
    })

sub(name="zero_image",
    why="X_diag is all zeros, and the responses (all zeros) are computed from it: an image "
        "without any edge answers nothing in exercise 1.",
    fail=["1.1", "1.2", "1.3"],
    code={"1.1": "X_diag = torch.zeros(6, 6)\nY_diag = corr2d(X_diag, K)"})

sub(name="steep_line_follow_through",
    why="A line twice as steep as a diagonal (X[i, 2i] = 1) is not a diagonal edge; its "
        "responses are right, so 1.2 and 1.3 get follow-through credit.",
    fail=["1.1"],
    code={"1.1": src('''
        X_diag = torch.zeros(6, 12)
        for i in range(6):
            X_diag[i, 2 * i] = 1.0
        Y_diag = corr2d(X_diag, K)
    ''')})

sub(name="checkerboard_image",
    why="A pixel checkerboard as X_diag: it changes everywhere, along no particular edge.",
    fail=["1.1"],
    code={"1.1": "X_diag = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2 * 1.0\n"
                 "Y_diag = corr2d(X_diag, K)"})

# ---------------- 2.1: degenerate and weak edge detectors ----------------

sub(name="edge_kernel_zeros",
    why="edge_kernel returns a 3x3 kernel of zeros for every v.",
    fail=["2.1"],
    code={"2.1": "def edge_kernel(v):\n    return torch.zeros(3, 3)"})

sub(name="edge_kernel_int_truncated",
    why="A normalised central-difference kernel written into an integer tensor: every weight "
        "is truncated to zero.",
    fail=["2.1"],
    code={"2.1": src('''
        def edge_kernel(v):
            v1, v2 = v
            n = (v1 ** 2 + v2 ** 2) ** 0.5
            k = torch.zeros(3, 3, dtype=torch.int64)
            k[1, 0], k[1, 2] = -v1 / (2 * n), v1 / (2 * n)
            k[0, 1], k[2, 1] = -v2 / (2 * n), v2 / (2 * n)
            return k
    ''')})

sub(name="edge_kernel_huge",
    why="A Sobel kernel whose largest weight is 5e307: the kernel is finite, but its "
        "responses overflow to inf and NaN.",
    fail=["2.1"],
    code={"2.1": src('''
        def edge_kernel(v):
            v1, v2 = v
            sx = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]], dtype=torch.float64)
            return (v1 * sx + v2 * sx.T) / (4 * (abs(v1) + abs(v2))) * 1e308
    ''')})

sub(name="edge_kernel_plus_laplacian",
    why="A central-difference directional derivative plus a full Laplacian: zero on ramps, "
        "but it responds almost as much to edges parallel to v as to edges across it.",
    fail=["2.1"],
    code={"2.1": src('''
        def edge_kernel(v):
            v1, v2 = v
            dx = torch.tensor([[0., 0., 0.], [-0.5, 0., 0.5], [0., 0., 0.]])
            lap = torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])
            # derivative along v, plus a Laplacian to sharpen the response
            return v1 * dx + v2 * dx.T + (v1 ** 2 + v2 ** 2) ** 0.5 * lap
    ''')})

sub(name="edge_kernel_y_up",
    why="Sobel edge kernel with v2 read upwards (rows counted from the bottom, as in a plot): "
        "right under the y-up convention.",
    notes={"2.1": "y-up axis convention"},
    code={"2.1": src('''
        def edge_kernel(v):
            v1, v2 = v   # (x to the right, y upwards)
            sx = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])
            sy_up = torch.tensor([[1., 2., 1.], [0., 0., 0.], [-1., -2., -1.]])
            return v1 * sx + v2 * sy_up
    ''')})

sub(name="edge_kernel_conv_weight",
    why="edge_kernel returns a (1, 1, 3, 3) weight ready for F.conv2d (a Scharr kernel), "
        "and the second-derivative kernel is returned the same way.",
    code={
        "2.1": src('''
            def edge_kernel(v):
                v1, v2 = v
                scharr = torch.tensor([[-3., 0., 3.], [-10., 0., 10.], [-3., 0., 3.]]) / 32
                return (v1 * scharr + v2 * scharr.T).reshape(1, 1, 3, 3)
        '''),
        "2.2": src('''
            def second_derivative_kernel():
                return torch.tensor([[1., -2., 1.]]).reshape(1, 1, 1, 3)

            second_derivative_min_size = 3
        '''),
    })

# ---------------- 2.2 and 2.4: sizes in every container, and degenerate kernels ----------------

sub(name="sizes_as_lists",
    why="second_derivative_min_size = [3] and min_kernel_size returns [d + 1].",
    code={
        "2.2": src('''
            def second_derivative_kernel():
                return torch.tensor([[1., -2., 1.]])

            second_derivative_min_size = [3]
        '''),
        "2.4": "def min_kernel_size(d):\n    return [d + 1]",
    })

sub(name="sizes_as_shapes",
    why="Sizes as kernel shapes: second_derivative_min_size = torch.Size([1, 3]) and "
        "min_kernel_size returns (1, d + 1).",
    code={
        "2.2": src('''
            def second_derivative_kernel():
                return torch.tensor([[1., -2., 1.]])

            second_derivative_min_size = second_derivative_kernel().shape
        '''),
        "2.4": "def min_kernel_size(d):\n    return (1, d + 1)",
    })

sub(name="sizes_as_square_tensors",
    why="Square sizes as tensors: second_derivative_min_size = tensor([3, 3]) and "
        "min_kernel_size returns tensor([d + 1, d + 1]).",
    code={
        "2.2": src('''
            def second_derivative_kernel():
                return torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])

            second_derivative_min_size = torch.tensor([3, 3])
        '''),
        "2.4": "def min_kernel_size(d):\n    return torch.tensor([d + 1, d + 1])",
    })

sub(name="sizes_off_by_one",
    why="min_kernel_size returns (1, d + 2) and second_derivative_min_size = (1, 2).",
    fail=["2.2", "2.4"],
    code={
        "2.2": src('''
            def second_derivative_kernel():
                return torch.tensor([[1., -2., 1.]])

            second_derivative_min_size = (1, 2)
        '''),
        "2.4": "def min_kernel_size(d):\n    return (1, d + 2)",
    })

sub(name="second_derivative_int_truncated",
    why="The second difference scaled by 1/4 (for a step of 2) and cast to int: every weight "
        "is truncated to zero.",
    fail=["2.2"],
    code={"2.2": src('''
        def second_derivative_kernel():
            return (torch.tensor([[1., 0., -2., 0., 1.]]) / 4).int()

        second_derivative_min_size = 3
    ''')})

sub(name="second_derivative_huge",
    why="The second difference scaled by 5e307 in float64: finite weights whose responses "
        "overflow.",
    fail=["2.2"],
    code={"2.2": src('''
        def second_derivative_kernel():
            return 5e307 * torch.tensor([[1., -2., 1.]], dtype=torch.float64)

        second_derivative_min_size = 3
    ''')})

# ---------------- 2.3: blurs that are not local or not low-pass, and unusual right ones ----------------

sub(name="blur_split_corners",
    why="blur_kernel puts half its weight in each of two opposite corners: non-negative, sums "
        "to 1, reduces noise, but it is not local.",
    fail=["2.3"],
    code={"2.3": src('''
        def blur_kernel(size, sigma):
            k = torch.zeros(size, size)
            k[0, 0] = k[-1, -1] = 0.5   # average of two distant pixels
            return k
    ''')})

sub(name="blur_checkerboard_weights",
    why="blur_kernel spreads equal weights over the pixels of one checkerboard colour: it "
        "keeps a checkerboard image intact instead of smoothing it.",
    fail=["2.3"],
    code={"2.3": src('''
        def blur_kernel(size, sigma):
            i = torch.arange(size)
            k = ((i[:, None] + i[None, :]) % 2 == 0).float()
            return k / k.sum()
    ''')})

sub(name="blur_ring",
    why="blur_kernel averages only the border of the window (a ring), ignoring the centre.",
    fail=["2.3"],
    code={"2.3": src('''
        def blur_kernel(size, sigma):
            k = torch.ones(size, size)
            k[1:-1, 1:-1] = 0
            return k / k.sum()
    ''')})

sub(name="blur_4d_narrow_gaussian",
    why="A Gaussian written as exp(-r^2 / sigma^2) (no factor 2) and returned with batch and "
        "channel axes, shape (1, 1, size, size): a narrower blur, but a blur.",
    code={"2.3": src('''
        def blur_kernel(size, sigma):
            r = torch.arange(size) - size // 2
            g = torch.exp(-r.float() ** 2 / sigma ** 2)
            k = g[:, None] * g[None, :]
            return (k / k.sum())[None, None]
    ''')})

# ---------------- 3: messages in every form, and answers that are not the message ----------------

sub(name="autograd_args_tuple",
    why="autograd_error = e.args, the exception's arguments (a tuple holding the message).",
    code={"3": src('''
        try:
            Conv2D((1, 2))(torch.eye(4)).backward()
        except RuntimeError as e:
            autograd_error = e.args
    ''')})

sub(name="autograd_traceback_text",
    why="autograd_error is the whole traceback text from traceback.format_exc().",
    code={"3": src('''
        import traceback

        try:
            Conv2D((1, 2))(torch.eye(4)).backward()
        except RuntimeError:
            autograd_error = traceback.format_exc()
    ''')})

sub(name="autograd_repr_upper",
    why="autograd_error is repr(e) in upper case: RUNTIMEERROR('GRAD CAN BE ...').",
    code={"3": src('''
        try:
            Conv2D((1, 2))(torch.eye(4)).backward()
        except RuntimeError as e:
            autograd_error = repr(e).upper()
    ''')})

sub(name="autograd_guesses",
    why="autograd_error lists two candidate messages, one of them right.",
    fail=["3"],
    code={"3": src('''
        autograd_error = ["grad can be implicitly created only for scalar outputs",
                          "element 0 of tensors does not require grad and does not have a grad_fn"]
    ''')})

sub(name="autograd_no_error_sentence",
    why="autograd_error is a sentence saying no error occurs, quoting the message.",
    fail=["3"],
    code={"3": 'autograd_error = ("No error: backward() works here, the error grad can be '
               'implicitly created only for scalar outputs only happens without a sum")'})

# ---------------- 4: matrix products that are not, integer matrices, unusual right ones ----------------

MATMUL_KERNEL_MATRIX = MODEL["4"].split("def corr2d_matmul")[0]

sub(name="matmul_calls_corr2d",
    why="kernel_matrix is right, but corr2d_matmul just calls corr2d: no matrix product.",
    fail=["4"], without_source={"4": "pass"},
    code={"4": MATMUL_KERNEL_MATRIX + src('''
        def corr2d_matmul(X, K):
            W = kernel_matrix(K, X.shape)   # built, but not used
            return corr2d(X, K)
    ''')})

sub(name="matmul_calls_conv2d",
    why="kernel_matrix is right, but corr2d_matmul uses F.conv2d: no matrix product.",
    fail=["4"], without_source={"4": "pass"},
    code={"4": "import torch.nn.functional as F\n\n\n" + MATMUL_KERNEL_MATRIX + src('''
        def corr2d_matmul(X, K):
            return F.conv2d(X[None, None].float(), K[None, None].float())[0, 0]
    ''')})

sub(name="matmul_dot_per_pixel",
    why="corr2d_matmul takes one dot product (@) per output pixel in a loop: corr2d again, "
        "not the kernel matrix's product.",
    fail=["4"], without_source={"4": "pass"},
    code={"4": MATMUL_KERNEL_MATRIX + src('''
        def corr2d_matmul(X, K):
            h, w = K.shape
            Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = X[i:i + h, j:j + w].reshape(-1) @ K.reshape(-1)
            return Y
    ''')})

sub(name="kernel_matrix_int_dtype",
    why="kernel_matrix fills an int64 matrix, so fractional kernel weights are truncated; "
        "corr2d_matmul multiplies by it.",
    fail=["4"],
    code={"4": src('''
        def kernel_matrix(K, shape):
            h, w = K.shape
            H, W = shape
            oh, ow = H - h + 1, W - w + 1
            M = torch.zeros(oh * ow, H * W, dtype=torch.long)
            for i in range(oh):
                for j in range(ow):
                    for a in range(h):
                        M[i * ow + j, (i + a) * W + j:(i + a) * W + j + w] = K[a]
            return M


        def corr2d_matmul(X, K):
            M = kernel_matrix(K, X.shape).float()
            return (M @ X.reshape(-1)).reshape(X.shape[0] - K.shape[0] + 1, -1)
    ''')})

sub(name="corr2d_matmul_rounds_input",
    why="corr2d_matmul casts X to integers before the product (it was only tried on integer "
        "images).",
    fail=["4"],
    code={"4": MATMUL_KERNEL_MATRIX + src('''
        def corr2d_matmul(X, K):
            W = kernel_matrix(K, X.shape)
            x = X.reshape(-1).long().float()
            return (W @ x).reshape(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)
    ''')})

sub(name="matmul_rows_einsum_numpy",
    why="kernel_matrix in numpy from a sliding index, and corr2d_matmul as np.einsum over the "
        "matrix's rows: a matrix product written unusually.",
    code={"4": src('''
        import numpy as np


        def kernel_matrix(K, shape):
            K = np.asarray(K, dtype=np.float64)
            kh, kw = K.shape
            H, W = shape
            rows = []
            for i in range(H - kh + 1):
                for j in range(W - kw + 1):
                    image = np.zeros((H, W))
                    image[i:i + kh, j:j + kw] = K
                    rows.append(image.ravel())
            return np.stack(rows)


        def corr2d_matmul(X, K):
            M = kernel_matrix(K, tuple(X.shape))
            y = np.einsum("ij,j->i", M, np.asarray(X, dtype=np.float64).ravel())
            return y.reshape(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)
    ''')})


# --- building ----------------------------------------------------------------------------------

def _code_cell(spec) -> nbformat.NotebookNode:
    if isinstance(spec, dict):
        cell = new_code_cell(spec["source"], execution_count=spec["execution_count"])
        outputs = []
        for text in spec["outputs"]:
            if text.startswith("Out:"):
                outputs.append(new_output("execute_result", data={"text/plain": text[4:]},
                                          execution_count=spec["execution_count"]))
            else:
                outputs.append(new_output("stream", name="stdout", text=text))
        cell.outputs = outputs
        return cell
    return new_code_cell(spec)


def build(entry: dict) -> nbformat.NotebookNode:
    base = TEMPLATE if entry.get("base", "model") == "template" else MODEL
    code = {**base, **entry.get("code", {})}
    answers = {**ANSWERS, **entry.get("answers", {})}
    cells = []
    for item in entry.get("layout", LAYOUT):
        kind = item[0]
        if kind == "text":
            cells.append(new_markdown_cell(TEXT[item[1]]))
        elif kind == "given":
            cells.append(new_code_cell(GIVEN[item[1]]))
        elif kind == "code":
            specs = code[item[1]]
            for spec in specs if isinstance(specs, list) else [specs]:
                cells.append(_code_cell(spec))
        elif kind == "answer":
            text = answers[item[1]]
            cell = new_markdown_cell(PLACEHOLDER if text is None else text)
            cell.metadata["tags"] = [f"answer-{item[1]}"]
            cells.append(cell)
        elif kind == "extra":
            cells.extend(_code_cell(spec) for spec in entry.get("extra", []))
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:02d}"   # stable ids keep regenerated files identical

    fails = set(entry.get("fail", []))
    unknown = fails - set(QUESTIONS)
    if unknown:
        raise ValueError(f"{entry['name']}: unknown questions {sorted(unknown)}")
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["grader"] = {"pack": "conv-layer"}
    nb.metadata["grader_test"] = {
        "expected": {q: ("fail" if q in fails else "pass") for q in QUESTIONS},
        "why": entry["why"],
        "notes": dict(entry.get("notes", {})),
    }
    if entry.get("without_source"):
        # verdicts when the grader gives the checks no `source` (values judged only)
        nb.metadata["grader_test"]["without_source"] = dict(entry["without_source"])
    nbformat.validate(nb)
    return nb


def main() -> None:
    names = [entry["name"] for entry in SUBMISSIONS]
    if len(names) != len(set(names)):
        raise SystemExit("duplicate submission names")
    wanted = {f"{name}.ipynb" for name in names}
    for old in HERE.glob("*.ipynb"):
        if old.name not in wanted:
            old.unlink()
    for entry in SUBMISSIONS:
        nbformat.write(build(entry), HERE / f"{entry['name']}.ipynb")
    print(f"wrote {len(SUBMISSIONS)} notebooks to {HERE}")


if __name__ == "__main__":
    main()
