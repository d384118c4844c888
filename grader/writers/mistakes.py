"""The class's mistakes, grouped: the same failure with other values in its message is the
same kind of mistake.

`kind` turns a feedback message into its pattern by setting aside what varies between
submissions (numbers, shapes, arrays, quoted values, paths), each replaced by "…"; failures
of one check with one pattern form a group.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..results import SubmissionResult

GAP = "…"
_QUOTED = re.compile(r"(?<!\w)(?:'[^'\n]*'|\"[^\"\n]*\")(?!\w)")
_PATH = re.compile(r"(?<![\w.])(?:/[^\s/:;,()]+)+/?")
_SHAPE = re.compile(r"(?<![\w.])\d+\s*[x×]\s*\d+(?![\w.])")
_NUMBER = re.compile(r"(?<![\w.])[-+−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?")
_CALL_ARGS = re.compile(r"(?<=\w)\(\s*…(?:[\s,;]*…)*[\s,]*\)")
"""The arguments of a call, f(1, 2): kept as one gap in parentheses, f(…)."""
_LIST = re.compile(r"(?<!\w)[\[(]\s*…(?:[\s,;]*…)*[\s,]*[\])]")
"""A bracketed list of gaps, as a tuple or an array prints: one gap."""


def kind(message: str) -> str:
    """The message with its varying values replaced by "…"."""
    text = " ".join(message.split())
    for pattern in (_QUOTED, _PATH, _SHAPE, _NUMBER):
        text = pattern.sub(GAP, text)
    previous = None
    while previous != text:  # nested arrays collapse from the inside out
        previous = text
        text = _LIST.sub(GAP, _CALL_ARGS.sub(f"({GAP})", text))
    return text


@dataclass(frozen=True, slots=True)
class Link:
    name: str
    href: str


@dataclass(frozen=True, slots=True)
class Group:
    """Submissions that failed `check` the same way (or could not be graded for one reason,
    with `check` empty)."""

    check: str
    kind: str
    example: str
    """One full message of the group (of the first submission by name)."""
    links: tuple[Link, ...]
    check_error: bool = False
    """The check itself crashed: a fault for the pack's author, not the student's mistake."""
    not_answered: bool = False

    @property
    def count(self) -> int:
        return len(self.links)


def question_mistakes(results: Iterable[SubmissionResult], qid: str,
                      href: Callable[[str], str]) -> list[Group]:
    """The failed checks of question `qid` in graded submissions, grouped by check and kind:
    commonest first, answers that are missing after the mistakes."""
    found: dict[tuple[str, str], list[tuple[str, str, bool, bool]]] = {}
    for r in sorted(results, key=lambda r: r.submission):
        if r.status != "graded":
            continue
        for q in r.questions:
            if q.id != qid:
                continue
            for c in q.checks:
                o = c.outcome
                if not o.passed:
                    found.setdefault((o.name, kind(o.feedback)), []).append(
                        (r.submission, o.feedback, o.check_error, o.not_answered))
    groups = [Group(check, pattern, hits[0][1],
                    tuple(Link(name, f"{href(name)}#q-{qid}") for name, *_ in hits),
                    any(h[2] for h in hits), all(h[3] for h in hits))
              for (check, pattern), hits in found.items()]
    return sorted(groups, key=lambda g: (g.not_answered, -g.count, g.check, g.kind))


def error_groups(results: Iterable[SubmissionResult], href: Callable[[str], str]) -> list[Group]:
    """Submissions that could not be graded, grouped by the kind of reason, commonest first."""
    found: dict[str, list[tuple[str, str]]] = {}
    for r in sorted(results, key=lambda r: r.submission):
        if r.status != "graded":
            found.setdefault(kind(r.error), []).append((r.submission, r.error))
    groups = [Group("", pattern, hits[0][1], tuple(Link(n, href(n)) for n, _ in hits))
              for pattern, hits in found.items()]
    return sorted(groups, key=lambda g: (-g.count, g.kind))
