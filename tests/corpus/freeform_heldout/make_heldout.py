"""Generate a held-out corpus of 20 student-style notebooks for the conv-layer exercises.

Run with .venv/bin/python (it needs the course kernel packages, `make kernel-env`).  Every notebook is executed with nbclient
(allow_errors) so that it carries realistic outputs; the cells that raise are compared
with the declared expected_errors.  A few notebooks then get stale saved outputs.
"""
import copy
import pathlib
import sys
import textwrap

import nbformat
from nbclient import NotebookClient

OUT = pathlib.Path(__file__).resolve().parent
QS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "3", "4"]
V = {"R": "right", "W": "wrong", "v": "review", "a": "absent"}


def md(s):
    return nbformat.v4.new_markdown_cell(textwrap.dedent(s).strip("\n"))


def code(s):
    return nbformat.v4.new_code_cell(textwrap.dedent(s).strip("\n"))


BOOK_CORR2D = '''
def corr2d(X, K):  #@save
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
'''


def conv2d_class(fn="corr2d"):
    return f'''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return {fn}(x, self.weight) + self.bias
'''


IMPORTS = '''
import torch
from torch import nn
from d2l import torch as d2l
'''

NOTEBOOKS = []


def notebook(name, numbering, style, verdicts, cells, notes=None, errors=None, stale=None):
    """verdicts: 9 letters in QS order (R/W/v/a). errors: {cell_index: ename}.
    stale: {cell_index: outputs list} applied after execution."""
    letters = verdicts.split()
    assert len(letters) == 9, name
    NOTEBOOKS.append(dict(
        name=name, numbering=numbering, style=style,
        expected={q: V[x] for q, x in zip(QS, letters)},
        cells=cells, notes=notes or {}, errors=errors or {}, stale=stale or {}))


# ---------------------------------------------------------------- English, current (8)

notebook(
    "ho_en_numpy_helpers_antidiag", "current",
    "English, '### 1.1'..'### 4' headings; everything except autograd in numpy with an own "
    "`xcorr(image, kernel)`; anti-diagonal step from np.fliplr(np.triu); responses printed; "
    "numpy directional kernel, Gaussian, `min_kernel_width` lambda, numpy `as_matrix(kernel, in_shape)`; "
    "Conv2D built on d2l.corr2d",
    "R R R R R R R R R",
    [
        md("# Convolutions for Images: my answers\nI did most of it in numpy because I find it easier to see what happens."),
        code("import numpy as np\n" + IMPORTS),
        code('''
        def xcorr(image, kernel):
            kh, kw = kernel.shape
            H, W = image.shape
            out = np.empty((H - kh + 1, W - kw + 1))
            for r in range(out.shape[0]):
                for c in range(out.shape[1]):
                    out[r, c] = np.sum(image[r:r + kh, c:c + kw] * kernel)
            return out
        '''),
        md("### 1.1 anti-diagonal edge"),
        code('''
        img = np.fliplr(np.triu(np.ones((6, 6))))
        K = np.array([[1.0, -1.0]])
        print(img)
        print(xcorr(img, K))
        '''),
        md("Only the pixels on the anti-diagonal step respond (value 1), everything else is 0."),
        md("### 1.2 transpose the image"),
        code("print(xcorr(img.T, K))"),
        md("### 1.3 transpose the kernel"),
        code("print(xcorr(img, K.T))"),
        md("### 2.1 edges orthogonal to v\nTake the derivative along v: v_x * d/dx + v_y * d/dy, with x to the right and y downwards."),
        code('''
        def directional_kernel(v):
            vx, vy = v
            dx = np.array([[-1.0, 1.0], [-1.0, 1.0]]) / 2
            dy = np.array([[-1.0, -1.0], [1.0, 1.0]]) / 2
            return vx * dx + vy * dy

        directional_kernel((1, 0)), directional_kernel((0.6, 0.8))
        '''),
        md("### 2.2 second derivative"),
        code('''
        d2 = np.array([[1.0, -2.0, 1.0]])
        row = np.arange(7.0)[None, :] ** 2
        print(xcorr(row, d2))   # constant 2 = (x^2)''
        '''),
        md("### 2.3 blur"),
        code('''
        def gaussian_blur(sigma, radius=None):
            if radius is None:
                radius = int(np.ceil(3 * sigma))
            ax = np.arange(-radius, radius + 1)
            g = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * sigma ** 2))
            return g / g.sum()

        print(gaussian_blur(1.0).round(3))
        print(gaussian_blur(1.0).sum())
        '''),
        md("Blurring removes pixel noise before we take derivatives."),
        md("### 2.4 derivative of order d"),
        code('''
        min_kernel_width = lambda order: order + 1
        [min_kernel_width(d) for d in range(1, 5)]
        '''),
        md("### 3 autograd on the section's Conv2D (this one needs torch)"),
        code(conv2d_class("d2l.corr2d")),
        code('''
        layer = Conv2D((1, 2))
        out = layer(torch.from_numpy(img.copy()).float())   # copy: fliplr gives negative strides
        try:
            out.backward()
        except RuntimeError as err:
            print("autograd says:", err)
        '''),
        md("### 4 cross-correlation as a matrix product"),
        code('''
        def as_matrix(kernel, in_shape):
            kh, kw = kernel.shape
            H, W = in_shape
            oh, ow = H - kh + 1, W - kw + 1
            M = np.zeros((oh * ow, H * W))
            for r in range(oh):
                for c in range(ow):
                    for a in range(kh):
                        for b in range(kw):
                            M[r * ow + c, (r + a) * W + (c + b)] = kernel[a, b]
            return M

        M = as_matrix(K, img.shape)
        y = (M @ img.ravel()).reshape(img.shape[0] - K.shape[0] + 1, -1)
        print(np.allclose(y, xcorr(img, K)))
        '''),
    ],
    notes={"2.1": "derivative along v, x = columns, y = rows downwards",
           "3": "caught RuntimeError printed with a prefix",
           "4": "(K, shape) -> (oh*ow, H*W) matrix in numpy"})

notebook(
    "ho_en_scipy_true_convolution", "current",
    "English, 'Q1 (i)-(iii)', 'Q2 (ii)/(iv)', 'Q3'; responses through scipy.signal.convolve2d "
    "(a true convolution, so the kernel is flipped); Laplacian in code; `min_size(d)` returns d; "
    "autograd in one sentence",
    "W W W a R a W v a",
    [
        md("## Exercises"),
        code("import numpy as np\nfrom scipy.signal import convolve2d\n" + IMPORTS),
        md("### Q1 (i) image with a diagonal edge, kernel K from the section"),
        code('''
        X = torch.eye(8)
        K = torch.tensor([[1.0, -1.0]])

        def apply(img, ker):
            # scipy does the sliding window for us
            return torch.from_numpy(convolve2d(img.numpy(), ker.numpy(), mode="valid"))

        apply(X, K)
        '''),
        md("The diagonal shows up as a +1/-1 pair in each row."),
        md("### Q1 (ii) transpose X"),
        code("apply(X.T, K)"),
        md("### Q1 (iii) transpose K"),
        code("apply(X, K.T)"),
        md("### Q2 (ii) second derivative\nThe discrete Laplacian:"),
        code('''
        laplace = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
        yy, xx = np.mgrid[0:6, 0:6]
        convolve2d(xx ** 2 + yy ** 2, laplace, mode="valid")
        '''),
        md("### Q2 (iv)"),
        code('''
        def min_size(d):
            # a derivative of order d needs d samples
            return d

        [min_size(d) for d in range(1, 4)]
        '''),
        md("### Q3\nAutograd can't deal with it directly because the output is a matrix; you would need to pass a gradient or sum it first."),
    ],
    notes={"1.1": "convolve2d flips the kernel: the response is -corr2d(X, K)",
           "1.2": "flipped kernel (negated response)", "1.3": "flipped kernel (negated response)",
           "2.2": "4-neighbour Laplacian in code (symmetric, so flipping does not matter)",
           "2.4": "function returns d instead of d+1", "3": "prose only"})

notebook(
    "ho_en_fconv2d_4d_unfold", "current",
    "English, bold '**Exercise 1**' with 'a)-d)'; responses via F.conv2d on 4-D tensors (output kept 4-D); "
    "edge kernel ignores v; unnormalised box blur; uncaught torch.autograd.grad; F.unfold matmul",
    "R R R W R W a R R",
    [
        code(IMPORTS + "import torch.nn.functional as F"),
        md("**Exercise 1**\n\na) step edge along the diagonal"),
        code('''
        X = torch.triu(torch.ones(5, 7))
        K = torch.tensor([[1.0, -1.0]])

        def xc(img, ker):
            return F.conv2d(img[None, None], ker[None, None])

        xc(X, K)
        '''),
        md("b)"),
        code("xc(X.T, K)"),
        md("c)"),
        code("xc(X, K.T)"),
        md("**Exercise 2**\n\na) edges orthogonal to v"),
        code('''
        def edge_k(v):
            # the horizontal-gradient kernel from the section works for any edge once rotated
            return torch.tensor([[1.0, -1.0]])

        edge_k((0, 1))
        '''),
        md("b) second derivative"),
        code('''
        lap1d = torch.tensor([[1., -2., 1.]])
        xc(torch.arange(6.)[None] ** 2, lap1d)
        '''),
        md("c) blur"),
        code('''
        def box_blur(n):
            return torch.ones(n, n)

        xc(torch.eye(4), box_blur(3))
        '''),
        md("d) ?"),
        md("**Exercise 3**"),
        code(BOOK_CORR2D + conv2d_class()),
        code('''
        net = Conv2D(kernel_size=(1, 2))
        out = net(X)
        torch.autograd.grad(out, net.weight)
        '''),
        md("**Exercise 4** im2col with `unfold`"),
        code('''
        def xcorr_unfold(X, K):
            kh, kw = K.shape
            cols = F.unfold(X[None, None], kernel_size=(kh, kw))   # (1, kh*kw, L)
            out = K.reshape(1, -1) @ cols[0]
            return out.reshape(X.shape[0] - kh + 1, X.shape[1] - kw + 1)

        print(xcorr_unfold(X, K))
        print(torch.allclose(xcorr_unfold(X, K), xc(X, K)[0, 0]))
        '''),
    ],
    errors={16: "RuntimeError"},
    notes={"1.1": "F.conv2d is a cross-correlation; 4-D output with the right values",
           "2.1": "returns [[1, -1]] whatever v is", "2.3": "box of ones, sums to n*n",
           "2.4": "heading 'd) ?' only", "3": "uncaught RuntimeError from torch.autograd.grad"})

notebook(
    "ho_en_kernel_first_signatures", "current",
    "English, '1.'/'2.'/'4.' headings; every function takes the kernel first: `slide(K, X)`, "
    "`as_matmul(K, X)`; anti-diagonal line from eye.flip(1); responses displayed in one dict; "
    "`grad_along` lambda for v; blur in prose; second derivative 'skipped'",
    "R R R R a v R a R",
    [
        md("# Exercises (Convolutions for Images)"),
        code(IMPORTS),
        code('''
        def slide(K, X):
            """cross-correlate X with K (kernel first, like a filter bank)"""
            kh, kw = K.shape
            return torch.stack([
                torch.stack([(X[i:i + kh, j:j + kw] * K).sum() for j in range(X.shape[1] - kw + 1)])
                for i in range(X.shape[0] - kh + 1)
            ])
        '''),
        md("## 1. Diagonal edges"),
        code('''
        X = torch.eye(6).flip(1)   # anti-diagonal line
        K = torch.tensor([[1.0, -1.0]])
        answers = {"K on X": slide(K, X), "K on X.T": slide(K, X.T), "K.T on X": slide(K.T, X)}
        answers
        '''),
        md("## 2. Kernels\n\n**direction v** (x to the right, y downwards): derivative along v."),
        code('''
        grad_along = lambda v: torch.tensor([[-v[0] - v[1], v[0] - v[1]],
                                             [-v[0] + v[1], v[0] + v[1]]]) / 2
        grad_along((1.0, 0.0)), grad_along((0.0, 1.0))
        '''),
        md("**second derivative**: skipped.\n\n**blur**: a Gaussian, because averaging neighbours removes noise before edge detection; "
           "its size should be about 6 sigma."),
        md("**order d**"),
        code('''
        def smallest_support(d):
            return d + 1

        smallest_support(2)
        '''),
        md("## 4. As a matrix product"),
        code('''
        def as_matmul(K, X):
            kh, kw = K.shape
            H, W = X.shape
            oh, ow = H - kh + 1, W - kw + 1
            rows = []
            for i in range(oh):
                for j in range(ow):
                    r = torch.zeros(H, W)
                    r[i:i + kh, j:j + kw] = K
                    rows.append(r.flatten())
            Wmat = torch.stack(rows)
            return (Wmat @ X.flatten()).reshape(oh, ow)

        torch.equal(as_matmul(K, X), slide(K, X))
        '''),
    ],
    notes={"2.1": "lambda of v, derivative along v (x right, y down)",
           "2.2": "'skipped' is no answer", "2.3": "prose only", "4": "as_matmul(K, X): kernel first"})

notebook(
    "ho_en_off_by_one_own_corr", "current",
    "English, '## 1.' with '### 1.1'-'### 1.3', then '## 2.x', '## 3', '## 4'; an own `cross_corr` with "
    "an off-by-one output size used for every response; stencil in markdown; normalised box blur; "
    "`min_kernel_size(d)` returns d; autograd error printed; a correct matmul",
    "W W W a v R W R R",
    [
        code(IMPORTS),
        code('''
        def cross_corr(X, K):
            h, w = K.shape
            out = torch.zeros(X.shape[0] - h, X.shape[1] - w)
            for i in range(out.shape[0]):
                for j in range(out.shape[1]):
                    out[i, j] = (X[i:i + h, j:j + w] * K).sum()
            return out
        '''),
        md("## 1. Diagonal edges\n### 1.1"),
        code('''
        X = torch.zeros(7, 7)
        for i in range(7):
            X[i, :i] = 1
        K = torch.tensor([[1., -1.]])
        print(X)
        print(cross_corr(X, K))
        '''),
        md("### 1.2"),
        code("print(cross_corr(X.T, K))"),
        md("### 1.3"),
        code("print(cross_corr(X, K.T))"),
        md("## 2.2\nA second derivative needs three taps: `[1, -2, 1]`, i.e. f(x-1) - 2f(x) + f(x+1)."),
        md("## 2.3"),
        code('''
        def blur_kernel(size):
            k = torch.ones(size, size)
            return k / k.numel()

        blur_kernel(3)
        '''),
        md("## 2.4"),
        code('''
        def min_kernel_size(d):
            return d

        min_kernel_size(3)
        '''),
        md("## 3"),
        code(conv2d_class("cross_corr")),
        code('''
        c = Conv2D((1, 2))
        try:
            c(X).backward()
        except RuntimeError as e:
            print(e)
        '''),
        md("## 4"),
        code('''
        def corr_as_matmul(X, K):
            h, w = K.shape
            oh, ow = X.shape[0] - h + 1, X.shape[1] - w + 1
            W = torch.zeros(oh * ow, X.numel())
            for i in range(oh):
                for j in range(ow):
                    for a in range(h):
                        for b in range(w):
                            W[i * ow + j, (i + a) * X.shape[1] + j + b] = K[a, b]
            return (W @ X.reshape(-1)).reshape(oh, ow)

        corr_as_matmul(X, K)
        '''),
    ],
    notes={"1.1": "cross_corr drops the last row and column (output (h-kh, w-kw))",
           "1.2": "off-by-one output", "1.3": "off-by-one output",
           "2.2": "stencil only in markdown", "2.4": "returns d",
           "3": "printed message from the Conv2D (built on the buggy cross_corr, still non-scalar)",
           "4": "own correct sizes, independent of cross_corr"})

notebook(
    "ho_en_typo_then_prose", "current",
    "English, 'Exercise 1' code with a `corr2d(X.t, K)` typo (AttributeError) whose stale output shows the "
    "right matrix; 'Exercise 2' as four prose answers; no 3 or 4",
    "R v R v v v v a a",
    [
        md("Exercises for 7.2"),
        code(IMPORTS),
        code(BOOK_CORR2D),
        md("**Exercise 1.** X with a diagonal edge"),
        code('''
        X = torch.tril(torch.ones(6, 6))
        K = torch.tensor([[1.0, -1.0]])
        corr2d(X, K)
        '''),
        md("Transposed X:"),
        code("corr2d(X.t, K)"),
        md("Transposed K:"),
        code("corr2d(X, K.t())"),
        md('''
        **Exercise 2.**
        1. For v = (v1, v2) take K = v1 * [-1, 1] + v2 * [-1, 1]^T (padded to 2x2), i.e. the derivative along v.
        2. Second derivative: [1, -2, 1]. The integral would be a running sum, a kernel of ones.
        3. Average a k x k window, e.g. ones(3, 3) / 9; we blur to remove noise.
        4. A derivative of order d needs d + 1 points.
        '''),
    ],
    errors={6: "AttributeError"},
    stale={6: [nbformat.v4.new_output(
        "execute_result", data={"text/plain": "tensor([[ 0.,  0.,  0.,  0.,  0.],\n        [-1.,  0.,  0.,  0.,  0.],\n"
                                              "        [ 0., -1.,  0.,  0.,  0.],\n        [ 0.,  0., -1.,  0.,  0.],\n"
                                              "        [ 0.,  0.,  0., -1.,  0.],\n        [ 0.,  0.,  0.,  0., -1.]])"},
        execution_count=6)]},
    notes={"1.2": "`X.t` (method, no call) raises AttributeError; only a stale saved output shows the matrix",
           "2.1": "prose", "2.2": "prose", "2.3": "prose", "2.4": "prose"})

notebook(
    "ho_en_fstring_prints", "current",
    "English, 'Ex1'..'Ex3' markdown, answers only in f-string prints labelled 'Ex1.1' etc.; "
    "thick (2-pixel) diagonal stripe; d2l.corr2d only; edge kernel [[v1, v2]]; transposed [1,-2,1]; "
    "separable Gaussian; 2.4 as a printed table; repr of the caught autograd error; no matmul",
    "R R R W R R R R a",
    [
        code(IMPORTS),
        md("Ex1"),
        code('''
        X = torch.zeros(8, 8)
        for i in range(8):
            X[i, i:i + 2] = 1          # a thick diagonal stripe
        K = torch.tensor([[1.0, -1.0]])
        print(f"Ex1.1 image:\\n{X}\\nresponse:\\n{d2l.corr2d(X, K)}")
        print(f"Ex1.2 response to X.T:\\n{d2l.corr2d(X.T, K)}")
        print(f"Ex1.3 response to K.T:\\n{d2l.corr2d(X, K.T)}")
        '''),
        md("Ex2"),
        code('''
        def edge_kernel(v):
            v1, v2 = v
            return torch.tensor([[v1, v2]])

        print("Ex2.1", edge_kernel((1.0, -1.0)))

        second = torch.tensor([[1.0, -2.0, 1.0]]).T
        print("Ex2.2 on y^2:", d2l.corr2d((torch.arange(6.0) ** 2).reshape(-1, 1), second).flatten())

        def gauss(sigma, size=5):
            r = torch.arange(size) - size // 2
            g = torch.exp(-r.float() ** 2 / (2 * sigma ** 2))
            g2 = torch.outer(g, g)
            return g2 / g2.sum()

        print("Ex2.3", gauss(1.0), gauss(1.0).sum())

        for d in range(1, 6):
            print(f"Ex2.4 order {d} -> kernel size {d + 1}")
        '''),
        md("Ex3"),
        code(conv2d_class("d2l.corr2d") + '''
layer = Conv2D((1, 2))
try:
    layer(X).backward()
except Exception as err:
    print("Ex3", repr(err))
'''),
    ],
    notes={"1.1": "2-pixel-wide diagonal stripe: two diagonal edges",
           "2.1": "[[v1, v2]] is a weighted pair of neighbours, not a derivative along v (v=(1,0) gives an identity)",
           "2.2": "[1,-2,1] as a column, checked on y^2",
           "2.4": "only a printed table 'order d -> size d+1'; re-execution reproduces it, so right",
           "3": "repr of the caught RuntimeError"})

notebook(
    "ho_en_conv2d_module_responses", "current",
    "English, 'Q1'/'Q2.2'/'Q3'/'Q4'; responses from the book's Conv2D with its weight set to K (and then "
    "a second layer with K.T); anti-diagonal step from triu().flip(0); binomial [1, 2, 1] as second derivative; "
    "'no error' claim after sum().backward(); `toeplitz(kernel, input_shape)`",
    "R R R a W a a v R",
    [
        code(IMPORTS),
        code(BOOK_CORR2D + conv2d_class()),
        md("## Q1"),
        code('''
        X = torch.ones(6, 6).triu().flip(0)   # anti-diagonal step
        layer = Conv2D((1, 2))
        layer.weight.data = torch.tensor([[1.0, -1.0]])
        layer(X)
        '''),
        code("layer(X.T)"),
        code('''
        layer_t = Conv2D((2, 1))
        layer_t.weight.data = layer.weight.data.T.clone()   # kernel K.T
        layer_t(X)
        '''),
        md("## Q2.2"),
        code('''
        K2 = torch.tensor([[1.0, 2.0, 1.0]])   # coefficients of (1 - x)^2
        corr2d(torch.arange(7.0).reshape(1, -1) ** 2, K2)
        '''),
        md("## Q3"),
        code('''
        Y = layer(X)
        Y.sum().backward()
        layer.weight.grad
        '''),
        md("No error at all: autograd works fine on our Conv2D because corr2d only uses differentiable operations."),
        md("## Q4"),
        code('''
        def toeplitz(kernel, input_shape):
            kh, kw = kernel.shape
            H, W = input_shape
            oh, ow = H - kh + 1, W - kw + 1
            T = torch.zeros(oh * ow, H * W)
            for o in range(oh * ow):
                i, j = divmod(o, ow)
                for a in range(kh):
                    T[o, (i + a) * W + j:(i + a) * W + j + kw] = kernel[a]
            return T

        K = torch.tensor([[1.0, -1.0]])
        T = toeplitz(K, X.shape)
        (T @ X.reshape(-1)).reshape(6, 5)
        '''),
    ],
    notes={"1.1": "Conv2D with weight = K and zero bias: the right values (with grad_fn)",
           "1.3": "a second Conv2D whose weight is K.T",
           "2.2": "[1, 2, 1] is a smoothing kernel (gives 2x^2+4x+... on x^2)",
           "3": "sum().backward() and the claim that it works: review"})

# ---------------------------------------------------------------- English, older edition (5)

notebook(
    "ho_en_old_nptri_unfold", "old",
    "English, older numbering '## 1. (a)(b)(c)', '## 2. Autograd', '## 3. Matrix multiplication', "
    "'## 4. Designing kernels'; image from np.tri (float64); `type(e).__name__, e` printed; "
    "F.unfold `corr2d_mm`; [1,-2,1] checked; `kernel_len(order)`",
    "R R R a R a R R R",
    [
        md("# 6.2 Convolutions for Images: Exercises\n(numbered as in the book I have: 1-4)"),
        code("import numpy as np\nimport torch.nn.functional as F\n" + IMPORTS),
        code(BOOK_CORR2D),
        md("## 1. Diagonal edges\n(a) apply K"),
        code('''
        X = torch.from_numpy(np.tri(6, 7))
        K = torch.tensor([[1.0, -1.0]])
        corr2d(X, K)
        '''),
        md("(b) transpose X"),
        code("corr2d(X.T, K)"),
        md("(c) transpose K"),
        code("corr2d(X, K.T)"),
        md("## 2. Autograd on Conv2D"),
        code(conv2d_class() + '''
net = Conv2D(kernel_size=(1, 2))
try:
    net(X.float()).backward()
except RuntimeError as e:
    print(type(e).__name__, e)
'''),
        md("## 3. Matrix multiplication"),
        code('''
        def corr2d_mm(X, K):
            kh, kw = K.shape
            cols = F.unfold(X.float().reshape(1, 1, *X.shape), (kh, kw))[0]
            return (K.reshape(1, -1) @ cols).reshape(X.shape[0] - kh + 1, X.shape[1] - kw + 1)

        corr2d_mm(X, K), torch.allclose(corr2d_mm(X, K), corr2d(X, K))
        '''),
        md("## 4. Designing kernels"),
        code('''
        d2 = torch.tensor([[1.0, -2.0, 1.0]])
        corr2d(torch.arange(8.0).reshape(1, -1) ** 2, d2)
        '''),
        md("The integral is a cumulative sum, which no fixed finite kernel gives exactly."),
        code('''
        def kernel_len(order):
            return order + 1

        kernel_len(1), kernel_len(2), kernel_len(3)
        '''),
    ],
    notes={"1.1": "np.tri(6, 7): step below the diagonal, float64",
           "3": "'RuntimeError grad can be implicitly created only for scalar outputs' printed"})

notebook(
    "ho_en_old_column_kernel", "old",
    "English, older numbering 'Exercise 1'-'Exercise 4'; the student's 'section kernel' is the column "
    "[[1], [-1]] (K.T), so every response is wrong; X-shaped image (both diagonals); autograd and kernels in prose; "
    "`kernel_matrix(K, in_shape)`",
    "W W W a v a v v R",
    [
        code(IMPORTS),
        md("### Exercise 1"),
        code('''
        K = torch.tensor([[1.0], [-1.0]])          # edge kernel from the section
        X = torch.eye(7) + torch.eye(7).flip(1)    # an "X": both diagonals
        X
        '''),
        code("d2l.corr2d(X, K)"),
        md("transpose X:"),
        code("d2l.corr2d(X.T, K)"),
        md("transpose K:"),
        code("d2l.corr2d(X, K.T)"),
        md("### Exercise 2\nCalling `backward()` on the output fails because the output isn't a scalar."),
        md("### Exercise 3"),
        code('''
        def kernel_matrix(K, in_shape):
            kh, kw = K.shape
            H, W = in_shape
            oh, ow = H - kh + 1, W - kw + 1
            M = torch.zeros(oh * ow, H * W)
            for p in range(oh):
                for q in range(ow):
                    window = torch.zeros(H, W)
                    window[p:p + kh, q:q + kw] = K
                    M[p * ow + q] = window.reshape(-1)
            return M

        M = kernel_matrix(K, X.shape)
        torch.allclose((M @ X.reshape(-1)).reshape(6, 7), d2l.corr2d(X, K))
        '''),
        md("### Exercise 4\n* second derivative: [1, -2, 1], minimum size 3\n* integral: a running sum\n* order d: d + 1"),
    ],
    notes={"1.1": "K is [[1], [-1]], i.e. the section's K transposed: wrong kernel",
           "1.2": "wrong kernel", "1.3": "with K.T the student gets corr2d(X, [[1, -1]]), not the K.T response",
           "3": "prose", "2.2": "prose", "2.4": "prose", "4": "generic (K, shape) matrix, verified"})

notebook(
    "ho_en_old_one_function", "old",
    "English, older numbering '**1.**'-'**4.**'; exercise 1 wrapped in `exercise_1()` returning a tuple; "
    "diagonal line 2*eye; backward(torch.ones(...)) prints a shape-mismatch error; `conv_matrix` with a "
    "row-stride bug; `min_kernel_size(order)` returns order",
    "R R R a a a W W W",
    [
        code(IMPORTS),
        code(BOOK_CORR2D + conv2d_class()),
        md("**1.**"),
        code('''
        def exercise_1(n=5):
            X = 2 * torch.eye(n)
            K = torch.tensor([[1.0, -1.0]])
            return corr2d(X, K), corr2d(X.T, K), corr2d(X, K.T)

        exercise_1()
        '''),
        md("**2.**"),
        code('''
        conv = Conv2D(kernel_size=(1, 2))
        out = conv(2 * torch.eye(5))
        try:
            out.backward(torch.ones(out.shape[1]))
        except RuntimeError as e:
            print(e)
        '''),
        md("So autograd complains that the shapes do not match."),
        md("**3.**"),
        code('''
        def conv_matrix(K, in_shape):
            kh, kw = K.shape
            H, W = in_shape
            oh, ow = H - kh + 1, W - kw + 1
            M = torch.zeros(oh * ow, H * W)
            for i in range(oh):
                for j in range(ow):
                    for a in range(kh):
                        for b in range(kw):
                            M[i * ow + j, (i + a) * kw + (j + b)] = K[a, b]
            return M

        X = 2 * torch.eye(5)
        K = torch.tensor([[1.0, -1.0]])
        (conv_matrix(K, X.shape) @ X.reshape(-1)).reshape(5, 4)
        '''),
        md("**4.**"),
        code('''
        def min_kernel_size(order):
            return order

        min_kernel_size(2)
        '''),
    ],
    notes={"3": "prints 'Mismatch in shape: grad_output[0] ...', not the scalar-output error",
           "4": "row stride kw instead of W", "2.4": "returns order"})

notebook(
    "ho_en_old_markdown_answers", "old",
    "English, older numbering '### Exercise 1-4'; exercise 1 answered with matrices typed in markdown code blocks; "
    "autograd error quoted in markdown; only the matmul (patch stack `xcorr_matmul`) in code; kernels in LaTeX prose",
    "v v v a v a v v R",
    [
        code(IMPORTS),
        md('''
        ### Exercise 1
        I used a 4x4 image with ones strictly below the diagonal:
        ```
        0 0 0 0
        1 0 0 0
        1 1 0 0
        1 1 1 0
        ```
        With K = [1, -1] only the diagonal responds:
        ```
        0 0 0
        1 0 0
        0 1 0
        0 0 1
        ```
        Transposing X flips the sign (-1 on the diagonal, shifted), and with K transposed we detect the
        same diagonal as horizontal edges: a 3x4 result with -1 on the diagonal.
        '''),
        md('''
        ### Exercise 2
        ```
        RuntimeError: grad can be implicitly created only for scalar outputs
        ```
        because the output of Conv2D is a matrix.
        '''),
        md("### Exercise 3"),
        code('''
        def xcorr_matmul(X, K):
            """im2col: one row per output pixel, then a single mat-vec product."""
            kh, kw = K.shape
            oh, ow = X.shape[0] - kh + 1, X.shape[1] - kw + 1
            patches = torch.stack([X[i:i + kh, j:j + kw].reshape(-1)
                                   for i in range(oh) for j in range(ow)])
            return (patches @ K.reshape(-1)).reshape(oh, ow)

        X = torch.tril(torch.ones(4, 4), -1)
        xcorr_matmul(X, torch.tensor([[1.0, -1.0]]))
        '''),
        md('''
        ### Exercise 4
        - second derivative: $f''(x) \\approx f(x+1) - 2f(x) + f(x-1)$, so the kernel is `[1, -2, 1]` (size 3).
        - integral: a cumulative sum.
        - order $d$: at least $d + 1$ taps.
        '''),
    ],
    notes={"1.1": "hand-typed matrices in markdown, no code", "1.2": "prose", "1.3": "prose",
           "3": "message quoted in markdown, not produced by a cell", "2.2": "markdown", "2.4": "markdown",
           "4": "xcorr_matmul(X, K) works on fresh inputs"})

notebook(
    "ho_en_old_lambdas", "old",
    "English, older numbering '1)'-'4)'; a one-line lambda cross-correlation `xc`; anti-diagonal line "
    "(fliplr(eye)); three responses in one tuple; uncaught backward() on Conv2D (d2l.corr2d); '3) skipped'; "
    "[1,-2,1] via reshape",
    "R R R a R a a R a",
    [
        code(IMPORTS),
        code('''
        xc = lambda X, K: torch.tensor([[(X[i:i + K.shape[0], j:j + K.shape[1]] * K).sum().item()
                                         for j in range(X.shape[1] - K.shape[1] + 1)]
                                        for i in range(X.shape[0] - K.shape[0] + 1)])
        '''),
        md("1) diagonal"),
        code('''
        X = torch.fliplr(torch.eye(7))
        K = torch.tensor([[1., -1.]])
        xc(X, K), xc(X.T, K), xc(X, K.T)
        '''),
        md("2) autograd"),
        code(conv2d_class("d2l.corr2d")),
        code('''
        conv = Conv2D((1, 2))
        conv(X).backward()
        '''),
        md("It crashes (see the error above)."),
        md("3) skipped"),
        md("4) second derivative"),
        code('''
        second = torch.tensor([1., -2., 1.]).reshape(1, 3)
        xc(torch.arange(7.).reshape(1, 7) ** 2, second)
        '''),
    ],
    errors={6: "RuntimeError"},
    notes={"3": "uncaught RuntimeError", "4": "'3) skipped'"})

# ---------------------------------------------------------------- Chinese (7)

notebook(
    "ho_zh_old_numpy_pinyin", "old",
    "Chinese, '## 第一题'-'## 第四题' (old numbering); numpy cross-correlation with pinyin names "
    "`hu_xiangguan(tu, he)`; 2-pixel diagonal line eye+eye(k=1); labelled prints; uncaught backward(); "
    "numpy `juanji_juzhen(he, shape)`; 'd+1' in Chinese prose",
    "R R R a R a v R R",
    [
        md("# 图像卷积 课后练习"),
        code("import numpy as np\n" + IMPORTS),
        code('''
        def hu_xiangguan(tu, he):
            """numpy 版互相关"""
            kh, kw = he.shape
            jieguo = np.zeros((tu.shape[0] - kh + 1, tu.shape[1] - kw + 1))
            for i in range(jieguo.shape[0]):
                for j in range(jieguo.shape[1]):
                    jieguo[i, j] = (tu[i:i + kh, j:j + kw] * he).sum()
            return jieguo
        '''),
        md("## 第一题：对角线边缘"),
        code('''
        tu = np.eye(6) + np.eye(6, k=1)   # 两个像素宽的对角线
        he = np.array([[1.0, -1.0]])
        print('K 作用于 X:\\n', hu_xiangguan(tu, he))
        print('X 转置:\\n', hu_xiangguan(tu.T, he))
        print('K 转置:\\n', hu_xiangguan(tu, he.T))
        '''),
        md("## 第二题：自动求导"),
        code(conv2d_class("d2l.corr2d")),
        code('''
        c = Conv2D((1, 2))
        y = c(torch.tensor(tu, dtype=torch.float32))
        y.backward()
        '''),
        md("输出不是标量，直接 backward 会报错。"),
        md("## 第三题：矩阵乘法"),
        code('''
        def juanji_juzhen(he, shape):
            kh, kw = he.shape
            H, W = shape
            oh, ow = H - kh + 1, W - kw + 1
            M = np.zeros((oh * ow, H * W))
            for i in range(oh):
                for j in range(ow):
                    for a in range(kh):
                        M[i * ow + j, (i + a) * W + j:(i + a) * W + j + kw] = he[a]
            return M

        M = juanji_juzhen(he, tu.shape)
        np.allclose((M @ tu.reshape(-1)).reshape(6, 5), hu_xiangguan(tu, he))
        '''),
        md("## 第四题：设计卷积核"),
        code('''
        erjie = np.array([[1.0, -2.0, 1.0]])
        print(hu_xiangguan(np.arange(6.0)[None] ** 2, erjie))
        '''),
        md("d 阶导数的核最小要 d+1 个元素。"),
    ],
    errors={7: "RuntimeError"},
    notes={"3": "uncaught RuntimeError", "2.4": "'d+1' in Chinese prose",
           "4": "(kernel, shape) matrix in numpy, checked with allclose"})

notebook(
    "ho_zh_old_true_convolution", "old",
    "Chinese, '练习一'-'练习四' with '(1)(2)(3)'; an own `juanji` that flips the kernel (true convolution) for "
    "all three responses on a hand-typed anti-diagonal step; autograd in prose; inline F.unfold matmul "
    "(a cross-correlation); Laplacian in code; `zuixiao_chicun(d)` = d+1",
    "W W W a R a R v R",
    [
        code(IMPORTS),
        code('''
        def juanji(X, K):
            """真正的卷积：先把核翻转"""
            K = torch.flip(K, dims=(0, 1))
            h, w = K.shape
            Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
            for i in range(Y.shape[0]):
                for j in range(Y.shape[1]):
                    Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
            return Y
        '''),
        md("### 练习一\n(1)"),
        code('''
        X = torch.tensor([[0, 0, 0, 0, 1],
                          [0, 0, 0, 1, 1],
                          [0, 0, 1, 1, 1],
                          [0, 1, 1, 1, 1],
                          [1, 1, 1, 1, 1]], dtype=torch.float32)
        K = torch.tensor([[1.0, -1.0]])
        juanji(X, K)
        '''),
        md("(2)"),
        code("juanji(X.T, K)"),
        md("(3)"),
        code("juanji(X, K.T)"),
        md("### 练习二\n会报错，因为输出不是标量，需要先 sum() 再 backward()。"),
        md("### 练习三"),
        code('''
        cols = torch.nn.functional.unfold(X.reshape(1, 1, 5, 5), kernel_size=K.shape)
        Y = (K.reshape(1, -1) @ cols).reshape(5, 4)
        Y
        '''),
        md("### 练习四"),
        code('''
        lap = torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])
        i, j = torch.meshgrid(torch.arange(6.), torch.arange(6.), indexing="ij")
        juanji(i ** 2 + j ** 2, lap)
        '''),
        code('''
        def zuixiao_chicun(d):
            return d + 1

        zuixiao_chicun(2)
        '''),
    ],
    notes={"1.1": "kernel flipped: the response is -corr2d(X, K)", "1.2": "flipped kernel", "1.3": "flipped kernel",
           "3": "prose", "4": "inline unfold + matmul on the student's own example (cross-correlation, correct)",
           "2.2": "Laplacian is symmetric, flipping does not matter"})

notebook(
    "ho_zh_current_gauss_unnormalised", "current",
    "Chinese, current numbering '## 练习 1.1'..'## 练习 3'; responses via F.conv2d with reshape and squeeze; "
    "anti-diagonal step from triu(6x8).flip(1); Sobel-based `bianyuan_he(v)`; unnormalised Gaussian; "
    "lambda d+1; str(e) printed; no matmul",
    "R R R R R W R R a",
    [
        code(IMPORTS + "import torch.nn.functional as F"),
        md("## 练习 1.1"),
        code('''
        X = torch.ones(6, 8)
        X = torch.triu(X).flip(1)   # 反对角线方向的阶跃
        K = torch.tensor([[1.0, -1.0]])
        Y = F.conv2d(X.reshape(1, 1, 6, 8), K.reshape(1, 1, 1, 2))
        Y.squeeze()
        '''),
        md("## 练习 1.2"),
        code("F.conv2d(X.T.reshape(1, 1, 8, 6), K.reshape(1, 1, 1, 2)).squeeze()"),
        md("## 练习 1.3"),
        code("F.conv2d(X.reshape(1, 1, 6, 8), K.T.reshape(1, 1, 2, 1)).squeeze()"),
        md("## 练习 2.1"),
        code('''
        def bianyuan_he(v):
            """检测与 v 正交的边缘：沿 v 方向求导（v[0] 为水平 x，v[1] 为竖直 y，向下为正）"""
            sx = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]])
            sy = sx.T
            return v[0] * sx + v[1] * sy

        bianyuan_he((1.0, 0.0))
        '''),
        md("## 练习 2.2"),
        code('''
        erjie = torch.tensor([[1., -2., 1.]])
        F.conv2d((torch.arange(6.) ** 2).reshape(1, 1, 1, 6), erjie.reshape(1, 1, 1, 3))
        '''),
        md("## 练习 2.3 模糊"),
        code('''
        def gaosi_he(sigma, k=5):
            r = torch.arange(k, dtype=torch.float32) - k // 2
            return torch.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma ** 2))

        gaosi_he(1.0), gaosi_he(1.0).sum()
        '''),
        md("## 练习 2.4"),
        code('''
        zuixiao = lambda d: d + 1
        zuixiao(3)
        '''),
        md("## 练习 3"),
        code(BOOK_CORR2D + conv2d_class() + '''
net = Conv2D((1, 2))
try:
    net(X).backward()
except RuntimeError as e:
    print(str(e))
'''),
    ],
    notes={"2.1": "Sobel directional derivative v[0]*Sx + v[1]*Sy",
           "2.3": "Gaussian not divided by its sum (sums to ~6.2)",
           "3": "str(e) printed"})

notebook(
    "ho_zh_old_nameerror_autograd", "old",
    "Chinese, '练习1 (1)(2)', '练习2'; diagonal set by fancy indexing; (3) missing; the Conv2D cell has a "
    "`corr2D` typo so the autograd cell stops with NameError; no 3/4",
    "R R a a a a a v a",
    [
        code(IMPORTS),
        code(BOOK_CORR2D),
        md("练习1\n\n(1)"),
        code('''
        X = torch.zeros(5, 5)
        X[torch.arange(5), torch.arange(5)] = 1
        K = torch.tensor([[1.0, -1.0]])
        corr2d(X, K)
        '''),
        md("(2)"),
        code("corr2d(X.T, K)"),
        md("练习2 自动求导"),
        code(conv2d_class("corr2D")),
        code('''
        conv = Conv2D((1, 2))
        out = conv(X)
        out.backward()
        '''),
    ],
    errors={8: "NameError"},
    notes={"1.3": "not attempted",
           "3": "the cell fails with NameError (typo corr2D) before reaching backward(): review"})

notebook(
    "ho_zh_old_dict_answers", "old",
    "Chinese, '### 第一题'-'### 第四题'; the three responses collected in a dict `daan` with Chinese keys; "
    "autograd message quoted in markdown; matmul `juzhen_chengfa` with an off-by-one output; [1,-2,1]; "
    "`zuixiao_he(d)` returns d",
    "R R R a R a W v W",
    [
        code(IMPORTS),
        code(BOOK_CORR2D),
        md("### 第一题"),
        code('''
        X = torch.diag(torch.ones(5))
        K = torch.tensor([[1.0, -1.0]])
        daan = {}
        daan['(1) K 作用于 X'] = corr2d(X, K)
        daan['(2) X 转置'] = corr2d(X.T, K)
        daan['(3) K 转置'] = corr2d(X, K.T)
        daan
        '''),
        md("### 第二题\n报错：`RuntimeError: grad can be implicitly created only for scalar outputs`，因为输出不是标量。"),
        md("### 第三题"),
        code('''
        def juzhen_chengfa(X, K):
            h, w = K.shape
            oh, ow = X.shape[0] - h, X.shape[1] - w     # 输出大小
            W = torch.zeros(oh * ow, X.numel())
            for i in range(oh):
                for j in range(ow):
                    for a in range(h):
                        for b in range(w):
                            W[i * ow + j, (i + a) * X.shape[1] + j + b] = K[a, b]
            return (W @ X.reshape(-1)).reshape(oh, ow)

        juzhen_chengfa(X, K)
        '''),
        md("### 第四题"),
        code('''
        erjie = torch.tensor([[1., -2., 1.]])
        corr2d(torch.arange(6.).reshape(1, 6) ** 2, erjie)
        '''),
        code('''
        def zuixiao_he(d):
            return d   # d 阶导数需要 d 个点

        zuixiao_he(2)
        '''),
    ],
    notes={"3": "message quoted in markdown only", "4": "output size off by one (drops last row/column)",
           "2.4": "returns d"})

notebook(
    "ho_zh_current_mixed_prose", "current",
    "Chinese, current numbering '## 1.1'..'## 3'; 1.1 in code (step from a broadcast comparison), 1.2/1.3/2.1/2.4 "
    "in Chinese prose; mixed-derivative [[1,-1],[-1,1]] as second derivative; fixed 3x3 mean blur; uncaught backward()",
    "R v v v W R v R a",
    [
        md("# 练习"),
        code(IMPORTS),
        md("## 1.1"),
        code('''
        X = (torch.arange(6)[:, None] >= torch.arange(6)[None, :]).float()
        K = torch.tensor([[1.0, -1.0]])
        d2l.corr2d(X, K)
        '''),
        md("## 1.2\n转置 X 后，检测到的边缘在对角线下方一格，值变成 -1。"),
        md("## 1.3\nK 转置后检测的是水平边缘，对角线上仍然有响应，但位置向上移动。"),
        md("## 2.1\n沿 v 方向的方向导数：K = v1·[-1, 1] + v2·[-1, 1]ᵀ。"),
        md("## 2.2 二阶导数"),
        code('''
        erjie = torch.tensor([[1., -1.], [-1., 1.]])   # 两次差分
        X2 = (torch.arange(5.) ** 2).repeat(5, 1)
        d2l.corr2d(X2, erjie)
        '''),
        md("## 2.3 模糊"),
        code('''
        mohu = torch.ones(3, 3) / 9
        d2l.corr2d(torch.rand(5, 5), mohu)
        '''),
        md("## 2.4\nd 阶导数至少需要 d+1 个点。"),
        md("## 3 自动求导"),
        code(conv2d_class("d2l.corr2d") + '''
net = Conv2D((1, 2))
out = net(X)
out.backward()
'''),
    ],
    errors={13: "RuntimeError"},
    notes={"1.2": "prose", "1.3": "prose", "2.1": "formula in prose",
           "2.2": "[[1,-1],[-1,1]] is the mixed derivative d2/dxdy, not a second derivative",
           "2.3": "fixed 3x3 mean, sums to 1", "2.4": "prose", "3": "uncaught RuntimeError"})

notebook(
    "ho_zh_old_K_reassigned", "old",
    "Chinese, '练习1（1）（3）（2）' answered out of order with `K = K.T` in between, so (2) runs with the "
    "transposed kernel; anti-diagonal line eye.flip(0); f-string of the caught error; numpy "
    "sliding_window_view im2col; exercise 4 in prose",
    "R W R a v a v R R",
    [
        code(IMPORTS),
        code(BOOK_CORR2D),
        md("## 练习1\n（1）"),
        code('''
        X = torch.eye(6).flip(0)   # 反对角线
        K = torch.tensor([[1.0, -1.0]])
        corr2d(X, K)
        '''),
        md("（3）把 K 转置"),
        code('''
        K = K.T
        corr2d(X, K)
        '''),
        md("（2）把 X 转置"),
        code("corr2d(X.T, K)"),
        md("## 练习2"),
        code(conv2d_class() + '''
try:
    Conv2D((1, 2))(X).backward()
except Exception as e:
    print(f"{type(e).__name__}: {e}")
'''),
        md("## 练习3"),
        code('''
        import numpy as np
        from numpy.lib.stride_tricks import sliding_window_view

        def im2col_xcorr(X, K):
            Xn, Kn = X.numpy(), K.numpy()
            cols = sliding_window_view(Xn, Kn.shape).reshape(-1, Kn.size)
            oh, ow = Xn.shape[0] - Kn.shape[0] + 1, Xn.shape[1] - Kn.shape[1] + 1
            return torch.from_numpy(cols @ Kn.reshape(-1)).reshape(oh, ow)

        K0 = torch.tensor([[1.0, -1.0]])
        im2col_xcorr(X, K0), torch.allclose(im2col_xcorr(X, K0), corr2d(X, K0))
        '''),
        md("## 练习4\n二阶导数用 [1, -2, 1]，最小 3 个元素；积分就是累加；d 阶导数至少 d+1 个元素。"),
    ],
    notes={"1.2": "K was reassigned to K.T before: the cell computes corr2d(X.T, K.T)",
           "1.3": "K = K.T then corr2d(X, K): the K.T response",
           "2.2": "prose", "2.4": "prose", "3": "caught error printed as 'RuntimeError: ...'",
           "4": "sliding_window_view patches @ kernel vector, checked"})


# ---------------------------------------------------------------- build

def build(spec, execute=True):
    nb = nbformat.v4.new_notebook()
    nb.cells = [copy.deepcopy(c) for c in spec["cells"]]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    if execute:
        client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(OUT)}})
        client.execute()
    got = {}
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code":
            for o in c.get("outputs", []):
                if o.output_type == "error":
                    got[i] = o.ename
    if execute and got != spec["errors"]:
        print(f"MISMATCH {spec['name']}: errors {got} != declared {spec['errors']}")
    for i, outs in spec["stale"].items():
        nb.cells[i].outputs = outs
    nb.metadata["grader_test"] = {
        "freeform_expected": spec["expected"],
        "style": spec["style"],
        "numbering": spec["numbering"],
        "notes": spec["notes"],
        "expected_errors": [{"cell": i, "ename": e} for i, e in sorted(spec["errors"].items())],
    }
    nbformat.validate(nb)
    nbformat.write(nb, OUT / f"{spec['name']}.ipynb")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    only = sys.argv[1:]
    for spec in NOTEBOOKS:
        if only and spec["name"] not in only:
            continue
        for q in ("2.1", "2.3"):
            if spec["numbering"] == "old":
                assert spec["expected"][q] == "absent", spec["name"]
        build(spec)
        print("wrote", spec["name"], " ".join(v[0] if v != "review" else "v" for v in spec["expected"].values()))
    print(len(NOTEBOOKS), "notebooks")
