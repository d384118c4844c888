"""Heatmaps of a check's figures for the HTML report: one small matplotlib (Agg) figure per
array, as inline SVG.

One colour language on every page: white is zero, red positive, blue negative, darker is
larger. Signed arrays use the diverging RdBu map centred on zero; non-negative ones its white
to red half, whose lightness falls monotonically, so they read in grey-scale too. Arrays up to
ANNOTATE_SIDE on a side carry their values in the cells (which also makes the signed ones read
in grey-scale). The colour bar is labelled with the ends of the scale and zero.

Rendering is the expensive part of a report, so one figure is kept and redrawn for each
array, and each SVG is cached by its values: the expected arrays and inputs of a run repeat
across the class.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from markupsafe import Markup

from ..results import CheckOutcome, Figure

ANNOTATE_SIDE = 10
"""Arrays with at most this many rows and columns show their values in the cells."""
CELL_PT = 22.0
"""Side of an annotated cell, in points."""
MAP_PT = 150.0
"""Longest side of a heatmap that is too large to annotate, in points."""
BAR_PT = 64.0
"""Shortest colour bar, in points, so that its three labels fit."""
CACHE_SIZE = 1024
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


@dataclass(frozen=True, slots=True)
class Scale:
    """The values the colour map spans: [-m, m] when signed, else [0, m]."""

    low: float
    high: float

    @property
    def signed(self) -> bool:
        return self.low < 0


@dataclass(frozen=True, slots=True)
class Picture:
    label: str
    svg: Markup
    """Drawn from numbers only (no text of the student's), so it is safe to insert as is."""
    rows: int
    cols: int
    low: float
    high: float
    shared: bool
    """On one colour scale with other pictures of the check."""


def scale_of(figures: Sequence[Figure]) -> Scale:
    """One scale anchored at zero for all `figures`; a zero array gets [0, 1] (all white)."""
    values = [x for f in figures for row in f.values for x in row]
    low, high = min(values, default=0.0), max(values, default=0.0)
    if low < 0:
        m = max(-low, high)
        return Scale(-m, m)
    return Scale(0.0, high or 1.0)


def scales(figures: Sequence[Figure]) -> list[Scale]:
    """Each figure's scale: shared by the figures of one `scale` group, else its own."""
    groups: dict[str, list[Figure]] = {}
    for f in figures:
        if f.scale:
            groups.setdefault(f.scale, []).append(f)
    return [scale_of(groups[f.scale]) if f.scale else scale_of([f]) for f in figures]


def pictures(outcome: CheckOutcome) -> list[Picture]:
    """The outcome's figures drawn, in order."""
    out = []
    shared = Counter(f.scale for f in outcome.figures)
    for figure, scale in zip(outcome.figures, scales(outcome.figures), strict=True):
        flat = [x for row in figure.values for x in row]
        rows, cols = figure.shape
        out.append(Picture(figure.label, Markup(svg(figure.values, scale)), rows, cols,
                           min(flat), max(flat), bool(figure.scale) and shared[figure.scale] > 1))
    return out


def label(value: float) -> str:
    """A cell's or tick's value in at most about five characters, with a true minus sign."""
    text = f"{value:.0f}" if value == round(value) and abs(value) < 1e4 else f"{value:.2g}"
    return text.replace("-", "−")


@lru_cache(maxsize=CACHE_SIZE)
def svg(values: tuple[tuple[float, ...], ...], scale: Scale) -> str:
    # Element ids come from this salt and the content: distinct per array, so many heatmaps
    # inlined in one page do not share ids; matplotlib's unreferenced group ids are dropped.
    salt = hashlib.sha256(repr((values, scale)).encode()).hexdigest()[:16]
    with _LOCK:
        text = _canvas().draw(np.array(values, dtype=np.float64), scale, salt)
    return _UNUSED_IDS.sub(r"\1", text)


_UNUSED_IDS = re.compile(r'(<(?:g|image)\b[^>]*?) id="[^"]*"')


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _canvas() -> _Canvas:
    return _Canvas()


def cell_labels(values: np.ndarray, scale: Scale, cmap, origin: tuple[float, float],
                cell: float) -> str:
    """SVG text of each cell's value, centred in the cell whose top-left corner is at
    `origin` (points from the figure's top left); white on dark cells."""
    shade = cmap((values - scale.low) / (scale.high - scale.low))
    dark = shade[..., :3] @ np.array([0.2126, 0.7152, 0.0722]) < 0.45
    texts = [label(x) for x in values.flat]
    size = min(7.0, 1.45 * cell / max(3, *map(len, texts)))
    x0, y0 = origin
    cols = values.shape[1]
    out = [f'<g font-family="DejaVu Sans, sans-serif" font-size="{size:.2f}" '
           'text-anchor="middle" dominant-baseline="central">']
    for k, text in enumerate(texts):
        i, j = divmod(k, cols)
        fill = "#ffffff" if dark[i, j] else "#202124"
        out.append(f'<text x="{x0 + (j + 0.5) * cell:.2f}" y="{y0 + (i + 0.5) * cell:.2f}" '
                   f'fill="{fill}">{html.escape(text)}</text>')
    return "\n".join(out) + "</g>\n"


class _Canvas:
    """One figure with a heatmap and a colour-bar axes, resized and redrawn per array
    (creating axes costs more than drawing them)."""

    def __init__(self) -> None:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.colors import ListedColormap
        from matplotlib.figure import Figure as MplFigure

        self._matplotlib = matplotlib
        diverging = matplotlib.colormaps["RdBu_r"]
        self.cmaps = {True: diverging,
                      False: ListedColormap(diverging(np.linspace(0.5, 1.0, 128)), "Reds0")}
        self.fig = MplFigure()
        self.ax = self.fig.add_axes((0, 0, 1, 1))
        self.bar = self.fig.add_axes((0, 0, 1, 1))
        self.image = self.ax.imshow(np.zeros((1, 1)), interpolation="nearest", aspect="auto")
        self.ramp = self.bar.imshow(np.zeros((2, 1)), interpolation="nearest", aspect="auto",
                                    origin="lower")
        self.ax.set_xticks([])
        self.ax.set_yticks([])
        self.bar.set_xticks([])
        self.bar.yaxis.tick_right()
        self.bar.tick_params(axis="y", labelsize=7, length=2, pad=1.5)
        for axes in (self.ax, self.bar):
            for spine in axes.spines.values():
                spine.set_linewidth(0.6)
                spine.set_color("#5f6368")

    def draw(self, values: np.ndarray, scale: Scale, salt: str) -> str:
        rows, cols = values.shape
        annotate = max(rows, cols) <= ANNOTATE_SIDE
        cell = CELL_PT if annotate else MAP_PT / max(rows, cols)
        map_w, map_h = cols * cell, rows * cell
        pad, gap, bar_w, ticks_w = 4.0, 6.0, 7.0, 30.0
        bar_h = max(map_h, BAR_PT)
        width = pad + map_w + gap + bar_w + ticks_w
        height = 2 * pad + bar_h + 6.0  # room for the end labels of the colour bar
        self.fig.set_size_inches(width / 72, height / 72)

        def box(x: float, y: float, w: float, h: float) -> tuple[float, ...]:
            return (x / width, y / height, w / width, h / height)

        mid = height / 2
        self.ax.set_position(box(pad, mid - map_h / 2, map_w, map_h))
        self.bar.set_position(box(pad + map_w + gap, mid - bar_h / 2, bar_w, bar_h))

        cmap = self.cmaps[scale.signed]
        extent = (-0.5, cols - 0.5, rows - 0.5, -0.5)
        self.image.set_data(values)
        self.image.set(cmap=cmap, clim=(scale.low, scale.high), extent=extent)
        self.ax.set_xlim(extent[0], extent[1])
        self.ax.set_ylim(extent[2], extent[3])
        self.ramp.set_data(np.linspace(scale.low, scale.high, 128)[:, None])
        self.ramp.set(cmap=cmap, clim=(scale.low, scale.high), extent=(0, 1, scale.low, scale.high))
        self.bar.set_xlim(0, 1)
        self.bar.set_ylim(scale.low, scale.high)
        ticks = [scale.low, 0.0, scale.high] if scale.signed else [0.0, scale.high]
        self.bar.set_yticks(ticks, [label(t) for t in ticks])

        buf = io.StringIO()
        # Fixed ids and no date: the same array always gives the same SVG.
        with self._matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
            self.fig.savefig(buf, format="svg", metadata=_NO_METADATA)
        text = buf.getvalue()
        text = text[text.index("<svg"):]
        if not annotate:
            return text
        # The values are written into the cells here rather than with Axes.text, which lays
        # out each label with FreeType and would triple the cost of a small heatmap.
        labels = cell_labels(values, scale, cmap, (pad, mid - map_h / 2), cell)
        end = text.rindex("</svg>")
        return text[:end] + labels + text[end:]
