"""A canonical text of an answer cell, robust to comments, docstrings and reordered statements.

Names are left as written: the token filter (copydetect's) replaces them afterwards. Here the code is
parsed, the template's statements dropped, keyword arguments sorted, and each block's statements put
in one canonical order that keeps every data dependency (a statement stays after the statements
whose names it uses): two answers that differ only by the order of independent statements get the
same text. Each statement's span in the text is kept with its lines in the cell, so a fragment
shared in the text can be shown on the student's own lines. A cell that does not parse is kept as
it was written (IPython magics blanked), one span per line.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_MAGIC = re.compile(r"^\s*(%%?[A-Za-z]|![A-Za-z./~])")     # %time, %%writefile, !pip (not "% x", "!= y")
_REORDERED = 300       # a block of more statements keeps its own order (ordering costs their square)
_WORD = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Span:
    """Characters ``start:end`` of a canonical text come from lines ``first..last`` (1-based) of a cell."""
    start: int
    end: int
    first: int
    last: int


@dataclass(frozen=True)
class Canonical:
    text: str
    spans: tuple[Span, ...]     # outer statements before the statements nested in them
    parsed: bool


def mask_magics(source: str) -> str:
    """IPython magics and shell lines (``%%writefile app.py``, ``!pip ...``) blanked, lines kept."""
    return "\n".join("" if _MAGIC.match(line) else line for line in source.split("\n"))


def _dump(node: ast.AST) -> str:
    return ast.dump(node, annotate_fields=False, include_attributes=False)


def template_statements(release_source: str) -> set[str]:
    """The simple statements of a release cell (its imports, ``raise NotImplementedError()``, prints)."""
    try:
        tree = ast.parse(mask_magics(release_source))
    except SyntaxError:
        return set()
    return {_dump(n) for n in ast.walk(tree) if isinstance(n, ast.stmt) and not _body_fields(n)}


def _body_fields(node: ast.AST) -> list[str]:
    return [f for f in ("body", "orelse", "finalbody", "handlers", "cases")
            if isinstance(getattr(node, f, None), list) and getattr(node, f)]


class _Effects(ast.NodeVisitor):
    """Names a statement reads and writes (a method called for its effect, as in ``model.add(...)``, and
    setting an attribute or item count as writing the name); a function's or class's locals stay inside it."""

    def __init__(self) -> None:
        self.reads: set[str] = set()
        self.writes: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        (self.reads if isinstance(node.ctx, ast.Load) else self.writes).add(node.id)

    def visit_Expr(self, node: ast.Expr) -> None:
        func = node.value.func if isinstance(node.value, ast.Call) else None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            self.writes.add(func.value.id)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if not isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name):
            self.writes.add(node.value.id)
        self.generic_visit(node)

    visit_Subscript = visit_Attribute

    def visit_alias(self, node: ast.alias) -> None:
        self.writes.add((node.asname or node.name).split(".")[0])

    def _scope(self, node: ast.AST, name: str | None, outside: list[ast.AST], inside: list[ast.AST],
               params: set[str]) -> None:
        inner = _Effects()
        for child in inside:
            inner.visit(child)
        for child in outside:
            self.visit(child)
        self.reads |= inner.reads - inner.writes - params
        if name:
            self.writes.add(name)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        a = node.args
        params = {p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if p}
        self._scope(node, node.name, [*node.decorator_list, *a.defaults, *[d for d in a.kw_defaults if d]],
                    node.body, params)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope(node, node.name, [*node.decorator_list, *node.bases, *node.keywords], node.body, set())

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._scope(node, None, [], [node.body], {p.arg for p in node.args.args})


def _effects(stmt: ast.stmt) -> tuple[set[str], set[str]]:
    e = _Effects()
    e.visit(stmt)
    return e.reads, e.writes


def _key(stmt: ast.stmt) -> tuple[str, str]:
    """Orders independent statements: first blind to names, so a renamed copy sorts the same way (statements
    tied there differ only by names, which the token filter erases, so their own order cannot matter)."""
    text = ast.unparse(stmt)
    return _WORD.sub("v", text), text


def canonical_order(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements in a canonical order that keeps each after every statement it depends on."""
    if len(body) > _REORDERED:
        return body
    effects = [_effects(s) for s in body]
    keys = [_key(s) for s in body]
    after: list[set[int]] = [set() for _ in body]
    for j, (rj, wj) in enumerate(effects):
        for i in range(j):
            ri, wi = effects[i]
            if wi & (rj | wj) or wj & ri:
                after[j].add(i)
    done: set[int] = set()
    order: list[int] = []
    while len(order) < len(body):
        ready = [j for j in range(len(body)) if j not in done and after[j] <= done]
        nxt = min(ready, key=lambda j: (keys[j], j))
        done.add(nxt)
        order.append(nxt)
    return [body[j] for j in order]


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _normalise(tree: ast.AST, template: set[str]) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            node.keywords.sort(key=lambda k: (k.arg is None, k.arg or ""))
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not (isinstance(body, list) and body and isinstance(body[0], ast.stmt)):
                continue
            kept = [s for s in body if not _is_docstring(s)
                    and not (not _body_fields(s) and _dump(s) in template)]
            setattr(node, field, canonical_order(kept))


class _SpanUnparser(ast._Unparser):   # the standard unparser, recording where each statement lands
    def __init__(self, **kwargs: bool) -> None:
        super().__init__(**kwargs)
        self.spans: list[Span] = []
        self._counted = (0, 0)          # (parts of the output counted, their length)

    def _length(self) -> int:
        parts, length = self._counted
        length += sum(map(len, self._source[parts:]))
        self._counted = (len(self._source), length)
        return length

    def traverse(self, node: ast.AST | list) -> None:
        if not isinstance(node, ast.stmt):
            super().traverse(node)
            return
        start = self._length()
        index = len(self.spans)
        self.spans.append(Span(0, 0, 0, 0))
        super().traverse(node)
        fields = _body_fields(node)
        children = [c for f in fields for c in getattr(node, f) if isinstance(c, ast.stmt)]
        first_child = min((c.lineno for c in children), default=node.end_lineno + 1)
        last = node.end_lineno if not fields else max(node.lineno, first_child - 1)
        self.spans[index] = Span(start, self._length(), node.lineno, last)


def as_written(source: str, template: set[str] | None = None) -> Canonical:
    """The cell as written (magics blanked), one span per line; the template stays in (its fingerprints
    are dropped later)."""
    masked = mask_magics(source)
    spans, pos = [], 0
    for number, line in enumerate(masked.split("\n"), start=1):
        spans.append(Span(pos, pos + len(line), number, number))
        pos += len(line) + 1
    return Canonical(masked, tuple(spans), parsed=False)


def canonical(source: str, template: set[str] | None = None) -> Canonical:
    """The canonical text of one cell's code, without the *template* statements (see
    :func:`template_statements`); code that does not parse (or nests too deeply) is kept as written."""
    masked = mask_magics(source)
    try:
        tree = ast.parse(masked)
        _normalise(tree, template or set())
        unparser = _SpanUnparser()
        text = unparser.visit(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return as_written(source)
    return Canonical(text, tuple(unparser.spans), parsed=True)
