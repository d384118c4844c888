"""Which question each part of a free-form notebook answers: cells and prose mapped to the pack's
questions by headings, numbering and keywords, in any of the numberings the pack knows (an
older edition may number its exercises differently) and in any language its keywords cover.

The pack gives the vocabulary (`Vocabulary`: its questions grouped by exercise, its numberings,
a regular expression per question or exercise); this module walks the notebook once:

- a *marker* is a heading, a line starting with a number or a sub-question mark ("2.2", "**3**",
  "(1)", "b)", "练习1", "第2题", "Q4"), or a short one-line markdown cell; it sets the current
  label from its number (read in the numbering the notebook uses) or, failing that, from its
  keywords; a heading with neither ends the exercises' part (the section's own text);
- every code cell takes the current label; a comment in a code cell labels the names assigned
  or defined after it, in that cell only;
- prose (markdown that is not a heading or a copied question) goes to the current label, and
  sentence by sentence to a sub-question its keywords name when the label is a whole exercise.

The numbering is chosen by the markers that have both a number and keywords: the scheme under
which most numbers agree with their keywords. Pure functions of the notebook's text.
"""

from __future__ import annotations

import ast
import difflib
import io
import re
import tokenize
from dataclasses import dataclass, field

from nbformat import NotebookNode

from .limits import PROSE_CELL_CHARS, WRITTEN_CHARS

_NUMBER = r"(\d{1,2}(?:\.\d{1,2})?)"
_NUMBERED = [
    re.compile(rf"^\W{{0,6}}(?:exercises?|ex\.?|ques(?:tion)?|q|problem|task|part|练习|习题|问题|"
               rf"题目|课后题|题)\s*{_NUMBER}", re.I),
    re.compile(rf"^\W{{0,6}}第\s*{_NUMBER}\s*[题问]"),
    re.compile(rf"^\W{{0,6}}{_NUMBER}(?:[.:：)）、\s]|\*\*|$)"),
]
_SUB = re.compile(r"^\W{0,6}(?:[(（]\s*(\d)\s*[)）]|(\d)\s*[)）]|([a-e])\s*[).）]\s)", re.I)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_LIST_ITEM = re.compile(r"^\s{0,8}(\d)(?:[.)]\s+|、\s*)\S")
"""A plain numbered list item (not bold, not a heading)."""
_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s+|(?<=[。！？；])|\n")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NOT_AN_ANSWER = re.compile(r"^\W*(?:i\s+)?(?:do\s*n[o']?t\s+know|dont\s+know|not\s+sure|no\s+idea|"
                            r"todo|tbd|skip(?:ped)?|不知道|不会|略|待补充|待完成)\W*$", re.I)
"""Lines that say there is no answer."""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """A pack's words for its questions (declared in its freeform.py)."""

    groups: dict[str, tuple[str, ...]]
    """Exercise -> its questions, in order: {"1": ("1.1", "1.2"), "3": ("3",)}."""
    numberings: dict[str, dict[str, str]]
    """Scheme -> {number as a notebook writes it: exercise or question}; the first scheme is
    the default. A group's sub-questions by position ("(2)", "b)") come from `subs`."""
    subs: dict[str, dict[str, tuple[str, ...]]]
    """Scheme -> {exercise as written: the questions its (1), (2), ... mean}."""
    topics: dict[str, str]
    """Exercise or question -> a regular expression (case-insensitive) of its keywords."""
    prompts: tuple[str, ...] = ()
    """The exercises' own sentences, as books print them: a student's copy of one is not an
    answer."""

    def group_of(self, label: str) -> str:
        for group, questions in self.groups.items():
            if label == group or label in questions:
                return group
        return label


@dataclass(slots=True)
class Regions:
    """What the notebook's parts answer."""

    scheme: str
    labels: dict[int, str] = field(default_factory=dict)
    """Code cell -> question or exercise (cells before any exercise have none)."""
    names: dict[tuple[int, str], str] = field(default_factory=dict)
    """(cell, name) -> question or exercise, from a comment above the name in its cell."""
    prose: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    """Question or exercise -> its prose, as (cell, text)."""

    def label(self, cell: int, name: str = "") -> str | None:
        return self.names.get((cell, name)) or self.labels.get(cell)

    def add(self, label: str, cell: int, text: str) -> None:
        """Keep `text` as prose of `label`, up to WRITTEN_CHARS of it in all."""
        kept = self.prose.setdefault(label, [])
        if sum(len(t) + 1 for _, t in kept) < WRITTEN_CHARS:
            kept.append((cell, text))

    def text(self, label: str) -> str:
        return "\n".join(t for _, t in self.prose.get(label, ()))[:WRITTEN_CHARS]

    @property
    def any(self) -> bool:
        """Does the notebook mark any exercise at all?"""
        return bool(self.labels) or bool(self.prose)


def map_notebook(nb: NotebookNode, vocab: Vocabulary) -> Regions:
    topics = {k: re.compile(v, re.I) for k, v in vocab.topics.items()}
    scheme = _scheme(_sections(nb), vocab, topics)
    prompts = [_plain(p) for p in vocab.prompts]
    numbers, subs = vocab.numberings[scheme], vocab.subs.get(scheme, {})
    regions = Regions(scheme)
    current: str | None = None
    written: str | None = None
    """The exercise as the notebook numbers it (for its (1), (2) sub-questions)."""
    by_list = False
    """The current exercise was set by a plain list item (so "2." is the next exercise)."""
    listed_at: int | None = None
    """The markdown cell whose list item or copied exercise sentence set `current`: prose in a
    later cell goes by its own words first (answers written after a pasted list)."""
    open_list = False
    """Under a heading naming the exercises, before any is marked: prose goes by its words."""
    for i, cell in enumerate(nb.cells):
        source = cell.get("source", "")
        if not isinstance(source, str):
            continue
        source = source[:PROSE_CELL_CHARS]
        if cell.get("cell_type") == "code":
            header = _comment_header(source)
            if header is not None:  # "# Exercise 2" heading a code cell: a heading
                found = _read_marker(header, vocab, topics, numbers, subs, written, current)
                if found is not None:
                    current, written = found
            if current is not None:
                regions.labels[i] = current
            _label_names(regions, i, source, current, vocab, topics, numbers, subs, written)
            continue
        if cell.get("cell_type") != "markdown":
            continue
        short = len(source.strip().splitlines()) == 1 and len(source.strip()) <= 60
        for line, fenced in _lines(source):
            # an exercise's own sentence, copied as a bullet or a paragraph, heads its answer
            marker = not fenced and bool(_HEADING.match(line) or short or _starts_marked(line)
                                         or _is_prompt(line, prompts))
            if marker:
                item = _LIST_ITEM.match(line)
                found = _read_marker(line, vocab, topics, numbers, subs, written, current)
                listed = _listed_sub(item, line, written, subs, by_list, vocab, topics)
                heading = bool(_HEADING.match(line))
                if current is not None and listed is not None:
                    current, listed_at = listed, i  # "1. ..." under an exercise's heading
                elif found is not None:
                    if found[1] != written:
                        by_list = bool(item)
                    current, written = found
                    listed_at = None if heading or short else i
                elif heading:
                    open_list = _mentions_exercises(line)
                    if not open_list:
                        current, written, by_list, listed_at = None, None, False, None
            if not _is_answer(line, marker=marker) or _is_prompt(line, prompts):
                continue
            text = _strip_marker(line) if marker else line.strip()
            if current is None:
                if open_list:
                    _add_by_words(regions, i, text, None, vocab, topics)
            elif listed_at is not None and listed_at != i:
                _add_by_words(regions, i, text, current, vocab, topics)
            else:
                _add_prose(regions, i, text, current, vocab, topics)
    return regions


def _lines(source: str) -> list[tuple[str, bool]]:
    """The lines of a markdown text (Chinese numerals of exercise numbers as digits), each
    with whether it lies in a ``` code block."""
    out, fenced = [], False
    counters: dict[int, int] = {}
    for line in source.splitlines():
        if line.strip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if not fenced:
            line = _renumbered(_arabic(line), counters)
        out.append((line, fenced))
    return out


_ITEM = re.compile(r"^(\s*)(\d{1,2})([.)]\s)")


def _renumbered(line: str, counters: dict[int, int]) -> str:
    """A numbered list item with the number markdown shows (a list written "1. 1. 1." reads
    1, 2, 3), counting items per indentation within one cell."""
    match = _ITEM.match(line)
    if match is None:
        if line.strip() and not line[:1].isspace():
            counters.clear()  # text at the margin ends every list
        return line
    indent = len(match.group(1).expandtabs(4))
    for deeper in [k for k in counters if k > indent]:
        del counters[deeper]
    number = counters[indent] + 1 if indent in counters else int(match.group(2))
    counters[indent] = number
    return f"{match.group(1)}{number}{match.group(3)}{line[match.end():]}"


_CN_DIGITS = {c: str(i) for i, c in enumerate("一二三四五六七八九", start=1)}
_CN_NUMBERED = re.compile(r"(练习|习题|问题|题目|第|题)\s*([一二三四五六七八九])")
_CN_LEADING = re.compile(r"^(\s*[#*\s]*[（(]?)([一二三四五六七八九])(?=[)）、.．])")


def _arabic(line: str) -> str:
    """'练习二', '第三题', '（一）', '四、' with digits; other Chinese text as it is."""
    line = _CN_NUMBERED.sub(lambda m: m.group(1) + _CN_DIGITS[m.group(2)], line)
    return _CN_LEADING.sub(lambda m: m.group(1) + _CN_DIGITS[m.group(2)], line).replace(
        "．", ".")


# --- markers -----------------------------------------------------------------------------------

def _sections(nb: NotebookNode) -> list[tuple[str, str]]:
    """(number as written, all the text up to the next numbered marker), markdown and code."""
    sections: list[tuple[str, str]] = []
    number, parts = None, []
    for cell in nb.cells:
        source = cell.get("source", "")
        if not isinstance(source, str):
            continue
        source = source[:PROSE_CELL_CHARS]
        if cell.get("cell_type") == "code":
            parts.append(source)
            continue
        short = len(source.strip().splitlines()) == 1 and len(source.strip()) <= 60
        for line, fenced in _lines(source):
            marked = not fenced and (_HEADING.match(line) or short or _starts_marked(line))
            found = _number(line) if marked else None
            if found is not None:
                if number is not None:
                    sections.append((number, "\n".join(parts)))
                number, parts = found, []
            parts.append(line)
    if number is not None:
        sections.append((number, "\n".join(parts)))
    return sections


def _starts_marked(line: str) -> bool:
    head = line.strip()[:24]
    return bool(_SUB.match(head) or any(p.search(head) for p in _NUMBERED[:2])
                or re.match(r"^\W{0,6}\d{1,2}(?:\.\d{1,2})?(?:[.:：)）、]|\*\*)", head))


def _comment_header(source: str) -> str | None:
    """The first line of a code cell when it is a comment naming an exercise ("# 练习2",
    "# Exercise 1.3", "# Q4"), else None."""
    first = next((ln.strip() for ln in source.splitlines() if ln.strip()), "")
    if not first.startswith("#"):
        return None
    text = first.lstrip("# ")
    return text if any(p.search(text[:40]) for p in _NUMBERED[:2]) else None


def _listed_sub(item, line: str, written: str | None, subs: dict, by_list: bool,
                vocab: Vocabulary, topics: dict[str, re.Pattern]) -> str | None:
    """The sub-question a plain numbered list item means inside an exercise that a heading (not
    a list item) started, unless its words name another exercise."""
    indented = len(line) - len(line.lstrip()) >= 2  # a nested list: the item's own parts
    if item is None or (by_list and not indented) or written not in subs:
        return None
    k = int(item.group(1))
    if not 0 < k <= len(subs[written]):
        return None
    question = subs[written][k - 1]
    found = {vocab.group_of(t) for t in _topics(line, topics)}
    return question if not found or vocab.group_of(question) in found else None


def _number(line: str) -> str | None:
    head = _HEADING.sub("", line).strip()[:40]
    for pattern in _NUMBERED:
        match = pattern.search(head)
        if match:
            return match.group(1)
    return None


def _sub_index(line: str) -> int | None:
    match = _SUB.match(_HEADING.sub("", line).strip()[:12])
    if not match:
        return None
    digit = match.group(1) or match.group(2)
    return int(digit) if digit else "abcde".index(match.group(3).lower()) + 1


def _topics(text: str, topics: dict[str, re.Pattern]) -> list[str]:
    text = re.sub(r"[`$*_]", "", text)  # `X`, $d$, **K**: the words inside count
    return [k for k, rx in topics.items() if rx.search(text)]


def _scheme(sections: list[tuple[str, str]], vocab: Vocabulary,
            topics: dict[str, re.Pattern]) -> str:
    """The numbering under which the notebook's numbers agree most with what their sections
    are about (their keywords); numbers only one numbering has count double."""
    schemes = list(vocab.numberings)
    votes = dict.fromkeys(schemes, 0)
    for number, text in sections:
        having = [s for s in schemes if number in vocab.numberings[s]]
        if "." in number and 0 < len(having) < len(schemes):
            for scheme in having:
                votes[scheme] += 2
        counts: dict[str, int] = {}
        for key, rx in topics.items():
            group = vocab.group_of(key)
            counts[group] = counts.get(group, 0) + len(rx.findall(text[:20_000]))
        best = max(counts.values(), default=0)
        leaders = [g for g, n in counts.items() if n == best]
        if best == 0 or len(leaders) != 1:
            continue
        top = number.split(".")[0]
        for scheme in schemes:
            mapped = vocab.numberings[scheme].get(top)
            if mapped is not None:
                votes[scheme] += 1 if vocab.group_of(mapped) == leaders[0] else -1
    return max(schemes, key=lambda s: (votes[s], -schemes.index(s)))


def _read_marker(line: str, vocab: Vocabulary, topics: dict[str, re.Pattern],
                 numbers: dict[str, str], subs: dict[str, tuple[str, ...]],
                 written: str | None, current: str | None) -> tuple[str, str | None] | None:
    """(label, exercise as written) a marker line sets, or None when it sets none."""
    found = _topics(line, topics)
    number = _number(line)
    sub = _sub_index(line)
    if sub is not None and written in subs and sub <= len(subs[written]):
        # "(2)" or "b)" inside an exercise: its sub-question, unless the line's words name
        # another exercise ("(3) autograd" in a notebook numbering exercises so)
        question = subs[written][sub - 1]
        if not found or vocab.group_of(question) in {vocab.group_of(t) for t in found}:
            return question, written
    if number is not None and number in numbers:
        label = numbers[number]
        top = number.split(".")[0]
        if "." in number:
            return label, top
        if label in vocab.groups and sub is None:
            return _prefer_topic(label, found, vocab), number
        return _prefer_topic(label, found, vocab), top
    if number is not None and "." in number and number.split(".")[0] in subs:
        top, k = number.split(".")
        questions = subs[top]
        if 0 < int(k) <= len(questions):
            return questions[int(k) - 1], top
    if sub is not None and written is not None and written in subs:
        questions = subs[written]
        if sub <= len(questions):
            return questions[sub - 1], written
    specific = [t for t in found if t not in vocab.groups]
    group = vocab.group_of(current) if current else None
    inside = [t for t in specific if vocab.group_of(t) == group]
    if inside:
        return inside[0], written
    if specific:
        return specific[0], _written_for(vocab.group_of(specific[0]), numbers)
    groups = [t for t in found if t in vocab.groups]
    if groups:
        return groups[0], _written_for(groups[0], numbers)
    return None


def _prefer_topic(label: str, found: list[str], vocab: Vocabulary) -> str:
    """A numbered marker's label, unless its keywords name another exercise outright (a heading
    "Exercise 2 (autograd)" in a numbering the notebook mixes)."""
    groups = {vocab.group_of(t) for t in found}
    if found and vocab.group_of(label) not in groups and len(groups) == 1:
        specific = [t for t in found if t not in vocab.groups]
        return specific[0] if specific else groups.pop()
    if label in vocab.groups:
        inside = [t for t in found if t not in vocab.groups and vocab.group_of(t) == label]
        if len(inside) == 1 and len(vocab.groups[label]) > 1:
            return label  # a sub-question's words in an exercise heading: still the exercise
    return label


def _written_for(group: str, numbers: dict[str, str]) -> str | None:
    return next((k for k, v in numbers.items() if v == group), None)


def _mentions_exercises(line: str) -> bool:
    return bool(re.search(r"exercis|练习|习题|answers?|homework|hw\b", line, re.I))


# --- prose -------------------------------------------------------------------------------------

def _strip_marker(line: str) -> str:
    text = _HEADING.sub("", line).strip()
    text = re.sub(r"^\W{0,6}(?:\d{1,2}(?:\.\d{1,2})?|[(（]\s*\d\s*[)）]|[a-e]\))\W{0,4}", "", text)
    text = re.sub(r"^(?:练习|习题|问题|题目|题|第)\s*\d{1,2}\s*[题问]?\W{0,3}", "", text)
    return text.strip()


def _is_answer(line: str, *, marker: bool) -> bool:
    """Prose that answers: not a heading, a copied question or a title ("**2.1** edges
    orthogonal to v"); a formula ("d+1") is an answer however short."""
    if marker and _HEADING.match(line):
        return False
    text = _strip_marker(line) if marker else line.strip()
    if not text or text.endswith(("?", "？")):
        return False
    if any(p.fullmatch(text.strip(" *_:：.#")) for p in _NUMBERED[:2]):
        return False  # "Exercise 2", "练习3": a label
    words = len(re.findall(r"[A-Za-z0-9]+", text)) + len(_CJK.findall(text)) // 2
    math = bool(re.search(r"[=+*/^<>]|\d", text))
    sentence = bool(re.search(r"[，。；：,;:]\s*\S", text)) or \
        (words >= 2 and text.endswith((".", "。", "!", "！")))
    if _NOT_AN_ANSWER.search(text):
        return False
    if marker:
        return words > 5 or (math and words >= 1) or sentence
    return words >= 2 or math


def _plain(text: str) -> str:
    text = re.sub(r"\\[A-Za-z]+", "", text)  # LaTeX commands: $\mathbf{v}$ reads v
    return "".join(re.findall(r"[a-z0-9]+|[\u4e00-\u9fff]", text.lower()))


def _is_prompt(line: str, prompts: list[str]) -> bool:
    """Is the line (nearly) one of the exercises' own sentences?"""
    text = _plain(_strip_marker(line)[:1000])
    if len(text) < 8 or len(text) > 300:
        return False
    for prompt in prompts:
        if text in prompt:
            return True
        match = difflib.SequenceMatcher(None, text, prompt)
        kept = sum(b.size for b in match.get_matching_blocks())
        if match.ratio() >= 0.8 and len(text) - kept <= 1:
            return True  # nothing of the student's own beyond a character or so
    return False


def _add_prose(regions: Regions, cell: int, text: str, label: str, vocab: Vocabulary,
               topics: dict[str, re.Pattern]) -> None:
    if label in vocab.groups and len(vocab.groups[label]) > 1:
        for sentence in (s.strip() for s in _SENTENCE.split(text)):
            if not sentence:
                continue
            found = [t for t in _topics(sentence, topics) if t in vocab.groups[label]]
            for q in found or [label]:
                regions.add(q, cell, sentence)
        return
    regions.add(label, cell, text)


def _add_by_words(regions: Regions, cell: int, text: str, fallback: str | None,
                  vocab: Vocabulary, topics: dict[str, re.Pattern]) -> None:
    """Each sentence to the questions its words name (the most specific), else to `fallback`."""
    for sentence in (s.strip() for s in _SENTENCE.split(text)):
        found = _topics(sentence, topics) if sentence else []
        named = [t for t in found if t not in vocab.groups] or found
        for label in named or ([fallback] if sentence and fallback else []):
            _add_prose(regions, cell, sentence, label, vocab, topics)


# --- code comments -----------------------------------------------------------------------------

def _label_names(regions: Regions, cell: int, source: str, current: str | None,
                 vocab: Vocabulary, topics: dict[str, re.Pattern], numbers: dict[str, str],
                 subs: dict[str, tuple[str, ...]], written: str | None) -> None:
    """Names assigned or defined after a comment that names a question (same cell only)."""
    comments = _comments(source)
    if not comments:
        return
    for _, text in comments:
        comment = text.lstrip("# ")
        if re.match(r"^\W{0,3}\d", comment) and _number(comment) is not None \
                and _is_answer(comment, marker=True):
            found = _read_marker(comment, vocab, topics, numbers, subs, written, current)
            if found is not None:
                _add_prose(regions, cell, _strip_marker(comment), found[0], vocab, topics)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    for node in tree.body:
        names = _bound(node)
        if not names:
            continue
        line = node.lineno
        above = [c for n, c in comments if n <= line and (n == line or n >= _previous(
            tree, node))]
        label = None
        for text in reversed(above):
            comment = text.lstrip("# ")
            found = _read_marker(comment, vocab, topics, numbers, subs, written, current)
            if found is not None and (_number(comment) is not None or current is None or
                                      vocab.group_of(found[0]) == vocab.group_of(current)):
                label = found[0]
                break
        if label is not None:
            for name in names:
                regions.names[(cell, name)] = label


def _comments(source: str) -> list[tuple[int, str]]:
    try:
        return [(tok.start[0], tok.string) for tok in
                tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type == tokenize.COMMENT][:200]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def _previous(tree: ast.Module, node: ast.stmt) -> int:
    """The line after the statement before `node` (comments from there on are about it)."""
    index = tree.body.index(node)
    return (tree.body[index - 1].end_lineno or 0) + 1 if index else 1


def _bound(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []
