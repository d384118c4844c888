"""The Jinja2 environment of the HTML pages: autoescaping on, so everything a student wrote
is rendered as text."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("grader", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pts"] = lambda x: f"{round(x, 2):g}"
    env.filters["num"] = lambda x: f"{x:.4g}".replace("-", "−")
    return env
