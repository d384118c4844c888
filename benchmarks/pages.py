"""Time the HTML pages of a class: every report.html and the index.html, from results built
directly (tests/synthetic_class.py: every 25th submission unreadable, the others failing some
checks with pictured arrays), without executing any notebook.

    .venv/bin/python benchmarks/pages.py [-n 300]

Printed: seconds per report (mean, and the slowest), heatmaps drawn (the rest come from the
cache: expected values and inputs repeat across a class), and seconds for index.html.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from grader.writers import heatmap, index_html, report_html  # noqa: E402

from synthetic_class import make_class  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="submissions (default 300)")
    args = parser.parse_args()
    results = make_class(args.n)
    pictures = sum(len(c.outcome.figures) for r in results for q in r.questions for c in q.checks)
    report_html.render(results[1])  # imports and the template, once per process
    heatmap.svg.cache_clear()
    seconds = []
    for r in results:
        t0 = time.perf_counter()
        report_html.render(r)
        seconds.append(time.perf_counter() - t0)
    drawn = heatmap.svg.cache_info().misses
    print(f"{len(results)} reports, {pictures} pictures ({drawn} drawn, the rest cached): "
          f"{statistics.fmean(seconds) * 1000:.0f} ms per report on average, slowest "
          f"{max(seconds) * 1000:.0f} ms, {sum(seconds):.1f} s in all")
    t0 = time.perf_counter()
    index_html.render(results)
    print(f"index.html: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
