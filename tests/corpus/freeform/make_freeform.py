"""Generate the free-form corpus: D2L "Convolutions for Images" notebooks written the way
students really write them (no template, no `grader` metadata), each with an expert's verdict
per question.

Run from anywhere:  .venv/bin/python tests/corpus/freeform/make_freeform.py
It (re)writes one `<name>.ipynb` per entry of NOTEBOOKS next to this file and deletes any other
notebook in this folder. Only nbformat and the standard library are used; cell ids are fixed,
so the output is the same on every run.

Each notebook carries, and nothing else of the grader's:
    metadata["grader_test"] = {
        "freeform_expected": {question: "right" | "wrong" | "review" | "absent"},
        "style": "...", "numbering": "current" | "old",
        "notes": {question: why the verdict is what it is},
        "expected_errors": [{"cell": index, "ename": "NameError"}, ...],   # cells meant to fail
    }
Questions use the current English numbering ("1.1" ... "2.4", "3", "4") whatever the notebook's
own numbering; in the older / Chinese edition 2 is autograd (-> "3"), 3 is the matmul (-> "4"),
4 the hand-made kernels (-> "2.2", "2.4"), and 2.1 / 2.3 do not exist (always "absent").

A notebook is a list of cells built with md(), code() and stale(). code(..., probe=...) names an
expression that check_freeform.py evaluates right after that cell (in a cell it inserts into its
own executed copy; the probe never appears in the written notebook) to re-derive the right/wrong
verdicts with the pack's reference solution.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

HERE = Path(__file__).resolve().parent
QUESTIONS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "3", "4"]
VERDICTS = {"right", "wrong", "review", "absent"}


def S(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# --- cells -----------------------------------------------------------------------------------

def md(text: str) -> dict:
    return {"kind": "markdown", "source": S(text)}


def code(text: str, *, raises: str | None = None, probe: str | None = None,
         outputs: list | None = None, count: int | None = None) -> dict:
    """A code cell. raises: the exception the cell is meant to end with when re-executed.
    outputs: saved outputs in the file (stale or forged), built with out()/err()/stream()."""
    return {"kind": "code", "source": S(text), "raises": raises, "probe": probe,
            "outputs": outputs or [], "count": count}


def out(text: str) -> dict:
    return {"output_type": "execute_result", "text": S(text)}


def stream(text: str) -> dict:
    return {"output_type": "stream", "text": S(text) + "\n"}


def err(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue}


# --- code students copy from the section ------------------------------------------------------

CORR2D = '''
def corr2d(X, K):  #@save
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
'''

CORR2D_ZH = '''
def corr2d(X, K):  #@save
    """计算二维互相关运算"""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
'''

CONV2D = '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias
'''

CONV2D_D2L = CONV2D.replace("return corr2d(", "return d2l.corr2d(")

SECTION_X = '''
X = torch.ones((6, 8))
X[:, 2:6] = 0
X
'''

LEARN = '''
# Construct a two-dimensional convolutional layer with 1 output channel and a
# kernel of shape (1, 2). For the sake of simplicity, we ignore the bias here
conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)

# The two-dimensional convolutional layer uses four-dimensional input and
# output in the format of (example, channel, height, width), where the batch
# size (number of examples in the batch) and the number of channels are both 1
X = X.reshape((1, 1, 6, 8))
Y = Y.reshape((1, 1, 6, 7))
lr = 3e-2  # Learning rate

for i in range(10):
    Y_hat = conv2d(X)
    l = (Y_hat - Y) ** 2
    conv2d.zero_grad()
    l.sum().backward()
    # Update the kernel
    conv2d.weight.data[:] -= lr * conv2d.weight.grad
    if (i + 1) % 2 == 0:
        print(f'epoch {i + 1}, loss {l.sum():.3f}')
'''


# --- the notebooks ---------------------------------------------------------------------------

NOTEBOOKS: list[dict] = []


def notebook(name: str, style: str, expected: dict, cells: list, *, numbering: str = "current",
             notes: dict | None = None) -> None:
    assert set(expected) == set(QUESTIONS), name
    assert set(expected.values()) <= VERDICTS, name
    if numbering == "old":
        assert expected["2.1"] == expected["2.3"] == "absent", name
    NOTEBOOKS.append({"name": name, "style": style, "expected": expected, "cells": cells,
                      "numbering": numbering, "notes": notes or {}})


def verdicts(s: str) -> dict:
    """'R R W v a ...' in QUESTIONS order: Right, Wrong (W), review (v), absent (a)."""
    letters = s.split()
    assert len(letters) == len(QUESTIONS), s
    word = {"R": "right", "W": "wrong", "v": "review", "a": "absent"}
    return {q: word[x] for q, x in zip(QUESTIONS, letters)}


# 1 ------------------------------------------------------------------------------------------
notebook(
    "en_printed_only_complete",
    "English, current numbering (1.1-4); every question answered correctly; responses only as "
    "bare `corr2d(...)` expressions; X reassigned 5 times (one diagonal); `!pip install` line",
    verdicts("R R R R R R R R R"),
    [
        md("# 7.2 Convolutions for Images: exercises\n\nStudent: J. Doe"),
        code("!pip install d2l==1.0.3"),
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D),
        code(SECTION_X),
        code("""
            K = torch.tensor([[1.0, -1.0]])
            Y = corr2d(X, K)
            Y
            """),
        md("## Exercise 1\n\n### 1.1 An image with a diagonal edge\n\nLower triangle of ones, "
           "so the edge runs along the diagonal."),
        code("""
            X = torch.tril(torch.ones(6, 6))
            X
            """),
        code("corr2d(X, K)", probe='__probe("1.1", X=X, Y_K=_)'),
        md("K only fires right next to the diagonal: every row has a single -1 where the ones "
           "stop, so the output is a diagonal line."),
        md("### 1.2 Transpose X"),
        code("corr2d(X.T, K)", probe='__probe("1.2", X=X, Y_XT=_)'),
        md("Now the ones are in the upper triangle and the line has +1 instead of -1."),
        md("### 1.3 Transpose K"),
        code("corr2d(X, K.T)", probe='__probe("1.3", X=X, Y_KT=_)'),
        md("K.T takes vertical differences; the diagonal is still found, output is 5x6."),
        md("## Exercise 2\n\n### 2.1 Edge detector for a direction v"),
        code("""
            def edge_detector(v):
                v1, v2 = v
                dx = torch.tensor([[0., 0., 0.], [-0.5, 0., 0.5], [0., 0., 0.]])
                dy = dx.T
                return v1 * dx + v2 * dy

            edge_detector((1, 0))
            """, probe='__probe("2.1", edge=__calls("edge", edge_detector))'),
        md("### 2.2 Second derivative\n\nThe second derivative needs at least 3 pixels: "
           "f(x+1) - 2f(x) + f(x-1). The integral would be a kernel of ones (a running sum), "
           "as big as the image."),
        code("""
            lap = torch.tensor([[0., 1., 0.],
                                [1., -4., 1.],
                                [0., 1., 0.]])
            X = torch.arange(36.).reshape(6, 6) ** 2 / 10   # quadratic test image
            corr2d(X, lap)
            """, probe='__probe("2.2", second=lap)'),
        md("### 2.3 Blur"),
        code("""
            def gaussian(size, sigma):
                r = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
                g = torch.exp(-r ** 2 / (2 * sigma ** 2))
                k = torch.outer(g, g)
                return k / k.sum()

            gaussian(5, 1.0)
            """, probe='__probe("2.3", blur=__calls("blur", gaussian))'),
        md("Blurring removes pixel noise before we take derivatives."),
        md("### 2.4 Derivative of order d"),
        code("""
            def min_size(d):
                return d + 1

            [min_size(d) for d in range(1, 6)]
            """, probe='__probe("2.4", size=__calls("size", min_size))'),
        md("## Exercise 3"),
        code(CONV2D),
        code("""
            conv = Conv2D(kernel_size=(1, 2))
            X = torch.ones((6, 8))
            X[:, 2:6] = 0
            Y = conv(X)
            Y.backward()
            """, raises="RuntimeError", probe="@error 3"),
        md("Autograd complains because Y is not a scalar."),
        md("## Exercise 4"),
        code("""
            def corr2d_matmul(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros((oh * ow, h * w))
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            for b in range(kw):
                                W[i * ow + j, (i + a) * w + (j + b)] = K[a, b]
                return (W @ X.reshape(-1)).reshape(oh, ow)

            X = torch.rand(5, 7)
            K2 = torch.rand(2, 3)
            print(torch.allclose(corr2d_matmul(X, K2), corr2d(X, K2)))
            """, probe='__probe("4", matmul=__calls("matmul", corr2d_matmul))'),
    ],
    notes={"3": "the uncaught RuntimeError of Y.backward() is the answer",
           "2.2": "Laplacian in a variable; minimum size 3 stated in prose"},
)

# 2 ------------------------------------------------------------------------------------------
notebook(
    "en_conv2d_renamed_then_shadowed",
    "English, current numbering; the section's corr2d renamed `conv2d`, later shadowed by "
    "`conv2d = nn.Conv2d(...)`; stencil and sizes in markdown; matmul as `conv_by_mat`; "
    "`%pip install` line",
    verdicts("R R R a v v v R R"),
    [
        md("# Convolutions for Images (d2l 7.2), my answers"),
        code("%pip install d2l==1.0.3 --quiet"),
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code('''
            def conv2d(X, K):
                """2D cross-correlation (I call it conv2d)"""
                h, w = K.shape
                Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
                for i in range(Y.shape[0]):
                    for j in range(Y.shape[1]):
                        Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
                return Y
            '''),
        code("""
            X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
            K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
            conv2d(X, K)
            """),
        md("## Exercise 1"),
        code("""
            X = torch.zeros((7, 7))
            for i in range(7):
                X[i, :i] = 1.0   # everything below the diagonal is 1
            K = torch.tensor([[1.0, -1.0]])
            print(X)
            print(conv2d(X, K))
            """, probe='__probe("1.1", X=X, Y_K=conv2d(X, K))'),
        code("print(conv2d(X.T, K))", probe='__probe("1.2", X=X, Y_XT=conv2d(X.T, K))'),
        code("print(conv2d(X, K.T))", probe='__probe("1.3", X=X, Y_KT=conv2d(X, K.T))'),
        md("With K the edge shows up as a diagonal of -1 (+1 after transposing X, the sides "
           "swap). K.T also finds it, the output is 6x7."),
        md("## Learning a kernel (from the section)"),
        code("""
            X = torch.ones((6, 8))
            X[:, 2:6] = 0
            Y = conv2d(X, K)
            """),
        code(LEARN),
        code("conv2d.weight.data.reshape((1, 2))"),
        md("""
            ## Exercise 2

            **2.2** Second derivative stencil:

            ```
             1  -2   1
            ```

            minimum size 3. For the integral you would need a kernel of ones as wide as the image.

            **2.3** Blur with the mean of the 3x3 neighbourhood, to get rid of noise.

            **2.4** For a derivative of order d you need d+1 pixels.
            """),
        md("## Exercise 3"),
        code("""
            class Conv2D(nn.Module):
                def __init__(self, kernel_size):
                    super().__init__()
                    self.weight = nn.Parameter(torch.rand(kernel_size))
                    self.bias = nn.Parameter(torch.zeros(1))

                def forward(self, x):
                    return d2l.corr2d(x, self.weight) + self.bias

            layer = Conv2D((1, 2))
            out = layer(torch.ones((6, 8)))
            try:
                out.backward()
            except RuntimeError as e:
                print("Error:", e)
            """, probe="@output 3"),
        md("## Exercise 4"),
        code("""
            def conv_by_mat(X, K):
                # unroll the kernel into a (out_h*out_w, h*w) matrix
                h, w = X.shape
                kh, kw = K.shape
                out_h, out_w = h - kh + 1, w - kw + 1
                M = torch.zeros(out_h * out_w, h * w)
                for r in range(out_h):
                    for c in range(out_w):
                        row = torch.zeros(h, w)
                        row[r:r + kh, c:c + kw] = K
                        M[r * out_w + c] = row.reshape(-1)
                return (M @ X.reshape(-1)).reshape(out_h, out_w)

            X = torch.randn(4, 5)
            K = torch.randn(2, 2)
            conv_by_mat(X, K) - d2l.corr2d(X, K)
            """, probe='__probe("4", matmul=__calls("matmul", conv_by_mat))'),
    ],
    notes={"2.2": "stencil and size written in markdown only",
           "2.3": "prose only (mean filter, to remove noise), no kernel in code",
           "2.4": "'d+1' in prose",
           "3": "caught exception printed: 'Error: grad can be implicitly created only for "
                "scalar outputs'"},
)

# 3 ------------------------------------------------------------------------------------------
notebook(
    "en_torchvision_rotate_unfold",
    "English, numbering '## 1.' '## 3.' '## 4.'; torchvision `transforms.functional.rotate` "
    "builds the image (a rejected 45-degree rotation, then the identity rotated by 90); "
    "autograd answered in a sentence; matmul with `F.unfold`",
    verdicts("R R R a a a a v R"),
    [
        md("# HW 5: conv layer exercises"),
        code("""
            import torch
            import torch.nn.functional as F
            from torchvision import transforms
            from d2l import torch as d2l
            import matplotlib.pyplot as plt
            """),
        md("## 1. Diagonal edges"),
        code("""
            # start from the section's vertical edge and rotate it
            X = torch.ones((8, 8))
            X[:, 4:] = 0
            X_rot = transforms.functional.rotate(X.unsqueeze(0), 45).squeeze(0)
            plt.imshow(X_rot, cmap='gray')
            """),
        md("The rotated step has black corners from the rotation, so I use the anti-diagonal "
           "instead (the identity rotated by 90 degrees)."),
        code("""
            X = transforms.functional.rotate(torch.eye(8).unsqueeze(0), 90).squeeze(0)
            X
            """),
        code("""
            K = torch.tensor([[1.0, -1.0]])
            d2l.corr2d(X, K)
            """, probe='__probe("1.1", X=X, Y_K=_)'),
        code("d2l.corr2d(X.T, K)", probe='__probe("1.2", X=X, Y_XT=_)'),
        code("d2l.corr2d(X, K.T)", probe='__probe("1.3", X=X, Y_KT=_)'),
        md("Transposing X changes nothing here (the anti-diagonal is symmetric). Transposing K "
           "gives the same pattern but one row shorter."),
        md("## 3. Autograd\n\nIf we try to get the gradient of our Conv2D, autograd throws "
           "`RuntimeError: grad can be implicitly created only for scalar outputs` because the "
           "output is a matrix; we need to call `.sum()` first."),
        md("## 4. Cross-correlation as a matrix multiplication (unfold)"),
        code("""
            def corr2d_unfold(X, K):
                h, w = X.shape
                kh, kw = K.shape
                cols = F.unfold(X.reshape(1, 1, h, w), kernel_size=(kh, kw))  # (1, kh*kw, L)
                Y = K.reshape(1, -1) @ cols
                return Y.reshape(h - kh + 1, w - kw + 1)

            X = torch.rand(6, 7)
            K = torch.rand(3, 2)
            torch.allclose(corr2d_unfold(X, K), d2l.corr2d(X, K), atol=1e-6)
            """, probe='__probe("4", matmul=__calls("matmul", corr2d_unfold))'),
    ],
    notes={"1.1": "the 45-degree rotation (X_rot) is shown but not used; the answer is the "
                  "anti-diagonal made with rotate(eye, 90)",
           "3": "a sentence (with the right message), nothing executed"},
)

# 4 ------------------------------------------------------------------------------------------
notebook(
    "en_wrong_sizes_and_blur",
    "English, numbering '**1.**' '**2.**' '**3.**'; all three responses printed in one cell; "
    "2.1 detects edges parallel to v, 2.3 unnormalised box, 2.4 returns 2d+1",
    verdicts("R R R W R W W R a"),
    [
        md("# Exercises 7.2.8"),
        code("""
            from d2l import torch as d2l
            import torch
            from torch import nn
            """),
        code(CORR2D),
        md("**1.** Image with diagonal edges"),
        code("""
            X = torch.triu(torch.ones(6, 6))
            K = torch.tensor([[1., -1.]])
            print(corr2d(X, K))
            print(corr2d(X.T, K))
            print(corr2d(X, K.T))
            """, probe='__probe("1.1", X=X, Y_K=corr2d(X, K), Y_XT=corr2d(X.T, K), '
                       'Y_KT=corr2d(X, K.T))'),
        md("The diagonal shows up in all three; with K.T the output is 5x6."),
        md("**2.** Designing kernels"),
        code('''
            def direction_kernel(v):
                """Edge detector for direction v = (v1, v2)."""
                v1, v2 = v
                gx = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])
                gy = gx.T
                # rotate the gradient so it points along v
                return -v2 * gx + v1 * gy

            direction_kernel((1., 1.))
            ''', probe='__probe("2.1", edge=__calls("edge", direction_kernel))'),
        code("""
            d2_kernel = torch.tensor([[1., -2., 1.]])
            second_derivative_min_size = 3
            x = torch.arange(8.)
            img = (x ** 2).repeat(4, 1)
            corr2d(img, d2_kernel)
            """, probe='__probe("2.2", second=d2_kernel, min_size=second_derivative_min_size)'),
        code("""
            def blur(size, sigma=1.0):
                # box blur
                return torch.ones((size, size))

            corr2d(torch.rand(6, 6), blur(3))
            """, probe='__probe("2.3", blur=__calls("blur", blur))'),
        code("""
            def kernel_size(d):
                # need d points on each side of the centre
                return 2 * d + 1

            kernel_size(1), kernel_size(2)
            """, probe='__probe("2.4", size=__calls("size", kernel_size))'),
        md("**3.**"),
        code(CONV2D + "\n" + S("""
            conv = Conv2D((1, 2))
            try:
                torch.autograd.grad(conv(X), conv.weight)
            except Exception as err:
                print(type(err).__name__, err)
            """), probe="@output 3"),
    ],
    notes={"2.1": "-v2*gx + v1*gy differentiates along the edge (orthogonal to v): responds "
                  "to edges parallel to v",
           "2.3": "torch.ones((size, size)) is not normalised (sums to size**2)",
           "2.4": "2d+1 instead of d+1",
           "3": "torch.autograd.grad on a non-scalar output, caught and printed"},
)

# 5 ------------------------------------------------------------------------------------------
notebook(
    "en_corner_block_called_diagonal",
    "English, numbering '### Q1'..'### Q4'; the 'diagonal' image is a dark corner block (only "
    "horizontal and vertical edges); autograd claim 'it works after sum()'; matmul "
    "`matmul_corr2d` that only uses the kernel's first row; 2.4 '2d+1' in prose",
    verdicts("W R R a a a v v W"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code("K = torch.tensor([[1.0, -1.0]])"),
        md("### Q1 diagonal edges"),
        code("""
            X = torch.ones((6, 6))
            X[3:, 3:] = 0  # dark block in the corner -> diagonal edge
            X
            """),
        code("d2l.corr2d(X, K)", probe='__probe("1.1", X=X, Y_K=_)'),
        code("d2l.corr2d(X.t(), K)", probe='__probe("1.2", X=X, Y_XT=_)'),
        code("d2l.corr2d(X, K.t())", probe='__probe("1.3", X=X, Y_KT=_)'),
        md("All three just detect the corner of the block."),
        md("### Q2\n\n2.4: the kernel for a d-th derivative needs to be 2d+1 wide (d on each "
           "side)."),
        md("### Q3 autograd"),
        code("""
            class Conv2D(nn.Module):
                def __init__(self, kernel_size):
                    super().__init__()
                    self.weight = nn.Parameter(torch.rand(kernel_size))
                    self.bias = nn.Parameter(torch.zeros(1))

                def forward(self, x):
                    return d2l.corr2d(x, self.weight) + self.bias

            conv = Conv2D(kernel_size=(1, 2))
            Y = conv(X)
            Y.sum().backward()
            conv.weight.grad
            """),
        md("It works after sum(), autograd has no problem with our Conv2D."),
        md("### Q4"),
        code("""
            def matmul_corr2d(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        start = i * w + j
                        W[i * ow + j, start:start + kw] = K[0]
                return (W @ X.reshape(-1)).reshape(oh, ow)

            X = torch.rand(5, 5)
            print(torch.allclose(matmul_corr2d(X, K), d2l.corr2d(X, K)))
            """, probe='__probe("4", matmul=__calls("matmul", matmul_corr2d))'),
    ],
    notes={"1.1": "X has only a horizontal and a vertical edge (a corner), no diagonal",
           "1.2": "response correct for the student's own image (diagonality is judged in 1.1 "
                  "only, as in the template checks)",
           "1.3": "as 1.2",
           "3": "claims autograd works after summing; prose, for the instructor",
           "4": "only K[0] is placed: right for the 1x2 kernel it is tested with, wrong for "
                "kernels with more than one row"},
)

# 6 ------------------------------------------------------------------------------------------
notebook(
    "en_nameerror_midway",
    "English, numbering '## 1.1' '## 1.3' '## 2.4' '## 4'; 1.2's cell fails with a NameError "
    "(typo `k`) but keeps a saved output; the matmul function fails with a NameError when "
    "called",
    verdicts("R v R a a a R a v"),
    [
        code("""
            from d2l import torch as d2l
            import torch
            """),
        code(CORR2D),
        md("## 1.1"),
        code("""
            X = torch.zeros((7, 7))
            for i in range(7):
                X[i, i:] = 1   # ones on and above the diagonal
            K = torch.tensor([[1.0, -1.0]])
            corr2d(X, K)
            """, probe='__probe("1.1", X=X, Y_K=_)'),
        md("## 1.2"),
        code("corr2d(X.t(), k)", raises="NameError", count=4, outputs=[out("""
            tensor([[ 0.,  0.,  0.,  0.,  0.,  0.],
                    [-1.,  0.,  0.,  0.,  0.,  0.],
                    [ 0., -1.,  0.,  0.,  0.,  0.],
                    [ 0.,  0., -1.,  0.,  0.,  0.],
                    [ 0.,  0.,  0., -1.,  0.,  0.],
                    [ 0.,  0.,  0.,  0., -1.,  0.],
                    [ 0.,  0.,  0.,  0.,  0., -1.]])
            """)]),
        md("## 1.3"),
        code("""
            Y3 = corr2d(X, K.T)
            Y3
            """, probe='__probe("1.3", X=X, Y_KT=Y3)'),
        md("## 2.4"),
        code("""
            def kernel_size_for_order(d):
                return d + 1

            print([kernel_size_for_order(d) for d in range(1, 5)])
            """, probe='__probe("2.4", size=__calls("size", kernel_size_for_order))'),
        md("## 4"),
        code("""
            def matmul_corr2d(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kernel_h + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            W[i * ow + j, (i + a) * w + j:(i + a) * w + j + kw] = K[a]
                return (W @ X.reshape(-1)).reshape(oh, ow)
            """),
        code("""
            Y = matmul_corr2d(X, K)
            print(Y)
            """, raises="NameError"),
    ],
    notes={"1.2": "the cell raises NameError (k); the saved output is unverifiable",
           "4": "matmul_corr2d raises NameError (kernel_h) on every call: code that does not "
                "run"},
)

# 7 ------------------------------------------------------------------------------------------
FORGED_DIAG = """
tensor([[0., 1., 1., 1., 1., 1.],
        [0., 0., 1., 1., 1., 1.],
        [0., 0., 0., 1., 1., 1.],
        [0., 0., 0., 0., 1., 1.],
        [0., 0., 0., 0., 0., 1.],
        [0., 0., 0., 0., 0., 0.]])
"""
notebook(
    "en_forged_outputs",
    "English, numbering '## 1.' '## 3.' '## 4.'; saved outputs forged: they show a diagonal "
    "image and its responses, an autograd error and a passing matmul test, while the code "
    "uses the section's vertical-edge image, sums before backward() and has a matmul bug",
    verdicts("W R R a a a a v W"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """, count=1),
        md("# Exercises\n\n## 1. Diagonal edges"),
        code("""
            X = torch.ones((6, 8))
            X[:, 2:6] = 0
            X  # diagonal edge image
            """, count=2, outputs=[out(FORGED_DIAG)]),
        code("""
            K = torch.tensor([[1.0, -1.0]])
            d2l.corr2d(X, K)
            """, count=3, probe='__probe("1.1", X=X, Y_K=_)', outputs=[out("""
            tensor([[-1.,  0.,  0.,  0.,  0.],
                    [ 0., -1.,  0.,  0.,  0.],
                    [ 0.,  0., -1.,  0.,  0.],
                    [ 0.,  0.,  0., -1.,  0.],
                    [ 0.,  0.,  0.,  0., -1.],
                    [ 0.,  0.,  0.,  0.,  0.]])
            """)]),
        code("d2l.corr2d(X.T, K)", count=4, probe='__probe("1.2", X=X, Y_XT=_)',
             outputs=[out("""
            tensor([[ 0.,  0.,  0.,  0.,  0.],
                    [ 1.,  0.,  0.,  0.,  0.],
                    [ 0.,  1.,  0.,  0.,  0.],
                    [ 0.,  0.,  1.,  0.,  0.],
                    [ 0.,  0.,  0.,  1.,  0.],
                    [ 0.,  0.,  0.,  0.,  1.]])
            """)]),
        code("d2l.corr2d(X, K.T)", count=5, probe='__probe("1.3", X=X, Y_KT=_)',
             outputs=[out("""
            tensor([[-1.,  0.,  0.,  0.,  0.,  0.],
                    [ 0., -1.,  0.,  0.,  0.,  0.],
                    [ 0.,  0., -1.,  0.,  0.,  0.],
                    [ 0.,  0.,  0., -1.,  0.,  0.],
                    [ 0.,  0.,  0.,  0., -1.,  0.]])
            """)]),
        md("## 3. Autograd"),
        code(CONV2D_D2L, count=6),
        code("""
            conv = Conv2D((1, 2))
            Y = conv(X)
            Y.sum().backward()
            print(conv.weight.grad)
            """, count=7, outputs=[err("RuntimeError",
                                       "grad can be implicitly created only for scalar outputs")]),
        md("## 4. Matrix multiplication"),
        code("""
            def corr2d_matmul(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            for b in range(kw):
                                W[i * ow + j, (i + a) * w + j + b] = K[a, b]
                return (W @ X.t().reshape(-1)).reshape(oh, ow)
            """, count=8),
        code("""
            X = torch.rand(4, 4)
            K = torch.rand(2, 2)
            print(torch.allclose(corr2d_matmul(X, K), d2l.corr2d(X, K)))
            """, count=9, probe='__probe("4", matmul=__calls("matmul", corr2d_matmul))',
             outputs=[stream("True")]),
    ],
    notes={"1.1": "the code's X is the section's 6x8 vertical-edge image; the saved outputs "
                  "(a diagonal) are forged",
           "1.2": "re-executed response is correct for the code's X (template-check rubric)",
           "1.3": "as 1.2",
           "3": "only a forged saved error; the code sums first and runs without error",
           "4": "multiplies by X.t() flattened: wrong for any non-symmetric X; the saved "
                "'True' is forged"},
)

# 8 ------------------------------------------------------------------------------------------
notebook(
    "en_d2l_in_every_cell",
    "English, numbering '1.1'..'3' in bold; `from d2l import torch as d2l` at the top of every "
    "cell; only `d2l.corr2d` is used (no own corr2d); `d2l.plt` to show the image; Sobel-based "
    "edge kernel and a Gaussian blur",
    verdicts("R R R R a R a R a"),
    [
        md("# Conv layer exercises"),
        md("**1.1** diagonal edge"),
        code("""
            from d2l import torch as d2l
            import torch
            X = torch.tril(torch.ones(5, 5))
            K = torch.tensor([[1.0, -1.0]])
            d2l.set_figsize((3, 3))
            d2l.plt.imshow(X, cmap='gray')
            d2l.corr2d(X, K)
            """, probe='__probe("1.1", X=X, Y_K=_)'),
        md("**1.2** X transposed"),
        code("""
            from d2l import torch as d2l
            d2l.corr2d(X.T, K)
            """, probe='__probe("1.2", X=X, Y_XT=_)'),
        md("**1.3** K transposed"),
        code("""
            from d2l import torch as d2l
            d2l.corr2d(X, K.T)
            """, probe='__probe("1.3", X=X, Y_KT=_)'),
        md("**2.1** edges orthogonal to v"),
        code("""
            from d2l import torch as d2l
            import torch

            def edge_kernel(v):
                sobel_x = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])
                sobel_y = sobel_x.T
                return v[0] * sobel_x + v[1] * sobel_y

            img = torch.zeros(6, 6)
            img[:, 3:] = 1
            d2l.corr2d(img, edge_kernel((1.0, 0.0)))
            """, probe='__probe("2.1", edge=__calls("edge", edge_kernel))'),
        md("**2.3** blur"),
        code("""
            from d2l import torch as d2l
            import torch

            def blur_kernel(size, sigma):
                ax = torch.linspace(-(size - 1) / 2., (size - 1) / 2., size)
                xx, yy = torch.meshgrid(ax, ax, indexing='ij')
                k = torch.exp(-(xx ** 2 + yy ** 2) / (2. * sigma ** 2))
                return k / torch.sum(k)

            noisy = torch.rand(8, 8)
            d2l.corr2d(noisy, blur_kernel(3, 1.0))
            """, probe='__probe("2.3", blur=__calls("blur", blur_kernel))'),
        md("Blurring smooths noise so that edge detectors react to real edges only."),
        md("**3** autograd"),
        code("""
            from d2l import torch as d2l
            import torch
            from torch import nn

            class Conv2D(nn.Module):
                def __init__(self, kernel_size):
                    super().__init__()
                    self.weight = nn.Parameter(torch.rand(kernel_size))
                    self.bias = nn.Parameter(torch.zeros(1))

                def forward(self, x):
                    return d2l.corr2d(x, self.weight) + self.bias

            conv = Conv2D((1, 2))
            conv(X).backward()
            """, raises="RuntimeError", probe="@error 3"),
    ],
)

# 9 ------------------------------------------------------------------------------------------
notebook(
    "en_no_numbering_headings_only",
    "English, no numbers at all: headings 'Diagonal edges', 'Kernels', 'Autograd', 'Matmul'; "
    "hand-typed anti-diagonal image; exception stored and shown as a bare expression; matmul "
    "as a kernel-matrix function `unroll_kernel(K, input_shape)`",
    verdicts("R R R a R a v R R"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D),
        md("## Diagonal edges"),
        code("""
            X = torch.tensor([[1., 1., 1., 1., 0.],
                              [1., 1., 1., 0., 0.],
                              [1., 1., 0., 0., 0.],
                              [1., 0., 0., 0., 0.],
                              [0., 0., 0., 0., 0.]])
            K = torch.tensor([[1., -1.]])
            print(corr2d(X, K))
            print(corr2d(X.T, K))
            print(corr2d(X, K.T))
            """, probe='__probe("1.1", X=X, Y_K=corr2d(X, K), Y_XT=corr2d(X.T, K), '
                       'Y_KT=corr2d(X, K.T))'),
        md("## Kernels"),
        code("""
            second = torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])
            q = torch.arange(7.).reshape(1, 7) ** 2 + torch.arange(7.).reshape(7, 1) ** 2
            corr2d(q, second)
            """, probe='__probe("2.2", second=second)'),
        md("The smallest second-derivative kernel is 3x3 (3 wide in 1D). In general a "
           "derivative of order d needs d+1 pixels."),
        md("## Autograd"),
        code(CONV2D),
        code("""
            conv = Conv2D((1, 2))
            try:
                conv(X).backward()
            except RuntimeError as e:
                err = e
            err
            """, probe="@output 3"),
        md("## Matmul"),
        code("""
            def unroll_kernel(K, input_shape):
                h, w = input_shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            for b in range(kw):
                                W[i * ow + j, (i + a) * w + (j + b)] = K[a, b]
                return W

            W = unroll_kernel(K, X.shape)
            (W @ X.reshape(-1)).reshape(5, 4), corr2d(X, K)
            """, probe='__probe("4", kmatrix=__calls("kmatrix", unroll_kernel))'),
    ],
    notes={"2.2": "Laplacian in code; minimum size '3x3' in prose",
           "2.4": "'d+1' in prose"},
)

# 10 -----------------------------------------------------------------------------------------
notebook(
    "en_all_prose",
    "English, current numbering; every answer written in markdown (formulas, a stencil, the "
    "autograd message), one import cell",
    verdicts("v v v v v v v v v"),
    [
        md("# Exercises for 7.2"),
        code("""
            import torch
            from d2l import torch as d2l
            """),
        md("""
            **1.1** If I take X = the identity matrix (a diagonal line) and apply K = [1, -1], I
            get 1 and -1 next to each other along the diagonal.

            **1.2** Transposing X changes nothing since the identity is symmetric.

            **1.3** Transposing K gives the same diagonal pattern but the output is 5x6 instead
            of 6x5.
            """),
        md("""
            **2.1** For v = (v1, v2): v1 * [[-1, 1]] + v2 * [[-1], [1]] (padded to 2x2), i.e. the
            derivative along v.

            **2.2** The second derivative:

                0  1  0
                1 -4  1
                0  1  0

            the minimum size is 3x3. The integral would be a kernel of ones.

            **2.3** A Gaussian kernel normalised to sum 1; blurring removes noise.

            **2.4** d+1.
            """),
        md("**3** Autograd gives an error: grad can be implicitly created only for scalar "
           "outputs."),
        md("**4** Flatten X into a vector of length h*w and build a matrix W of shape "
           "(oh*ow, h*w) whose rows hold the kernel weights at the right positions; then "
           "Y = (W @ x).reshape(oh, ow)."),
    ],
    notes={q: "prose only" for q in QUESTIONS},
)

# 11 -----------------------------------------------------------------------------------------
notebook(
    "section_copy_no_exercises",
    "The section's own code copied (corr2d, the 6x8 vertical-edge image, corr2d(X.t(), K), "
    "Conv2D, learning a kernel with nn.Conv2d), no exercise attempted",
    verdicts("a a a a a a a a a"),
    [
        md("# Convolutions for Images"),
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D),
        code("""
            X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
            K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
            corr2d(X, K)
            """),
        code(CONV2D),
        md("## Object Edge Detection in Images"),
        code(SECTION_X),
        code("K = torch.tensor([[1.0, -1.0]])"),
        code("""
            Y = corr2d(X, K)
            Y
            """),
        code("corr2d(X.t(), K)"),
        md("## Learning a Kernel"),
        code(LEARN),
        code("conv2d.weight.data.reshape((1, 2))"),
    ],
    notes={"1.2": "corr2d(X.t(), K) is the section's own example on its vertical-edge image, "
                  "not an answer"},
)

# 12 -----------------------------------------------------------------------------------------
notebook(
    "en_reversed_kernel",
    "English, numbering 'Ex 1 a)/b)/c)', 'Ex 2.1', 'Ex 2.2', 'Ex 3'; the student's 'section "
    "kernel' is K = [[-1, 1]] (integer), so every response is negated; forward-difference "
    "edge kernel; second-derivative stencil in markdown; `!pip install torchvision`",
    verdicts("W W W R v a a R a"),
    [
        code("!pip install torchvision"),
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        md("## Ex 1"),
        code("""
            K = torch.tensor([[-1, 1]])  # the edge kernel from the section
            X = torch.triu(torch.ones(6, 6), diagonal=1)
            X
            """),
        md("a)"),
        code("d2l.corr2d(X, K)", probe='__probe("1.1", X=X, Y_K=_)'),
        md("b)"),
        code("d2l.corr2d(X.T, K)", probe='__probe("1.2", X=X, Y_XT=_)'),
        md("c)"),
        code("d2l.corr2d(X, K.T)", probe='__probe("1.3", X=X, Y_KT=_)'),
        md("## Ex 2.1"),
        code("""
            def detector(v):
                v1, v2 = v
                # forward differences: v1 * d/dx + v2 * d/dy
                return torch.tensor([[-v1 - v2, v1], [v2, 0.]])

            detector((1., 0.)), detector((0., 1.))
            """, probe='__probe("2.1", edge=__calls("edge", detector))'),
        md("## Ex 2.2\n\nSecond derivative: `[1, -2, 1]` (a 1x3 kernel), that is the minimum."),
        md("## Ex 3"),
        code("""
            class Conv2D(nn.Module):
                def __init__(self, kernel_size):
                    super().__init__()
                    self.weight = nn.Parameter(torch.rand(kernel_size))
                    self.bias = nn.Parameter(torch.zeros(1))

                def forward(self, x):
                    return d2l.corr2d(x, self.weight) + self.bias

            c = Conv2D((1, 2))
            try:
                c(X.float()).backward()
            except Exception as ex:
                print(repr(ex))
            """, probe="@output 3"),
    ],
    notes={"1.1": "K = [[-1, 1]] is not the section's K = [[1, -1]]: every response is the "
                  "negative of the expected one",
           "1.2": "negated response (wrong kernel)", "1.3": "negated response (wrong kernel)",
           "2.2": "stencil and size in markdown",
           "3": "repr of the caught RuntimeError printed"},
)

# 13 -----------------------------------------------------------------------------------------
notebook(
    "zh_old_complete",
    "Chinese, old numbering (练习1 (1)(2)(3), 练习2 自动求导, 练习3 矩阵乘法, 练习4 卷积核); "
    "`!pip install d2l==0.17.6`; uncaught autograd error; `corr2d_matmul`; second-derivative "
    "kernel in code, 'd+1' in prose",
    verdicts("R R R a R a v R R"),
    [
        md("# 6.2 图像卷积 练习"),
        code("!pip install d2l==0.17.6"),
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D_ZH),
        md("## 练习1\n\n构建一个具有对角线边缘的图像X。\n\n（1）如果将本节中举例的卷积核K应用于X，"
           "会发生什么情况？"),
        code("""
            X = torch.zeros((8, 8))
            for i in range(8):
                X[i, :i + 1] = 1
            K = torch.tensor([[1.0, -1.0]])
            X, corr2d(X, K)
            """, probe='__probe("1.1", X=X, Y_K=_[1])'),
        md("（2）如果转置X会发生什么？"),
        code("corr2d(X.T, K)", probe='__probe("1.2", X=X, Y_XT=_)'),
        md("（3）如果转置K会发生什么？"),
        code("corr2d(X, K.T)", probe='__probe("1.3", X=X, Y_KT=_)'),
        md("转置K之后变成了竖直方向的差分，对角线边缘仍然能检测到，输出是7x8。"),
        md("## 练习2 自动求导\n\n在我们创建的Conv2D自动求导时，有什么错误消息？"),
        code(CONV2D),
        code("""
            conv2d = Conv2D(kernel_size=(1, 2))
            Y = conv2d(X)
            Y.backward()
            """, raises="RuntimeError", probe="@error 3"),
        md("报错：grad can be implicitly created only for scalar outputs，因为输出不是标量。"),
        md("## 练习3 矩阵乘法\n\n如何通过改变输入张量和卷积核张量，将互相关运算表示为矩阵乘法？"),
        code("""
            def corr2d_matmul(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        tmp = torch.zeros(h, w)
                        tmp[i:i + kh, j:j + kw] = K
                        W[i * ow + j] = tmp.flatten()
                return torch.mv(W, X.flatten()).reshape(oh, ow)

            X = torch.randn(5, 6)
            K = torch.randn(3, 3)
            print(corr2d_matmul(X, K) - corr2d(X, K))
            """, probe='__probe("4", matmul=__calls("matmul", corr2d_matmul))'),
        md("## 练习4 手工设计卷积核\n\n（1）二阶导数的核的形式是什么？"),
        code("""
            # 二阶导数的核
            K2 = torch.tensor([[1.0, -2.0, 1.0]])
            X = torch.arange(10.0).reshape(1, 10) ** 2
            corr2d(X, K2)   # 二阶导数 = 2
            """, probe='__probe("2.2", second=K2)'),
        md("（2）积分的核：全1的核（累加）。\n\n（3）得到d次导数的最小核的大小是 d+1。"),
    ],
    numbering="old",
    notes={"2.4": "'d+1' in Chinese prose", "3": "uncaught RuntimeError, explained in prose"},
)

# 14 -----------------------------------------------------------------------------------------
notebook(
    "zh_old_printed_only_reassigned",
    "Chinese, old numbering with '第1题'..'第4题' headings; X reassigned 6 times (one "
    "anti-diagonal step); every response only a bare expression's output; caught exception "
    "printed in Chinese; `matmul_corr2d`; stencil in a markdown table and '2d+1' in prose",
    verdicts("R R R a v a v R R"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D_ZH),
        md("### 书上的例子"),
        code("""
            X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
            K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
            corr2d(X, K)
            """),
        code(SECTION_X),
        code("""
            K = torch.tensor([[1.0, -1.0]])
            corr2d(X, K)
            """),
        md("## 第1题 对角线边缘"),
        code("""
            X = torch.flip(torch.tril(torch.ones(6, 6)), [1])   # 反对角线
            X
            """),
        code("corr2d(X, K)", probe='__probe("1.1", X=X, Y_K=_)'),
        code("corr2d(X.T, K)", probe='__probe("1.2", X=X, Y_XT=_)'),
        code("corr2d(X, K.T)", probe='__probe("1.3", X=X, Y_KT=_)'),
        md("## 第2题 自动求导"),
        code(CONV2D),
        code("""
            X = torch.ones((6, 8))
            X[:, 2:6] = 0
            conv = Conv2D((1, 2))
            try:
                conv(X).backward()
            except Exception as e:
                print('报错信息:', e)
            """, probe="@output 3"),
        md("## 第3题 矩阵乘法"),
        code("""
            def matmul_corr2d(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros((oh * ow, h * w))
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            W[i * ow + j, (i + a) * w + j:(i + a) * w + j + kw] = K[a]
                return (W @ X.reshape(-1, 1)).reshape(oh, ow)
            """, probe='__probe("4", matmul=__calls("matmul", matmul_corr2d))'),
        code("""
            X = torch.rand(4, 5)
            matmul_corr2d(X, K) == corr2d(X, K)
            """),
        code("""
            X = torch.ones(3, 5)
            matmul_corr2d(X, torch.ones(2, 2))
            """),
        md("""
            ## 第4题 卷积核

            二阶导数的卷积核：

            | 1 | -2 | 1 |
            |---|----|---|

            最小尺寸为 3。积分的核是全 1 的核。d 阶导数的最小核尺寸是 2d+1。
            """),
    ],
    numbering="old",
    notes={"2.2": "stencil in a markdown table, size 3 in prose",
           "2.4": "'2d+1' in prose (wrong, but only a human can judge prose)",
           "1.2": "X is not symmetric: the X.T response differs from the X one"},
)

# 15 -----------------------------------------------------------------------------------------
notebook(
    "zh_old_autograd_wrong_error",
    "Chinese, old numbering ('练习 1.'...'练习 4.'); 1.2 answered with corr2d(X, K).T; the "
    "autograd answer is a different error (gradient w.r.t. X, which does not require grad); "
    "`conv_by_mat` mixes column- and row-major order; kernels in code",
    verdicts("R W R a R a R W W"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D_ZH),
        md("### 练习 1. 对角线边缘的图像"),
        code("""
            X = torch.triu(torch.ones(6, 6))
            K = torch.tensor([[1.0, -1.0]])
            Y = corr2d(X, K)
            print(Y)
            """, probe='__probe("1.1", X=X, Y_K=Y)'),
        md("转置X："),
        code("print(corr2d(X, K).T)", probe='__probe("1.2", X=X, Y_XT=corr2d(X, K).T)'),
        md("转置K："),
        code("print(corr2d(X, K.T))", probe='__probe("1.3", X=X, Y_KT=corr2d(X, K.T))'),
        md("### 练习 2. 自动求导"),
        code(CONV2D),
        code("""
            conv = Conv2D((1, 2))
            Y = conv(X)
            try:
                torch.autograd.grad(Y.sum(), X)
            except RuntimeError as e:
                print("自动求导报错：", e)
            """, probe="@output 3"),
        md("### 练习 3. 互相关写成矩阵乘法"),
        code("""
            def conv_by_mat(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            for b in range(kw):
                                W[i * ow + j, (j + b) * h + (i + a)] = K[a, b]   # 按列展开
                return (W @ X.reshape(-1)).reshape(oh, ow)

            X = torch.ones(4, 4)
            print(torch.allclose(conv_by_mat(X, K), corr2d(X, K)))
            """, probe='__probe("4", matmul=__calls("matmul", conv_by_mat))'),
        md("### 练习 4. 卷积核"),
        code("""
            K2 = torch.tensor([[1., -2., 1.]])   # 二阶导数，最小为 3

            def min_kernel(d):
                return d + 1   # d 阶导数的最小核

            min_kernel(2)
            """, probe='__probe("2.2", second=K2); __probe("2.4", size=__calls("size", min_kernel))'),
    ],
    numbering="old",
    notes={"1.2": "corr2d(X, K).T is not corr2d(X.T, K) (shape 5x6 instead of 6x5)",
           "3": "prints 'One of the differentiated Tensors does not require grad': an error of "
                "its own making, not the one the question is about",
           "4": "column-major indices in W against a row-major X.reshape(-1); the all-ones "
                "test image hides it",
           "2.2": "kernel in code, size 3 in a comment"},
)

# 16 -----------------------------------------------------------------------------------------
notebook(
    "zh_old_typo_cascade",
    "Chinese, old numbering ('## 1' .. '## 4'); `!pip install d2l==0.17.6`; the diagonal image "
    "cell fails (TypeError: `diagnoal=`), so the response cells silently run on the section's "
    "vertical-edge X while their saved outputs show a diagonal; autograd and kernels in prose",
    verdicts("v v v a v a v v a"),
    [
        code("!pip install d2l==0.17.6"),
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """, count=1),
        code(CORR2D_ZH, count=2),
        code(SECTION_X, count=3),
        code("""
            K = torch.tensor([[1.0, -1.0]])
            corr2d(X, K)
            """, count=4),
        md("## 1 对角线边缘"),
        code("""
            X = torch.triu(torch.ones(6, 6), diagnoal=1)
            X
            """, raises="TypeError", count=5, outputs=[out("""
            tensor([[0., 1., 1., 1., 1., 1.],
                    [0., 0., 1., 1., 1., 1.],
                    [0., 0., 0., 1., 1., 1.],
                    [0., 0., 0., 0., 1., 1.],
                    [0., 0., 0., 0., 0., 1.],
                    [0., 0., 0., 0., 0., 0.]])
            """)]),
        code("corr2d(X, K)", count=6, outputs=[out("""
            tensor([[-1.,  0.,  0.,  0.,  0.],
                    [ 0., -1.,  0.,  0.,  0.],
                    [ 0.,  0., -1.,  0.,  0.],
                    [ 0.,  0.,  0., -1.,  0.],
                    [ 0.,  0.,  0.,  0., -1.],
                    [ 0.,  0.,  0.,  0.,  0.]])
            """)]),
        md("转置X："),
        code("corr2d(X.t(), K)", count=7, outputs=[out("""
            tensor([[ 0.,  0.,  0.,  0.,  0.],
                    [ 1.,  0.,  0.,  0.,  0.],
                    [ 0.,  1.,  0.,  0.,  0.],
                    [ 0.,  0.,  1.,  0.,  0.],
                    [ 0.,  0.,  0.,  1.,  0.],
                    [ 0.,  0.,  0.,  0.,  1.]])
            """)]),
        md("转置K："),
        code("corr2d(X, K.t())", count=8, outputs=[out("""
            tensor([[-1.,  0.,  0.,  0.,  0.,  0.],
                    [ 0., -1.,  0.,  0.,  0.,  0.],
                    [ 0.,  0., -1.,  0.,  0.,  0.],
                    [ 0.,  0.,  0., -1.,  0.,  0.],
                    [ 0.,  0.,  0.,  0., -1.,  0.]])
            """)]),
        md("转置X以后边缘的符号变了；转置K以后输出少一行。"),
        md("## 2 自动求导\n\n会报错：`RuntimeError: grad can be implicitly created only for "
           "scalar outputs`，因为 Conv2D 的输出不是标量。"),
        md("## 4 卷积核\n\n二阶导数的核为 [1, -2, 1]，最小尺寸是 3；积分的核是全 1 的核；"
           "d 阶导数需要 d+1 的核。"),
    ],
    numbering="old",
    notes={"1.1": "the diagonal X never exists (TypeError); re-executed, the response cells "
                  "use the section's vertical-edge image; the diagonal outputs are stale and "
                  "unverifiable",
           "1.2": "as 1.1", "1.3": "as 1.1",
           "3": "prose (with the right message)", "2.2": "prose", "2.4": "prose"},
)

# 17 -----------------------------------------------------------------------------------------
notebook(
    "zh_old_unfold_inline",
    "Chinese, old numbering ('1.' '2.' '3.' '4.' with '(1)(2)' sub-items); hand-typed "
    "diagonal image; 1.3 forgotten; autograd: a wrong claim in prose; matmul done inline "
    "with `F.unfold` (no function); a first-difference kernel called the second derivative",
    verdicts("R R a a W a a v R"),
    [
        code("""
            import torch
            import torch.nn.functional as F
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D_ZH),
        md("# 练习\n\n1. 构建一个具有对角线边缘的图像X\n\n(1) 用 K 做互相关"),
        code("""
            X = torch.tensor([[0, 0, 0, 0, 0, 0],
                              [1, 0, 0, 0, 0, 0],
                              [1, 1, 0, 0, 0, 0],
                              [1, 1, 1, 0, 0, 0],
                              [1, 1, 1, 1, 0, 0],
                              [1, 1, 1, 1, 1, 0]], dtype=torch.float32)
            K = torch.tensor([[1.0, -1.0]])
            print(corr2d(X, K))
            """, probe='__probe("1.1", X=X, Y_K=corr2d(X, K))'),
        md("(2) 转置 X"),
        code("print(corr2d(X.T, K))", probe='__probe("1.2", X=X, Y_XT=corr2d(X.T, K))'),
        md("2. 自动求导\n\n不能自动求导，因为 corr2d 里面有原地赋值 `Y[i, j] = ...`，梯度断了。"),
        md("3. 矩阵乘法：用 unfold 把每个窗口展开成一列，再和拉平的核相乘"),
        code("""
            cols = F.unfold(X.reshape(1, 1, 6, 6), kernel_size=(1, 2))   # (1, 2, 30)
            Y_mm = (K.reshape(1, -1) @ cols).reshape(6, 5)
            print(Y_mm)
            print(torch.equal(Y_mm, corr2d(X, K)))
            """, probe='__probe("4", inline_matmul=[X, K, Y_mm])'),
        md("4. 卷积核"),
        code("""
            K2 = torch.tensor([[1., 0., -1.]])   # 二阶导数核
            corr2d(X, K2)
            """, probe='__probe("2.2", second=K2)'),
        md("积分：全1核。"),
    ],
    numbering="old",
    notes={"1.3": "not attempted",
           "3": "claims the in-place assignment breaks autograd (it does not); prose",
           "4": "unfold + matmul computed inline on the student's own X and checked with "
                "torch.equal; no reusable function, but the re-executed evidence is verifiable",
           "2.2": "[1, 0, -1] is a (central) first difference, not a second derivative"},
)

# 18 -----------------------------------------------------------------------------------------
notebook(
    "zh_old_literal_message",
    "Chinese, old numbering ('练习1'..'练习3', 练习4 skipped); identity image; the autograd "
    "answer is the error message typed into a print(); matmul as a kernel-matrix function "
    "`trans_kernel(K, X_shape)`",
    verdicts("R R R a a a a R R"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D_ZH),
        md("## 练习1"),
        code("""
            X = torch.eye(6)
            K = torch.tensor([[1.0, -1.0]])
            print(corr2d(X, K))
            print(corr2d(X.T, K))
            print(corr2d(X, K.T))
            """, probe='__probe("1.1", X=X, Y_K=corr2d(X, K), Y_XT=corr2d(X.T, K), '
                       'Y_KT=corr2d(X, K.T))'),
        md("X 是单位矩阵，转置之后不变，所以前两个结果一样；转置 K 后检测的是竖直方向。"),
        md("## 练习2"),
        code("""
            # 运行 Conv2D(...)(X).backward() 会报下面的错
            print("RuntimeError: grad can be implicitly created only for scalar outputs")
            """, probe="@output 3"),
        md("## 练习3"),
        code("""
            def trans_kernel(K, X_shape):
                h, w = X_shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros((oh * ow, h * w))
                for r in range(oh):
                    for c in range(ow):
                        for a in range(kh):
                            W[r * ow + c, (r + a) * w + c:(r + a) * w + c + kw] = K[a, :]
                return W

            W = trans_kernel(K, X.shape)
            print((W @ X.reshape(-1)).reshape(6, 5) == corr2d(X, K))
            """, probe='__probe("4", kmatrix=__calls("kmatrix", trans_kernel))'),
    ],
    numbering="old",
    notes={"3": "the message is typed into print() rather than produced by autograd; it is "
                "the right message (in template mode a hard-coded string passes too)"},
)

# 19 -----------------------------------------------------------------------------------------
notebook(
    "en_old_numbering_complete",
    "English, the older edition's numbering ('Exercise 2 (autograd)', 'Exercise 3 (matrix "
    "multiplication)', 'Exercise 4 (kernels)'); anti-diagonal step; uncaught autograd error; "
    "kernel matrix `make_W(K, X_shape)` plus a lambda; `min_kernel_size = lambda d: d + 1`",
    verdicts("R R R a R a R R R"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D),
        md("## Exercise 1\n\nConstruct an image X with diagonal edges."),
        code("""
            X = torch.flip(torch.triu(torch.ones(6, 6)), dims=[0])
            K = torch.tensor([[1.0, -1.0]])
            print(X)
            print("K applied:\\n", corr2d(X, K))
            print("X transposed:\\n", corr2d(X.T, K))
            print("K transposed:\\n", corr2d(X, K.T))
            """, probe='__probe("1.1", X=X, Y_K=corr2d(X, K), Y_XT=corr2d(X.T, K), '
                       'Y_KT=corr2d(X, K.T))'),
        md("## Exercise 2 (autograd)"),
        code(CONV2D),
        code("""
            conv = Conv2D(kernel_size=(1, 2))
            conv(X).backward()
            """, raises="RuntimeError", probe="@error 3"),
        md("## Exercise 3 (matrix multiplication)"),
        code("""
            def make_W(K, X_shape):
                h, w = X_shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            for b in range(kw):
                                W[i * ow + j, (i + a) * w + j + b] = K[a, b]
                return W

            corr2d_mm = lambda X, K: (make_W(K, X.shape) @ X.reshape(-1)).reshape(
                X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1)

            X2 = torch.randn(5, 6)
            K2 = torch.randn(2, 3)
            print((corr2d_mm(X2, K2) - corr2d(X2, K2)).abs().max())
            """, probe='__probe("4", kmatrix=__calls("kmatrix", make_W), '
                       'matmul=__calls("matmul", corr2d_mm))'),
        md("## Exercise 4 (kernels)"),
        code("""
            second_deriv = torch.tensor([[1., -2., 1.]])
            min_size = 3
            min_kernel_size = lambda d: d + 1
            corr2d(torch.arange(6.).reshape(1, 6) ** 2, second_deriv)
            """, probe='__probe("2.2", second=second_deriv, min_size=min_size); '
                       '__probe("2.4", size=__calls("size", min_kernel_size))'),
        md("The integral is the inverse: a kernel of ones accumulating the values."),
    ],
    numbering="old",
)

# 20 -----------------------------------------------------------------------------------------
notebook(
    "en_old_prose_mostly",
    "English, older numbering; only 1.1 in code (identity image, printed response); 1.2, 1.3, "
    "autograd, matmul and kernels answered in prose ('3x3', 'd+1')",
    verdicts("R v v a v a v v v"),
    [
        code("""
            import torch
            from d2l import torch as d2l
            """),
        md("### 1"),
        code("""
            X = torch.eye(5)
            K = torch.tensor([[1.0, -1.0]])
            print(d2l.corr2d(X, K))
            """, probe='__probe("1.1", X=X, Y_K=d2l.corr2d(X, K))'),
        md("If we transpose X nothing changes because the identity is symmetric. If we "
           "transpose K we get vertical differences: the same diagonal, but 4x5."),
        md("### 2\n\nThe gradient cannot be computed directly because the output of Conv2D is "
           "not a scalar; autograd raises an error."),
        md("### 3\n\nReshape the input into a column vector of length h*w and build a sparse "
           "matrix with one row per output position, holding the kernel values; the product "
           "reshaped to (h-kh+1, w-kw+1) is the cross-correlation."),
        md("### 4\n\nSecond derivative: the 3x3 Laplacian, minimum size 3x3. Integral: a kernel "
           "of ones. A derivative of order d needs a kernel of size d+1."),
    ],
    numbering="old",
)

# 21 -----------------------------------------------------------------------------------------
notebook(
    "zh_current_complete",
    "Chinese prose on the current numbering ('第1题' with 1.1-1.3, '第2题' with 2.1-2.4, "
    "'第3题', '第4题'); blur answered in prose only; matmul with `Tensor.unfold` in "
    "`matmul_corr2d`",
    verdicts("R R R R R v R R R"),
    [
        md("# 图像卷积 练习（英文版第 7.2 节）"),
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D_ZH),
        md("## 第1题 对角线边缘\n\n1.1 构造对角线边缘的图像，并应用卷积核 K"),
        code("""
            X = torch.ones(6, 6).triu()
            K = torch.tensor([[1.0, -1.0]])
            corr2d(X, K)
            """, probe='__probe("1.1", X=X, Y_K=_)'),
        md("1.2 转置 X"),
        code("corr2d(X.t(), K)", probe='__probe("1.2", X=X, Y_XT=_)'),
        md("1.3 转置 K"),
        code("corr2d(X, K.t())", probe='__probe("1.3", X=X, Y_KT=_)'),
        md("## 第2题 手工设计卷积核\n\n2.1 方向 v 的边缘检测器"),
        code("""
            def edge_kernel_v(v):
                v1, v2 = float(v[0]), float(v[1])
                dx = torch.tensor([[0., 0., 0.], [-1., 0., 1.], [0., 0., 0.]]) / 2
                dy = dx.T
                return v1 * dx + v2 * dy

            edge_kernel_v((1, 1))
            """, probe='__probe("2.1", edge=__calls("edge", edge_kernel_v))'),
        md("2.2 二阶导数的核（拉普拉斯），最小尺寸为 3"),
        code("""
            laplace = torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])
            min_size = 3
            laplace
            """, probe='__probe("2.2", second=laplace, min_size=min_size)'),
        md("2.3 模糊：用均值或者高斯核做平滑，可以去掉噪声，让后面的边缘检测更稳定。"),
        md("2.4 d 阶导数的最小核"),
        code("""
            def min_kernel_size(d):
                return d + 1

            [min_kernel_size(d) for d in range(1, 5)]
            """, probe='__probe("2.4", size=__calls("size", min_kernel_size))'),
        md("## 第3题 自动求导"),
        code(CONV2D),
        code("""
            conv = Conv2D((1, 2))
            try:
                conv(X).backward()
            except RuntimeError as e:
                print(e)
            """, probe="@output 3"),
        md("## 第4题 互相关与矩阵乘法"),
        code("""
            def matmul_corr2d(X, K):
                kh, kw = K.shape
                patches = X.unfold(0, kh, 1).unfold(1, kw, 1)      # (oh, ow, kh, kw)
                oh, ow = patches.shape[:2]
                return (patches.reshape(oh * ow, kh * kw) @ K.reshape(-1)).reshape(oh, ow)

            A = torch.randn(5, 7)
            B = torch.randn(2, 3)
            torch.allclose(matmul_corr2d(A, B), corr2d(A, B), atol=1e-6)
            """, probe='__probe("4", matmul=__calls("matmul", matmul_corr2d))'),
    ],
    notes={"2.3": "prose only"},
)

# 22 -----------------------------------------------------------------------------------------
notebook(
    "zh_current_d2l_torchvision_every_cell",
    "Chinese prose, current numbering ('练习1.1' ...); `from d2l import torch as d2l` in every "
    "cell; the image made with torchvision's rotate (a triangle rotated by 90 degrees); the "
    "edge kernel ignores v; Gaussian blur; 'd+1' in prose",
    verdicts("R R R W a R v R a"),
    [
        md("# 卷积层 练习"),
        code("""
            from d2l import torch as d2l
            import torch
            from torchvision import transforms
            """),
        md("### 练习1.1 对角线边缘"),
        code("""
            from d2l import torch as d2l
            X = transforms.functional.rotate(torch.triu(torch.ones(6, 6)).unsqueeze(0), 90)[0]
            K = torch.tensor([[1.0, -1.0]])
            print(X)
            d2l.corr2d(X, K)
            """, probe='__probe("1.1", X=X, Y_K=_)'),
        md("### 练习1.2 转置X"),
        code("""
            from d2l import torch as d2l
            d2l.corr2d(X.T, K)
            """, probe='__probe("1.2", X=X, Y_XT=_)'),
        md("### 练习1.3 转置K"),
        code("""
            from d2l import torch as d2l
            d2l.corr2d(X, K.T)
            """, probe='__probe("1.3", X=X, Y_KT=_)'),
        md("### 练习2.1 边缘检测"),
        code("""
            from d2l import torch as d2l
            import torch

            def edge(v):
                # Sobel 算子
                return torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])

            d2l.corr2d(X, edge((1, 0)))
            """, probe='__probe("2.1", edge=__calls("edge", edge))'),
        md("### 练习2.3 模糊"),
        code("""
            from d2l import torch as d2l
            import torch

            def gauss_blur(size, sigma):
                x = torch.arange(size) - size // 2
                g = torch.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma ** 2))
                return g / g.sum()

            gauss_blur(3, 1.0)
            """, probe='__probe("2.3", blur=__calls("blur", gauss_blur))'),
        md("模糊可以去掉噪声。\n\n### 练习2.4\n\nd 阶导数至少需要 d+1 个点。"),
        md("### 练习3 自动求导"),
        code("""
            from d2l import torch as d2l
            from torch import nn

            class Conv2D(nn.Module):
                def __init__(self, kernel_size):
                    super().__init__()
                    self.weight = nn.Parameter(torch.rand(kernel_size))
                    self.bias = nn.Parameter(torch.zeros(1))

                def forward(self, x):
                    return d2l.corr2d(x, self.weight) + self.bias

            try:
                Conv2D((1, 2))(X).backward()
            except RuntimeError as err:
                print("报错:", err)
            """, probe="@output 3"),
    ],
    notes={"2.1": "returns the same Sobel-x kernel for every v",
           "2.4": "'d+1' in prose"},
)

# 23 -----------------------------------------------------------------------------------------
notebook(
    "zh_current_partial_fconv2d",
    "Chinese, current numbering ('1.1'..'1.3', '3'); `%pip install d2l`; responses from "
    "`F.conv2d` (4-D outputs) printed bare; autograd answered in a Chinese sentence; nothing "
    "else attempted",
    verdicts("R R R a a a a v a"),
    [
        code("%pip install d2l"),
        code("""
            import torch
            import torch.nn.functional as F
            from d2l import torch as d2l
            """),
        md("**1.1** 对角线"),
        code("""
            X = torch.eye(6).reshape(1, 1, 6, 6)
            K = torch.tensor([[1.0, -1.0]]).reshape(1, 1, 1, 2)
            F.conv2d(X, K)
            """, probe='__probe("1.1", X=X[0, 0], Y_K=_)'),
        md("**1.2** 转置"),
        code("F.conv2d(X.transpose(2, 3), K)", probe='__probe("1.2", X=X[0, 0], Y_XT=_)'),
        md("**1.3** 转置 K"),
        code("F.conv2d(X, K.transpose(2, 3))", probe='__probe("1.3", X=X[0, 0], Y_KT=_)'),
        md("**3** 会报错，因为输出不是标量，需要先求和再 backward。"),
    ],
)

# 24 -----------------------------------------------------------------------------------------
notebook(
    "zh_current_wrong_claims",
    "Chinese, current numbering ('题1'..'题3'); a checkerboard called a diagonal image; a "
    "Sobel kernel called the second derivative; a fixed 3x3 mean blur in a variable; "
    "min size d; autograd 'works after sum()' claim with code",
    verdicts("W R R a W R W v a"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D_ZH),
        md("## 题1 对角线边缘"),
        code("""
            # 棋盘格：每条对角线上的值都一样
            X = torch.tensor([[1., 0.] * 3, [0., 1.] * 3] * 3)
            K = torch.tensor([[1., -1.]])
            print(X)
            corr2d(X, K)
            """, probe='__probe("1.1", X=X, Y_K=_)'),
        code("corr2d(X.T, K)", probe='__probe("1.2", X=X, Y_XT=_)'),
        code("corr2d(X, K.T)", probe='__probe("1.3", X=X, Y_KT=_)'),
        md("## 题2"),
        code("""
            # 2.2 二阶导数的卷积核
            second = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])
            # 2.3 模糊的卷积核：3x3 均值
            blur = torch.ones(3, 3) / 9
            # 2.4 d 阶导数的最小核大小
            def min_size(d):
                return d

            corr2d(torch.rand(5, 5), blur)
            """, probe='__probe("2.2", second=second); __probe("2.3", blur_fixed=blur); '
                       '__probe("2.4", size=__calls("size", min_size))'),
        md("## 题3 自动求导"),
        code(CONV2D),
        code("""
            X = torch.ones((6, 8))
            X[:, 2:6] = 0
            conv = Conv2D((1, 2))
            conv(X).sum().backward()
            conv.weight.grad
            """),
        md("对输出求和之后就可以求导了，没有错误。"),
    ],
    notes={"1.1": "a checkerboard changes at every pixel; it has no diagonal edge",
           "1.2": "response correct for the student's own image (template-check rubric)",
           "1.3": "as 1.2",
           "2.2": "Sobel-x is a first-derivative kernel",
           "2.3": "a fixed, normalised 3x3 mean kernel in a variable: a correct blur",
           "2.4": "returns d instead of d+1",
           "3": "claims there is no error after summing; prose"},
)

# 25 -----------------------------------------------------------------------------------------
notebook(
    "zh_current_forged_outputs",
    "Chinese, current numbering; saved outputs that do not match the code: a wrong-looking "
    "stale output on a right cell, a NameError cell (`Xt`) with a plausible saved output, an "
    "autograd 'error' saved under a commented-out backward(), a stale 'False' under a right "
    "matmul",
    verdicts("R v R a a a R v R"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """, count=1),
        code(CORR2D_ZH, count=2),
        md("## 1.1 对角线边缘"),
        code("""
            X = torch.tril(torch.ones(7, 7), diagonal=-1)
            K = torch.tensor([[1.0, -1.0]])
            corr2d(X, K)
            """, count=3, probe='__probe("1.1", X=X, Y_K=_)', outputs=[out("""
            tensor([[0., 0., 0., 0., 0., 0.],
                    [0., 0., 0., 0., 0., 0.],
                    [0., 0., 0., 0., 0., 0.],
                    [0., 0., 0., 0., 0., 0.],
                    [0., 0., 0., 0., 0., 0.],
                    [0., 0., 0., 0., 0., 0.],
                    [0., 0., 0., 0., 0., 0.]])
            """)]),
        md("## 1.2 转置"),
        code("corr2d(Xt, K)", raises="NameError", count=4, outputs=[out("""
            tensor([[ 0., -1.,  0.,  0.,  0.,  0.],
                    [ 0.,  0., -1.,  0.,  0.,  0.],
                    [ 0.,  0.,  0., -1.,  0.,  0.],
                    [ 0.,  0.,  0.,  0., -1.,  0.],
                    [ 0.,  0.,  0.,  0.,  0., -1.],
                    [ 0.,  0.,  0.,  0.,  0.,  0.],
                    [ 0.,  0.,  0.,  0.,  0.,  0.]])
            """)]),
        md("## 1.3"),
        code("corr2d(X, K.T)", count=5, probe='__probe("1.3", X=X, Y_KT=_)'),
        md("## 2.4"),
        code("""
            def min_size(d):
                return d + 1
            min_size(3)
            """, count=6, probe='__probe("2.4", size=__calls("size", min_size))',
             outputs=[out("4")]),
        md("## 3 自动求导"),
        code(CONV2D, count=7),
        code("""
            conv = Conv2D((1, 2))
            Y = conv(X)
            # Y.backward()
            """, count=8, outputs=[err("RuntimeError",
                                       "grad can be implicitly created only for scalar outputs")]),
        md("报错信息如上。"),
        md("## 4 矩阵乘法"),
        code("""
            def corr2d_matmul(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            for b in range(kw):
                                W[i * ow + j, (i + a) * w + j + b] = K[a, b]
                return (W @ X.reshape(-1)).reshape(oh, ow)

            torch.allclose(corr2d_matmul(X, K), corr2d(X, K))
            """, count=9, probe='__probe("4", matmul=__calls("matmul", corr2d_matmul))',
             outputs=[out("False")]),
    ],
    notes={"1.1": "the saved output (all zeros) is stale; re-executed, the response is right",
           "1.2": "NameError (Xt): the saved output cannot be verified",
           "3": "backward() is commented out; the saved error is not reproduced by the code",
           "4": "right on re-execution; the saved 'False' is stale"},
)

# 26 -----------------------------------------------------------------------------------------
notebook(
    "en_nn_conv2d_everything",
    "English, current numbering ('(1.1)'..'(4)'); responses from nn.Conv2d with the weight set "
    "to K (4-D outputs); autograd tried on nn.Conv2d instead and declared fine; matmul output "
    "reshaped (ow, oh)",
    verdicts("R R R a R a a v W"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        md("(1.1) anti-diagonal line"),
        code("""
            X = torch.flip(torch.eye(7), dims=[1]).reshape(1, 1, 7, 7)
            conv = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
            conv.weight.data = torch.tensor([[[[1.0, -1.0]]]])
            conv(X)
            """, probe='__probe("1.1", X=X[0, 0], Y_K=_)'),
        md("(1.2)"),
        code("conv(X.transpose(-1, -2))", probe='__probe("1.2", X=X[0, 0], Y_XT=_)'),
        md("(1.3)"),
        code("""
            convT = nn.Conv2d(1, 1, kernel_size=(2, 1), bias=False)
            convT.weight.data = torch.tensor([[[[1.0], [-1.0]]]])
            convT(X)
            """, probe='__probe("1.3", X=X[0, 0], Y_KT=_)'),
        md("(2.2) second derivative"),
        code("""
            d2 = torch.tensor([[1., -2., 1.]])   # minimum size is 3
            d2l.corr2d(torch.arange(5.).reshape(1, 5) ** 2, d2)
            """, probe='__probe("2.2", second=d2)'),
        md("(3) autograd"),
        code("""
            Y = conv(X)
            Y.sum().backward()
            conv.weight.grad
            """),
        md("No error: autograd works for the conv layer."),
        md("(4) matmul"),
        code("""
            def corr2d_matmul(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        patch = torch.zeros(h, w)
                        patch[i:i + kh, j:j + kw] = K
                        W[i * ow + j] = patch.reshape(-1)
                return (W @ X.reshape(-1)).reshape(ow, oh)

            A = torch.rand(5, 5)
            B = torch.rand(2, 2)
            torch.allclose(corr2d_matmul(A, B), d2l.corr2d(A, B))
            """, probe='__probe("4", matmul=__calls("matmul", corr2d_matmul))'),
    ],
    notes={"3": "autograd shown to work on nn.Conv2d, not on the hand-written Conv2D; a "
                "claim for the instructor",
           "4": "reshapes to (ow, oh): right only for square outputs"},
)

# 27 -----------------------------------------------------------------------------------------
notebook(
    "en_corr2d_cell_indentation_error",
    "English, current numbering ('Q1.1', 'Q2.4', 'Q4'); the student's corr2d cell has an "
    "IndentationError, so every `corr2d(...)` response raises NameError (saved outputs from an "
    "earlier run stay); the matmul function compares against d2l.corr2d and works",
    verdicts("v v v a a a R a R"),
    [
        code("""
            import torch
            from d2l import torch as d2l
            """, count=1),
        code("""
            def corr2d(X, K):
                h, w = K.shape
                Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
                for i in range(Y.shape[0]):
                    for j in range(Y.shape[1]):
                    Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
                return Y
            """, raises="IndentationError", count=2),
        md("## Q1.1"),
        code("""
            X = torch.tril(torch.ones(5, 5))
            K = torch.tensor([[1.0, -1.0]])
            corr2d(X, K)
            """, raises="NameError", count=3, outputs=[out("""
            tensor([[ 0.,  0.,  0.,  0.],
                    [ 0.,  0.,  0.,  0.],
                    [ 0.,  0.,  0.,  0.],
                    [ 0.,  0.,  0.,  0.],
                    [ 0.,  0.,  0.,  0.]])
            """)]),
        md("## Q1.2 / Q1.3"),
        code("corr2d(X.T, K), corr2d(X, K.T)", raises="NameError", count=4, outputs=[out("""
            (tensor([[0., 0., 0., 0.],
                     [0., 0., 0., 0.],
                     [0., 0., 0., 0.],
                     [0., 0., 0., 0.],
                     [0., 0., 0., 0.]]),
             tensor([[0., 0., 0., 0., 0.],
                     [0., 0., 0., 0., 0.],
                     [0., 0., 0., 0., 0.],
                     [0., 0., 0., 0., 0.]]))
            """)]),
        md("Hmm, all zeros?"),
        md("## Q2.4"),
        code("""
            def order_d_size(d):
                return d + 1
            """, count=5, probe='__probe("2.4", size=__calls("size", order_d_size))'),
        md("## Q4"),
        code("""
            def corr2d_matmul(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            W[i * ow + j, (i + a) * w + j:(i + a) * w + j + kw] = K[a]
                return (W @ X.reshape(-1)).reshape(oh, ow)

            A, B = torch.rand(4, 6), torch.rand(2, 2)
            torch.allclose(corr2d_matmul(A, B), d2l.corr2d(A, B))
            """, count=6, probe='__probe("4", matmul=__calls("matmul", corr2d_matmul))'),
    ],
    notes={"1.1": "X is diagonal, but the responses raise NameError (corr2d never defined); "
                  "the saved outputs (all zeros) are unverifiable",
           "1.2": "as 1.1", "1.3": "as 1.1"},
)


# --- second set: styles the first set does not have ----------------------------------------------

# 28 -----------------------------------------------------------------------------------------
notebook(
    "en_list_items_under_headings",
    "English, '## Exercise 1' with the answers as a plain numbered list (1. 2. 3.) in markdown; "
    "responses only in variables (Y1, Y2, Y3, never printed); exercise 2 with '(a)'-'(d)' "
    "items; a lambda box blur; the edge detector named `grad_dir`; `im2col_corr` with F.unfold",
    verdicts("R R R R v R v R R"),
    [
        md("# Conv layer exercises"),
        code("""
            import torch
            import torch.nn.functional as F
            from torch import nn
            from d2l import torch as d2l
            """),
        md("## Exercise 1"),
        code("""
            X = torch.zeros(8, 8)
            for i in range(8):
                X[i, i] = 1.0
            K = torch.tensor([[1.0, -1.0]])
            Y1 = d2l.corr2d(X, K)
            Y2 = d2l.corr2d(X.t(), K)
            Y3 = d2l.corr2d(X, K.t())
            """),
        md("""
            1. The diagonal line gives a +1/-1 pair in every row.
            2. X is symmetric, so transposing it changes nothing.
            3. With K.t() we get vertical differences and the output is 7x8.
            """),
        md("## Exercise 2"),
        md("(a) edge detector for the direction v"),
        code("""
            def grad_dir(v):
                dx = torch.tensor([[0., 0., 0.], [-0.5, 0., 0.5], [0., 0., 0.]])
                return v[0] * dx + v[1] * dx.T
            """),
        md("(b) The second derivative is [1, -2, 1], so at least 3 pixels; the integral is a "
           "running sum."),
        md("(c) blur"),
        code("blur = lambda n, s: torch.ones(n, n) / n ** 2"),
        md("(d) A derivative of order d needs d+1 points."),
        md("## Exercise 3"),
        code(CONV2D_D2L + "\n" + S("""
            conv = Conv2D((1, 2))
            try:
                torch.autograd.grad(conv(X), conv.weight)
            except RuntimeError as e:
                print(f"{type(e).__name__}: {e}")
            """)),
        md("## Exercise 4"),
        code("""
            def im2col_corr(X, K):
                kh, kw = K.shape
                cols = F.unfold(X[None, None], (kh, kw))[0]
                return (K.reshape(1, -1) @ cols).reshape(X.shape[0] - kh + 1, X.shape[1] - kw + 1)
            """),
    ],
    notes={"1.2": "Y2 holds the response (X is symmetric: the same values as Y1, another "
                  "variable)",
           "2.2": "prose only", "2.3": "a lambda (n, s) box blur: a blur that ignores sigma",
           "2.4": "prose only"},
)

# 29 -----------------------------------------------------------------------------------------
notebook(
    "en_no_markdown_at_all",
    "English code only: no markdown, no numbering; an identity image with three prints; "
    "`edge_kernel_for(v)`, `min_size(d)`, an uncaught autograd error, `corr2d_matmul`",
    verdicts("R R R R a a R R R"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D),
        code("""
            X = torch.eye(6)
            K = torch.tensor([[1.0, -1.0]])
            print(corr2d(X, K))
            print(corr2d(X.T, K))
            print(corr2d(X, K.T))
            """),
        code("""
            def edge_kernel_for(v):
                v1, v2 = v
                return torch.tensor([[-v1 - v2, v1], [v2, 0.0]])

            def min_size(d):
                return d + 1
            """),
        code(CONV2D),
        code("""
            conv = Conv2D((1, 2))
            conv(X).backward()
            """, raises="RuntimeError"),
        code("""
            def corr2d_matmul(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            W[i * ow + j, (i + a) * w + j:(i + a) * w + j + kw] = K[a]
                return (W @ X.reshape(-1)).reshape(oh, ow)

            corr2d_matmul(torch.rand(4, 5), torch.rand(2, 2)).shape
            """),
    ],
    notes={"1.1": "no headings at all: the identity image and its three printed responses",
           "2.1": "forward differences, v1 * d/dx + v2 * d/dy"},
)

# 30 -----------------------------------------------------------------------------------------
notebook(
    "zh_wenti_subitems",
    "Chinese, '问题1'..'问题4' headings with '（1）'-'（4）' sub-items; a strict lower "
    "triangle; a central-difference edge kernel; the size function is a lambda `f`; the autograd "
    "message from `e.args[0]`; a matmul function that returns the flat vector",
    verdicts("R R R R R v R R W"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D_ZH),
        md("## 问题1：对角线边缘"),
        code("""
            X = 1 - torch.triu(torch.ones(5, 5))
            K = torch.tensor([[1.0, -1.0]])
            print(corr2d(X, K))
            """),
        md("（2）转置 X 之后："),
        code("print(corr2d(X.T, K))"),
        md("（3）转置 K 之后："),
        code("print(corr2d(X, K.T))"),
        md("## 问题2：手工设计卷积核"),
        md("（1）方向 v 的边缘检测"),
        code("""
            def edge(v):
                return torch.tensor([[0., -v[1] / 2, 0.],
                                     [-v[0] / 2, 0., v[0] / 2],
                                     [0., v[1] / 2, 0.]])
            """),
        md("（2）二阶导数"),
        code("lap = torch.tensor([[1., -2., 1.]])"),
        md("（3）模糊：用均值滤波，去掉噪声。"),
        md("（4）d 阶导数"),
        code("f = lambda d: d + 1"),
        md("## 问题3：自动求导"),
        code(CONV2D + "\n" + S("""
            conv = Conv2D((1, 2))
            try:
                conv(X).backward()
            except RuntimeError as e:
                print(e.args[0])
            """)),
        md("## 问题4：矩阵乘法"),
        code("""
            def corr_by_matmul(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            W[i * ow + j, (i + a) * w + j:(i + a) * w + j + kw] = K[a]
                return W @ X.reshape(-1)
            """),
    ],
    notes={"2.3": "prose only",
           "4": "returns the flattened result (shape (oh*ow,)), not the (oh, ow) image"},
)

# 31 -----------------------------------------------------------------------------------------
notebook(
    "en_answers_in_code_comments",
    "English, '# Q1' style headings; 1.2 and 1.3 answered in code comments ('# 1.2: ...'); the "
    "size for order d given in a comment; numpy-printed responses (`.numpy()`); the matmul "
    "function calls F.conv2d",
    verdicts("R v v a a a v a W"),
    [
        code("""
            import torch
            import torch.nn.functional as F
            from d2l import torch as d2l
            """),
        md("# Q1"),
        code("""
            X = torch.triu(torch.ones(6, 6), 2)
            K = torch.tensor([[1.0, -1.0]])
            print(d2l.corr2d(X, K).numpy())
            # 1.2: transposing X moves the edge below the diagonal, the signs flip
            # 1.3: K.T detects horizontal changes, so the same edge shows up again
            """),
        md("# Q2"),
        code("# 2.4: a derivative of order d needs at least d + 1 pixels"),
        md("# Q4"),
        code("""
            def corr2d_matmul(X, K):
                return F.conv2d(X[None, None], K[None, None])[0, 0]

            corr2d_matmul(torch.rand(4, 4), torch.rand(2, 2))
            """),
    ],
    notes={"1.2": "a comment only", "1.3": "a comment only", "2.4": "a comment only",
           "4": "calls a ready-made convolution instead of a matrix product"},
)

# 32 -----------------------------------------------------------------------------------------
notebook(
    "en_transposed_the_wrong_operand",
    "English, '### 1.1' '### 1.2' '### 1.3' headings; under 1.2 the student transposes K instead "
    "of X (that response is 1.3's); 1.3 left empty; `second_deriv = [[1, -1]]` (a first "
    "difference); `order_size = lambda d: 2 * d`",
    verdicts("R W a a W a W a a"),
    [
        code("""
            import torch
            from d2l import torch as d2l
            """),
        md("### 1.1"),
        code("""
            X = torch.ones(7, 7).tril(-1)
            K = torch.tensor([[1.0, -1.0]])
            d2l.corr2d(X, K)
            """),
        md("### 1.2"),
        code("d2l.corr2d(X, K.T)"),
        md("### 1.3"),
        md("### 2.2"),
        code("second_deriv = torch.tensor([[1.0, -1.0]])"),
        md("### 2.4"),
        code("order_size = lambda d: 2 * d"),
    ],
    notes={"1.2": "the response under K.T (1.3's question) given as the answer to 1.2",
           "1.3": "heading only", "2.2": "[1, -1] is a first difference",
           "2.4": "2d instead of d+1"},
)

# 33 -----------------------------------------------------------------------------------------
notebook(
    "en_everything_wrong",
    "English, '## Problem 1'..'## Problem 4'; a horizontal-edge image called diagonal, its "
    "transposed response right and its K.T response computed on X.T; a typed autograd message "
    "that is not the one torch gives; `kernel_matrix` returning W transposed",
    verdicts("W R W a a a a W W"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D),
        md("## Problem 1"),
        code("""
            X = torch.zeros(6, 6)
            X[3:, :] = 1    # the diagonal edge
            K = torch.tensor([[1.0, -1.0]])
            print('K:', corr2d(X, K))
            print('X.T:', corr2d(X.T, K))
            print('K.T:', corr2d(X.T, K.T))
            """),
        md("## Problem 3\n\nThe error is:"),
        code('print("RuntimeError: element 0 of tensors does not require grad and does not '
             'have a grad_fn")'),
        md("## Problem 4"),
        code("""
            def kernel_matrix(K, shape):
                h, w = shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            W[i * ow + j, (i + a) * w + j:(i + a) * w + j + kw] = K[a]
                return W.T
            """),
    ],
    notes={"1.1": "a horizontal edge: no diagonal",
           "1.2": "right for the student's image (follow-through)",
           "1.3": "corr2d(X.T, K.T) instead of corr2d(X, K.T)",
           "3": "a message typed from memory, not the one autograd gives here",
           "4": "the transpose of the matrix"},
)

# 34 -----------------------------------------------------------------------------------------
notebook(
    "zh_translated_error_prose",
    "Chinese, old numbering ('练习 1'..'练习 4'); responses printed in one tuple; autograd "
    "answered with the message translated into Chinese (prose); matmul explained only; "
    "kernels: a Laplacian in code",
    verdicts("R R R a R a a v v"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        md("## 练习 1"),
        code("""
            X = torch.eye(7).flip(0)
            K = torch.tensor([[1.0, -1.0]])
            d2l.corr2d(X, K), d2l.corr2d(X.T, K), d2l.corr2d(X, K.T)
            """),
        md("## 练习 2\n\n会报错：只能对标量输出隐式地创建梯度。"),
        md("## 练习 3\n\n把输入展平成向量，把卷积核排成一个稀疏矩阵，两者相乘再变形即可。"),
        md("## 练习 4"),
        code("""
            lap = torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])
            lap
            """),
    ],
    numbering="old",
    notes={"1.1": "three responses in one tuple result",
           "3": "the message translated into Chinese: prose",
           "4": "explained in prose"},
)

# 35 -----------------------------------------------------------------------------------------
notebook(
    "en_function_signatures_vary",
    "English, current numbering; `edge(v1, v2)` takes the components apart; `blur(size)` has "
    "no sigma; `min_order_size(d)`; `kmat(K, shape)` right; autograd caught and stored, shown "
    "with repr in a list",
    verdicts("a a a R a R R R R"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        md("## 2.1"),
        code("""
            def edge(v1, v2):
                dx = torch.tensor([[0., 0., 0.], [-1., 0., 1.], [0., 0., 0.]])
                return v1 * dx + v2 * dx.T
            """),
        md("## 2.3"),
        code("""
            def blur(size):
                return torch.full((size, size), 1.0 / size ** 2)
            """),
        md("## 2.4"),
        code("""
            def min_order_size(d):
                return d + 1
            """),
        md("## 3"),
        code(CONV2D_D2L + "\n" + S("""
            errors = []
            try:
                Conv2D((1, 2))(torch.ones(4, 4)).backward()
            except RuntimeError as e:
                errors.append(e)
            errors
            """)),
        md("## 4"),
        code("""
            def kmat(K, shape):
                h, w = shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            W[i * ow + j, (i + a) * w + j:(i + a) * w + j + kw] = K[a]
                return W
            """),
    ],
    notes={"2.1": "v passed as two numbers", "2.3": "a box blur of the given size",
           "3": "the exception kept in a list"},
)


# --- third set: modelled on public students' notebooks ---------------------------------------------

# 36 -----------------------------------------------------------------------------------------
notebook(
    "en_prompts_as_headings",
    "English, the book's questions copied as headings ('# 1. Construct an image X...', "
    "'## 1.1 What happens if...'); a non-square identity `torch.eye(6, 8)`; an experiment that "
    "learns a 3x3 kernel with nn.LazyConv2d; a helper that uses `math` without importing it "
    "(NameError); a normalised directional kernel `make_kernel(v)`; an int [[1, -2, 1]] as K; "
    "a numpy Gaussian; '2d+1' in long prose; a matmul with F.pad and torch.roll that prints "
    "its matrix",
    verdicts("R R R R R R v R R"),
    [
        code("""
            import torch
            import torch.nn.functional as F
            from torch import nn
            from d2l import torch as d2l
            """),
        md("# 1. Construct an image X with diagonal edges."),
        code(CORR2D + "\n\n" + S("""
            K = torch.tensor([[1.0, -1.0]])
            X = torch.eye(6, 8)
            X
            """)),
        md("## 1.1 What happens if you apply the kernel K in this section to it?"),
        code("corr2d(X, K)"),
        md("## 1.2 What happens if you transpose X?"),
        code("corr2d(X.T, K)"),
        md("## 1.3 What happens if you transpose K?"),
        code("corr2d(X, K.T)"),
        md("# 2. Design some kernels manually."),
        md("## 2.1 Given a directional vector v = (v1, v2), derive an edge-detection kernel "
           "that detects edges orthogonal to v, i.e., edges in the direction (v2, -v1)."),
        code("""
            pic = torch.roll(X, 1, 1) + X
            conv = nn.LazyConv2d(1, kernel_size=(3, 3), bias=False, padding=1)
            for i in range(6):
                l = ((conv(pic[None, None]) - X[None, None]) ** 2).sum()
                conv.zero_grad()
                l.backward()
                conv.weight.data[:] -= 1e-2 * conv.weight.grad
            print(f'loss {l.item():.3f}')
            """),
        code("""
            def angle_of(r):
                return math.degrees(math.atan2(r[1], r[0]))

            def make_kernel(v):
                v = torch.tensor(v, dtype=torch.float32)
                u = v / torch.norm(v)
                d = torch.tensor([[0., 0., 0.], [-0.5, 0., 0.5], [0., 0., 0.]])
                return u[0] * d + u[1] * d.T
            """),
        code("angle_of([1, 1]), make_kernel([1, 1])", raises="NameError"),
        md("## 2.2 Derive a finite difference operator for the second derivative. What is "
           "the minimum size of the convolutional kernel associated with it?"),
        md("The central difference f(x+h) - 2f(x) + f(x-h) over h^2 gives the kernel [1, -2, "
           "1]; the minimum size is 1x3 (or 3x1). Edges and corners respond most strongly."),
        code("""
            K = torch.tensor([[1, -2, 1]])
            corr2d(torch.arange(6.).reshape(1, 6) ** 2, K)
            """),
        md("## 2.3 How would you design a blur kernel? Why might you want to use such a kernel?"),
        code("""
            import numpy as np

            def gaussian_kernel(size, sigma):
                k = np.fromfunction(lambda x, y: np.exp(-((x - (size - 1) / 2) ** 2 +
                                                          (y - (size - 1) / 2) ** 2)
                                                        / (2 * sigma ** 2)), (size, size))
                return k / k.sum()

            blur_kernel = torch.tensor(gaussian_kernel(3, 1.0))
            print(blur_kernel)
            """),
        md("Blurring reduces noise and fine detail before other filters are applied."),
        md("## 2.4 What is the minimum size of a kernel to obtain a derivative of order d?"),
        md("With central differences we need d points on each side of the centre, so a kernel "
           "of size 2d+1 along the direction of the derivative."),
        md("# 3. When you try to automatically find the gradient for the Conv2D class we "
           "created, what kind of error message do you see?"),
        code(CONV2D),
        code("""
            x = pic.clone()
            x.requires_grad = True
            out = Conv2D(kernel_size=(3, 3))(x)
            out.backward()
            """, raises="RuntimeError"),
        md("# 4. How do you represent a cross-correlation operation as a matrix "
           "multiplication by changing the input and kernel tensors?"),
        code("""
            def corr2d_matmul(pic, K):
                padded = F.pad(K, (0, pic.shape[1] - K.shape[1], 0, pic.shape[0] - K.shape[0]))
                rows = []
                for i in range(pic.shape[0] - K.shape[0] + 1):
                    for j in range(pic.shape[1] - K.shape[1] + 1):
                        rows.append(torch.roll(padded, (i, j), (0, 1)).reshape(1, -1))
                W = torch.cat(rows, dim=0).float()
                print(W)
                return (W @ pic.reshape(-1, 1)).reshape(pic.shape[0] - K.shape[0] + 1,
                                                       pic.shape[1] - K.shape[1] + 1)

            K = torch.tensor([[1, 1], [1, 1]])
            x = torch.ones(3, 3)
            (corr2d_matmul(x, K) == corr2d(x, K)).all()
            """),
    ],
    notes={"1.1": "torch.eye(6, 8): a diagonal line in a non-square image",
           "2.1": "make_kernel(v) (a normalised central-difference derivative along v); the "
                  "cell calling the helper fails, the function itself runs",
           "2.2": "an int tensor [[1, -2, 1]] reusing the name K",
           "2.3": "a numpy Gaussian (size, sigma)", "2.4": "'2d+1' in prose"},
)

# 37 -----------------------------------------------------------------------------------------
notebook(
    "en_bullet_answers_older_numbering",
    "English, the section's own notes then '### Exercises' as the book's nested list (older "
    "numbering) with short bullet answers under each question ('* zero matrix.', '* No "
    "change'); a wrong autograd claim; '* dont know.' for the order-d question, whose line is "
    "not indented",
    verdicts("v v v a v a a v v"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D),
        md("## Feature map and receptive field\n\n- the feature map is the learned "
           "representation passed to the next layer\n- the receptive field of an element is "
           "every input element that can affect it"),
        md("""
            ### Exercises

            1. Construct an image X with diagonal edges.
                1. What happens if you apply the kernel K in this section to it?
                    * zero matrix.
                2. What happens if you transpose X?
                    * No change
                3. What happens if you transpose K?
                    * zero matrix.

            2. When you try to automatically find the gradient for the Conv2D class we
            created, what kind of error message do you see?
                * I can read `net.weight.grad`; `net.grad` gives `'Conv2d' object has no
                attribute 'grad'`

            3. How do you represent a cross-correlation operation as a matrix multiplication
            by changing the input and kernel tensors?
                * multiply the flattened patches of X by the flattened kernel and sum

            4. Design some kernels manually.
                1. What is the form of a kernel for the second derivative?
                    * compute it by hand, or learn it with backpropagation
                2. What is the kernel for an integral?
                    * not sure how to make it by hand
            3. What is the minimum size of a kernel to obtain a derivative of degree d?
                    * dont know.
            """),
    ],
    numbering="old",
    notes={"1.1": "'zero matrix.' (prose, and wrong): for the instructor",
           "3": "a claim about another layer's attribute: prose",
           "2.4": "'dont know.' is no answer"},
)

# 38 -----------------------------------------------------------------------------------------
notebook(
    "zh_prompt_list_then_code",
    "Chinese, the whole exercise list copied into one markdown cell (older numbering), then "
    "all the code after it in unlabelled cells; answers in '答：' lines",
    verdicts("R R R a R a v R a"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        md("""
            ## 练习

            1. 构建一个具有对角线边缘的图像X。
                1. 如果将本节中举例的卷积核K应用于X，会发生什么情况？
                2. 如果转置X会发生什么？
                3. 如果转置K会发生什么？
            2. 在我们创建的Conv2D自动求导时，有什么错误消息？
            3. 如何通过改变输入张量和卷积核张量，将互相关运算表示为矩阵乘法？
            4. 手工设计一些卷积核。
                1. 二阶导数的核的形式是什么？
                2. 积分的核的形式是什么？
                3. 得到d次导数的最小核的大小是多少？

            答：4.3 d 次导数至少需要 d+1 个点。
            """),
        code("""
            X = torch.tril(torch.ones(6, 6))
            K = torch.tensor([[1.0, -1.0]])
            print(d2l.corr2d(X, K))
            print(d2l.corr2d(X.T, K))
            print(d2l.corr2d(X, K.T))
            """),
        code(CONV2D_D2L + "\n" + S("""
            try:
                Conv2D((1, 2))(X).backward()
            except RuntimeError as e:
                print('报错：', e)
            """)),
        code("""
            K2 = torch.tensor([[1.0, -2.0, 1.0]])   # 二阶导数
            d2l.corr2d(torch.arange(8.).reshape(1, 8) ** 2, K2)
            """),
    ],
    numbering="old",
    notes={"1.1": "the code follows the copied exercise list, in cells the list does not "
                  "label",
           "2.4": "'d+1' in prose ('答：' line)"},
)


# 39 -----------------------------------------------------------------------------------------
notebook(
    "zh_book_list_autonumbered",
    "Chinese, the book's exercise list pasted as markdown writes it (every item numbered '1.', "
    "older numbering), with '答：' lines under some questions; the code after it in cells the "
    "list does not label",
    verdicts("R R R a v a v v a"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        md("""
            ## 练习

            1. 构建一个具有对角线边缘的图像 `X`。
                1. 如果将本节中举例的卷积核 `K` 应用于 `X`，会发生什么情况？
                1. 如果转置 `X` 会发生什么？
                1. 如果转置 `K` 会发生什么？
            1. 在我们创建的 `Conv2D` 自动求导时，有什么错误消息？
                答：没有报错。
            1. 如何通过改变输入张量和卷积核张量，将互相关运算表示为矩阵乘法？
            1. 手工设计一些卷积核：
                1. 二阶导数的核形式是什么？
                答：[1, -2, 1]
                1. 积分的核形式是什么？
                1. 得到 $d$ 次导数的最小核大小是多少？
                答：$d+1$
            """),
        code("""
            X = torch.eye(6)
            K = torch.tensor([[1.0, -1.0]])
            print(d2l.corr2d(X, K))
            print(d2l.corr2d(X.T, K))
            print(d2l.corr2d(X, K.T))
            """),
    ],
    numbering="old",
    notes={"3": "'没有报错' (no error): a claim, for the instructor",
           "2.2": "prose", "2.4": "prose"},
)

# 40 -----------------------------------------------------------------------------------------
notebook(
    "en_book_list_autonumbered",
    "English, the current edition's exercise list as markdown writes it (every item '1.') with "
    "indented answers under some; after it, `min_size(d)` and `corr2d_matmul` in cells labelled "
    "by the list's last item",
    verdicts("v v a a v a R a R"),
    [
        code("""
            import torch
            from d2l import torch as d2l
            """),
        md("""
            ## Exercises

            1. Construct an image X with diagonal edges.
                1. What happens if you apply the kernel K in this section to it?

                   The edge shows up as a diagonal of -1 values.
                1. What happens if you transpose X?

                   Same result for a symmetric image.
                1. What happens if you transpose K?
            1. Design some kernels manually.
                1. Given a directional vector $\\mathbf{v} = (v_1, v_2)$, derive an
                   edge-detection kernel that detects edges orthogonal to $\\mathbf{v}$.
                1. Derive a finite difference operator for the second derivative. What is the
                   minimum size of the convolutional kernel associated with it?

                   [1, -2, 1], so size 3.
                1. How would you design a blur kernel? Why might you want to use such a kernel?
                1. What is the minimum size of a kernel to obtain a derivative of order $d$?

                   See the code below.
            1. When you try to automatically find the gradient for the `Conv2D` class we
               created, what kind of error message do you see?
            1. How do you represent a cross-correlation operation as a matrix multiplication by
               changing the input and kernel tensors?
            """),
        code("""
            def min_size(d):
                return d + 1

            def corr2d_matmul(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            W[i * ow + j, (i + a) * w + j:(i + a) * w + j + kw] = K[a]
                return (W @ X.reshape(-1)).reshape(oh, ow)
            """),
    ],
    notes={"1.1": "prose", "1.2": "prose", "2.2": "prose",
           "2.4": "a function after the list", "4": "a function after the list"},
)

# 41 -----------------------------------------------------------------------------------------
notebook(
    "en_true_convolution_under_heading",
    "English, bold numbers ('**1.**', '**4.**'); exercise 1 answered with a true convolution "
    "(the kernel flipped first), so every response is negated; exercise 4's im2col function "
    "displays the right response of the same image under K elsewhere",
    verdicts("W W W a a a a a R"),
    [
        code("""
            import torch
            from d2l import torch as d2l
            """),
        md("**1.** Diagonal edges"),
        code("""
            def convolve(X, K):
                # a real convolution flips the kernel first
                return d2l.corr2d(X, torch.flip(K, [0, 1]))

            X = torch.eye(6)
            K = torch.tensor([[1.0, -1.0]])
            X
            """),
        code("convolve(X, K)"),
        code("convolve(X.T, K)"),
        code("convolve(X, K.T)"),
        md("**4.** Cross-correlation as a matrix product"),
        code("""
            def corr2d_im2col(X, K):
                h, w = K.shape
                oh, ow = X.shape[0] - h + 1, X.shape[1] - w + 1
                cols = torch.stack([X[i:i + h, j:j + w].reshape(-1)
                                    for i in range(oh) for j in range(ow)])
                return (cols @ K.reshape(-1)).reshape(oh, ow)

            corr2d_im2col(X, K)
            """),
    ],
    notes={"1.1": "a true convolution: the response is the negative of corr2d's; the right "
                  "response shown under exercise 4 is not exercise 1's answer",
           "1.2": "negated", "1.3": "negated", "4": "im2col called with fresh inputs"},
)
# 42 -----------------------------------------------------------------------------------------
BUGGY_CORR2D = '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).mean()
    return Y
'''
notebook(
    "en_own_buggy_corr2d_saved_right",
    "English, '## Exercise 1'; the student's own corr2d averages instead of summing (every "
    "response halved) while the saved outputs in the file show the right responses",
    verdicts("W W W a a a a a a"),
    [
        code("import torch"),
        code(BUGGY_CORR2D),
        md("## Exercise 1"),
        code("""
            X = torch.zeros((5, 5))
            for i in range(5):
                X[i, i:] = 1
            K = torch.tensor([[1.0, -1.0]])
            X
            """),
        code("corr2d(X, K)", count=3, outputs=[out("""
            tensor([[ 0.,  0.,  0.,  0.],
                    [-1.,  0.,  0.,  0.],
                    [ 0., -1.,  0.,  0.],
                    [ 0.,  0., -1.,  0.],
                    [ 0.,  0.,  0., -1.]])""")]),
        code("corr2d(X.T, K)"),
        code("corr2d(X, K.T)"),
    ],
    notes={"1.1": "the re-executed response is half the right one: the saved output was not "
                  "made by this code", "1.2": "halved", "1.3": "halved"},
)
# 43 -----------------------------------------------------------------------------------------
notebook(
    "zh_old_xiti_markdown_answers",
    "Chinese, old numbering with '## 习题N' headings; exercise 4's answers only in markdown "
    "('二阶导数的核为 [1, -2, 1]', 'd 阶导数的最小核大小为 d+1')",
    verdicts("R R R a v a v a a"),
    [
        code("""
            import torch
            from d2l import torch as d2l
            """),
        md("## 习题1"),
        code("""
            X = torch.eye(7)
            K = torch.tensor([[1.0, -1.0]])
            print(d2l.corr2d(X, K))
            print(d2l.corr2d(X.T, K))
            print(d2l.corr2d(X, K.T))
            """),
        md("## 习题4"),
        md("答：二阶导数的核为 [1, -2, 1]。\n\nd 阶导数的最小核大小为 d+1。"),
    ],
    numbering="old",
    notes={"2.2": "prose", "2.4": "prose"},
)
# 44 -----------------------------------------------------------------------------------------
notebook(
    "en_old_prose_after_copied_list",
    "English, the older edition's list pasted as a bullet list, each answer a sentence on "
    "the line after its question; no code for the exercises",
    verdicts("v v v a v a v v v"),
    [
        code("""
            import torch
            from d2l import torch as d2l
            """),
        md("""
            # Exercises

            * Construct an image X with diagonal edges.
              * What happens if you apply the kernel K in this section to it?

                The output has -1 and 1 along the diagonal next to each other.
              * What happens if you transpose X?

                Nothing changes for a symmetric diagonal image.
              * What happens if you transpose K?

                The edges are detected vertically instead, so the values move one row.
            * When you try to automatically find the gradient for the Conv2D class we created, what kind of error message do you see?

              A RuntimeError about the tensor not requiring grad.
            * How do you represent a cross-correlation operation as a matrix multiplication by changing the input and kernel tensors?

              Unroll the kernel into a sparse Toeplitz-like matrix and flatten the input.
            * Design some kernels manually.
              * What is the form of a kernel for the second derivative?

                [1, -2, 1]
              * What is the kernel for an integral?

                A kernel of ones.
              * What is the minimum size of a kernel to obtain a derivative of degree d?

                d + 1
            """),
    ],
    numbering="old",
    notes={"1.1": "prose", "3": "prose", "4": "prose"},
)

# 45 -----------------------------------------------------------------------------------------
notebook(
    "en_numpy_only_matrix_form",
    "English, numpy only (no torch): the student's own numpy corr2d, an `np.eye` image, and "
    "exercise 4 as `matrix_form(X, K)` building the unrolled kernel with numpy",
    verdicts("R R R a a a a a R"),
    [
        code("import numpy as np"),
        code('''
            def corr2d(X, K):
                h, w = K.shape
                Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
                for i in range(Y.shape[0]):
                    for j in range(Y.shape[1]):
                        Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
                return Y
            '''),
        md("## Exercise 1"),
        code('''
            X = np.eye(6)
            K = np.array([[1.0, -1.0]])
            print(corr2d(X, K))
            print(corr2d(X.T, K))
            print(corr2d(X, K.T))
            '''),
        md("## Exercise 4"),
        code('''
            def matrix_form(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = np.zeros((oh * ow, h * w))
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            for b in range(kw):
                                W[i * ow + j, (i + a) * w + j + b] = K[a, b]
                return (W @ np.asarray(X).reshape(-1)).reshape(oh, ow)

            matrix_form(X, K)
            '''),
    ],
    notes={"4": "a numpy function of (X, K)"},
)

# 46 -----------------------------------------------------------------------------------------
notebook(
    "zh_giant_cell_stops_at_autograd",
    "Chinese, every exercise in one code cell with '# 练习N' comments (older numbering); the "
    "uncaught autograd RuntimeError in the middle stops the cell, so the matrix-product "
    "function and the kernels after it never run",
    verdicts("R R R a v a v R v"),
    [
        code('''
            import torch
            from torch import nn
            from d2l import torch as d2l
            '''),
        code('''
            # 练习1
            X = torch.eye(6)
            K = torch.tensor([[1.0, -1.0]])
            print(d2l.corr2d(X, K))
            print(d2l.corr2d(X.T, K))
            print(d2l.corr2d(X, K.T))

            # 练习2 自动求导
            class Conv2D(nn.Module):
                def __init__(self, kernel_size):
                    super().__init__()
                    self.weight = nn.Parameter(torch.rand(kernel_size))
                    self.bias = nn.Parameter(torch.zeros(1))

                def forward(self, x):
                    return d2l.corr2d(x, self.weight) + self.bias

            net = Conv2D((1, 2))
            net(X).backward()

            # 练习3 矩阵乘法
            def corr2d_matmul(X, K):
                h, w = X.shape
                kh, kw = K.shape
                oh, ow = h - kh + 1, w - kw + 1
                W = torch.zeros(oh * ow, h * w)
                for i in range(oh):
                    for j in range(ow):
                        for a in range(kh):
                            W[i * ow + j, (i + a) * w + j:(i + a) * w + j + kw] = K[a]
                return (W @ X.reshape(-1)).reshape(oh, ow)

            # 练习4 二阶导数的核
            K2 = torch.tensor([[1.0, -2.0, 1.0]])

            # 练习4 d 阶导数的最小核大小
            def min_size(d):
                return d + 1
            ''', raises="RuntimeError"),
    ],
    numbering="old",
    notes={"3": "the cell raises the autograd error itself",
           "4": "defined after the error: never ran", "2.2": "never ran",
           "2.4": "never ran"},
)

# 47 -----------------------------------------------------------------------------------------
notebook(
    "zh_old_list_then_one_answer_cell",
    "Chinese, the older edition's list pasted (练习 numbering, nested 1. items), then one "
    "markdown cell of answers after it: '答：二阶导数 [1, -2, 1]，积分 [1, 1, 1]；d 阶导数最小核 "
    "d+1' and a line on the autograd error; exercise 1 in code after the answers",
    verdicts("R R R a v a v v a"),
    [
        code("""
            import torch
            from d2l import torch as d2l
            """),
        md("""
            ## 练习

            1. 构建一个具有对角线边缘的图像X。
                1. 如果将本节中举例的卷积核K应用于X，会发生什么情况？
                1. 如果转置X会发生什么？
                1. 如果转置K会发生什么？
            1. 在我们创建的Conv2D自动求导时，有什么错误消息？
            1. 如何通过改变输入张量和卷积核张量，将互相关运算表示为矩阵乘法？
            1. 手工设计一些卷积核。
                1. 二阶导数的核的形式是什么？
                1. 积分的核的形式是什么？
                1. 得到d次导数的最小核的大小是多少？
            """),
        md("答：二阶导数 [1, -2, 1]，积分 [1, 1, 1]；d 阶导数最小核 d+1。\n\n"
           "自动求导会报错：RuntimeError，因为输出不是标量。"),
        md("### 练习1"),
        code("""
            X = torch.eye(8)
            K = torch.tensor([[1.0, -1.0]])
            print(d2l.corr2d(X, K))
            print(d2l.corr2d(X.T, K))
            print(d2l.corr2d(X, K.T))
            """),
    ],
    numbering="old",
    notes={"2.2": "prose after the list", "2.4": "prose after the list",
           "3": "prose after the list"},
)

# 48 -----------------------------------------------------------------------------------------
notebook(    "en_old_section_code_then_prose",
    "English, the section's code copied first (corr2d, the edge example, learning a "
    "kernel), then '## Exercises' with one paragraph per exercise in prose only, no numbers",
    verdicts("v v v a v a v v v"),
    [
        code("""
            import torch
            from torch import nn
            from d2l import torch as d2l
            """),
        code(CORR2D),
        code(SECTION_X),
        code("""
            K = torch.tensor([[1.0, -1.0]])
            Y = corr2d(X, K)
            Y
            """),
        md("## Exercises"),
        md("For the diagonal image, applying K gives a diagonal of -1 and 1 values next to "
           "each other. Transposing X gives the same picture mirrored, and transposing K "
           "detects the edge from above, so the -1s move one row."),
        md("The autograd error for our Conv2D: backward() complains that the output is not "
           "a scalar (grad can be implicitly created only for scalar outputs)."),
        md("As a matrix multiplication: unroll the kernel into a sparse matrix W and "
           "multiply it with the flattened input."),
        md("Second derivative kernel: [1, -2, 1]. The kernel for an integral is all ones. "
           "The minimum kernel size for a derivative of order d is d + 1."),
    ],
    numbering="old",
    notes={"1.1": "prose", "1.2": "prose", "1.3": "prose", "3": "prose", "4": "prose",
           "2.2": "prose", "2.4": "prose"},
)


# --- writing ---------------------------------------------------------------------------------

def _output(spec: dict, count: int | None):
    if spec["output_type"] == "execute_result":
        return new_output("execute_result", data={"text/plain": spec["text"]},
                          execution_count=count)
    if spec["output_type"] == "stream":
        return new_output("stream", name="stdout", text=spec["text"])
    return new_output("error", ename=spec["ename"], evalue=spec["evalue"],
                      traceback=[f"\x1b[0;31m{spec['ename']}\x1b[0m: {spec['evalue']}"])


def build(entry: dict) -> tuple[nbformat.NotebookNode, list[tuple[int, str]]]:
    """The notebook, and (cell index, probe expression) for check_freeform.py."""
    cells, probes, errors = [], [], []
    for i, spec in enumerate(entry["cells"]):
        if spec["kind"] == "markdown":
            cell = new_markdown_cell(spec["source"])
        else:
            cell = new_code_cell(spec["source"], execution_count=spec["count"])
            cell.outputs = [_output(o, spec["count"]) for o in spec["outputs"]]
            if spec["raises"]:
                errors.append({"cell": i, "ename": spec["raises"]})
            if spec["probe"]:
                probes.append((i, spec["probe"]))
        cell["id"] = f"{entry['name'][:40]}-{i:02d}".replace("_", "-")
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["grader_test"] = {
        "freeform_expected": dict(entry["expected"]),
        "style": entry["style"],
        "numbering": entry["numbering"],
        "notes": dict(entry["notes"]),
        "expected_errors": errors,
    }
    nbformat.validate(nb)
    return nb, probes


def main() -> None:
    names = [entry["name"] for entry in NOTEBOOKS]
    if len(names) != len(set(names)):
        raise SystemExit("duplicate notebook names")
    wanted = {f"{name}.ipynb" for name in names}
    for old in HERE.glob("*.ipynb"):
        if old.name not in wanted:
            old.unlink()
    for entry in NOTEBOOKS:
        nb, _ = build(entry)
        nbformat.write(nb, HERE / f"{entry['name']}.ipynb")
    print(f"wrote {len(NOTEBOOKS)} notebooks to {HERE}")


if __name__ == "__main__":
    main()
