"""The block structure of a program, at the granularity of lines that must be deleted together.

A *unit* is the smallest set of lines that can be deleted while the rest still parses: a simple
statement with all its physical lines, a clause header (``def f(...):``, ``elif x:``, ``else:``),
or a decorator; statements that share a line (``if x: y``, ``a = 1; b = 2``) or a logical line (a
backslash at a line's end joins the next one to it) share a unit. Blank and comment lines between
statements join the unit of the next statement (trailing ones join the last).

Nodes and clauses record which deletions force further ones: a compound statement dies with its
first clause header; a clause dies when its body is empty; ``try`` dies when it no longer has a
valid set of clauses; ``match`` when its last ``case`` is gone.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field

from editseq.lintseq.diffs import join_lines

# Clause roles
PRIMARY, ELIF, ELSE, EXCEPT, FINALLY, CASE = range(6)


@dataclass
class Node:
    """A statement. ``units`` lists every unit of its subtree (headers, bodies, decorators)."""

    parent_clause: int  # index into Structure.clauses, -1 at module level
    clauses: list[int] = field(default_factory=list)  # empty for simple statements
    units: list[int] = field(default_factory=list)
    is_try: bool = False
    is_match: bool = False


@dataclass
class Clause:
    """A clause of a compound statement: its header unit and body statements."""

    node: int
    role: int
    header: int  # unit id
    body: list[int] = field(default_factory=list)  # node ids
    units: list[int] = field(default_factory=list)  # header + body subtree units


@dataclass
class Structure:
    """A program's units and the nodes and clauses that tie them: what a deletion must take
    along so that the rest still parses (see the module docstring)."""

    lines: list[str]
    line_unit: list[int]  # unit id of every line
    unit_lines: list[list[int]]  # 0-based line indices of each unit, sorted
    unit_first_code_line: list[int]
    nodes: list[Node]
    clauses: list[Clause]
    owners: list[list[tuple[int, int]]]  # per unit: ("node", id) as (0, id), ("clause", id) as (1, id)

    @property
    def n_units(self) -> int:
        return len(self.unit_lines)


def is_code_line(line: str) -> bool:
    """A line that is neither blank nor a comment (the reference's rule for pickable lines)."""
    stripped = line.lstrip()
    return bool(stripped) and not stripped.startswith("#")


class _Builder:
    """Collects line ranges ("items") of statements and clause headers, then unions them into units."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.items: list[tuple[int, int]] = []  # inclusive 0-based line ranges
        self.nodes: list[Node] = []
        self.clauses: list[Clause] = []
        self.item_owner: list[tuple[int, int] | None] = []
        self.node_items: list[list[int]] = []  # per node, all item ids in its subtree
        self.clause_items: list[list[int]] = []

    # -- items -----------------------------------------------------------------------------
    def _item(self, start: int, end: int, owner: tuple[int, int] | None) -> int:
        self.items.append((start, end))
        self.item_owner.append(owner)
        return len(self.items) - 1

    def _header_end(self, start: int, hint: int, body_first: int) -> int:
        """Last line of a clause header: the colon line, found from the AST hint and the body start."""
        if body_first <= hint:
            return hint
        end = hint
        for i in range(hint + 1, body_first):
            if is_code_line(self.lines[i]):
                end = i
        return max(end, start)

    def _body_start(self, hint: int, first: ast.stmt) -> int:
        """The first line of a body whose first statement is ``first``, its decorators included: the
        AST starts a decorated ``def`` at ``def``, and ``@(`` may open a decorator above its expression."""
        start = min([first.lineno, *(d.lineno for d in getattr(first, "decorator_list", []))]) - 1
        if start == first.lineno - 1:
            return start
        return next((i for i in range(hint + 1, start) if self.lines[i].lstrip().startswith("@")), start)

    def _keyword_line(self, lo: int, hi: int, keyword: str) -> int:
        """The line in [lo, hi] holding ``keyword:`` (``else``/``finally``), which the AST does not record
        (or ``keyword \\``: a backslash may put the colon on the next line)."""
        for i in range(lo, hi + 1):
            stripped = self.lines[i].lstrip()
            if stripped.startswith(keyword) and stripped[len(keyword) :].lstrip().startswith((":", "\\")):
                return i
        raise ValueError(f"no {keyword!r} line between lines {lo + 1} and {hi + 1}")

    # -- statements ------------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt], parent_clause: int) -> list[int]:
        return [self.stmt(s, parent_clause) for s in stmts]

    def stmt(self, s: ast.stmt, parent_clause: int) -> int:
        nid = len(self.nodes)
        self.nodes.append(Node(parent_clause=parent_clause))
        self.node_items.append([])
        spec = _clauses_of(s, self)
        if spec is None:
            item = self._item(s.lineno - 1, s.end_lineno - 1, (0, nid))  # type: ignore[operator]
            self.node_items[nid].append(item)
            return nid
        node = self.nodes[nid]
        node.is_try = isinstance(s, (ast.Try, getattr(ast, "TryStar", ast.Try)))
        node.is_match = isinstance(s, ast.Match)
        for dec in getattr(s, "decorator_list", []):
            # ``@(`` ... ``)``: the AST ends it inside its parentheses; it runs to the next ``@`` or
            # the ``def`` line (after its expression only brackets close)
            end = dec.end_lineno - 1  # type: ignore[operator]
            limit = next((i for i in range(end + 1, s.lineno - 1) if self.lines[i].lstrip().startswith("@")),
                         s.lineno - 1)
            item = self._item(dec.lineno - 1, self._header_end(dec.lineno - 1, end, limit), None)
            self.node_items[nid].append(item)
        for role, start, hint, body in spec:
            cid = len(self.clauses)
            self.clauses.append(Clause(node=nid, role=role, header=-1))
            self.clause_items.append([])
            node.clauses.append(cid)
            body_first = self._body_start(hint, body[0]) if body else hint + 1
            end = self._header_end(start, hint, body_first) if body else hint
            header_item = self._item(start, end, (1, cid))
            self.clause_items[cid].append(header_item)
            self.clauses[cid].header = header_item  # item id for now; mapped to a unit later
            children = self.block(body, cid)
            self.clauses[cid].body = children
            for child in children:
                self.clause_items[cid].extend(self.node_items[child])
            self.node_items[nid].extend(self.clause_items[cid])
        return nid


def _end(node: ast.AST) -> int:
    """Largest 0-based end line over a node and its descendants."""
    return max(getattr(n, "end_lineno", 1) or 1 for n in ast.walk(node)) - 1


def _max_end(start: int, parts: list[ast.AST | None]) -> int:
    ends = [_end(p) for p in parts if p is not None]
    return max([start, *ends])


def _clauses_of(s: ast.stmt, b: _Builder) -> list[tuple[int, int, int, list[ast.stmt]]] | None:
    """(role, header start, header end hint, body) of each clause; None for a simple statement."""
    start = s.lineno - 1
    if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
        hint = _max_end(start, [s.args, s.returns, *getattr(s, "type_params", [])])
        return [(PRIMARY, start, hint, s.body)]
    if isinstance(s, ast.ClassDef):
        hint = _max_end(start, [*s.bases, *s.keywords, *getattr(s, "type_params", [])])
        return [(PRIMARY, start, hint, s.body)]
    if isinstance(s, (ast.With, ast.AsyncWith)):
        return [(PRIMARY, start, _max_end(start, list(s.items)), s.body)]
    if isinstance(s, (ast.For, ast.AsyncFor, ast.While)):
        hint = _max_end(start, [s.test] if isinstance(s, ast.While) else [s.target, s.iter])
        spec = [(PRIMARY, start, hint, s.body)]
        if s.orelse:
            spec.append(_else_clause(b, s.body, s.orelse, "else", ELSE))
        return spec
    if isinstance(s, ast.If):
        spec = [(PRIMARY, start, _max_end(start, [s.test]), s.body)]
        node = s
        while node.orelse:
            first = node.orelse[0]
            if (
                len(node.orelse) == 1
                and isinstance(first, ast.If)
                and b.lines[first.lineno - 1].lstrip().startswith("elif")
            ):
                spec.append((ELIF, first.lineno - 1, _max_end(first.lineno - 1, [first.test]), first.body))
                node = first
                continue
            spec.append(_else_clause(b, node.body, node.orelse, "else", ELSE))
            break
        return spec
    if isinstance(s, (ast.Try, getattr(ast, "TryStar", ast.Try))):
        spec = [(PRIMARY, start, start, s.body)]
        for h in s.handlers:
            spec.append((EXCEPT, h.lineno - 1, _max_end(h.lineno - 1, [h.type]), h.body))
        prev = s.handlers[-1].body if s.handlers else s.body
        if s.orelse:
            spec.append(_else_clause(b, prev, s.orelse, "else", ELSE))
            prev = s.orelse
        if s.finalbody:
            spec.append(_else_clause(b, prev, s.finalbody, "finally", FINALLY))
        return spec
    if isinstance(s, ast.Match):
        # its header has no body to end it: it runs to the line before the first ``case``, whose
        # pattern may start below the keyword (``case (``); after the subject only brackets close
        subject_end = _max_end(start, [s.subject])
        first = s.cases[0].pattern.lineno - 1
        keyword = next((i for i in range(subject_end + 1, first) if b.lines[i].lstrip().startswith("case")), first)
        spec = [(PRIMARY, start, b._header_end(start, subject_end, keyword), [])]
        for case in s.cases:
            cstart = case.pattern.lineno - 1
            spec.append((CASE, cstart, _max_end(cstart, [case.pattern, case.guard]), case.body))
        return spec
    return None


def _else_clause(
    b: _Builder, before: list[ast.stmt], body: list[ast.stmt], keyword: str, role: int
) -> tuple[int, int, int, list[ast.stmt]]:
    lo = _end(before[-1])
    line = b._keyword_line(lo, body[0].lineno - 1, keyword)
    return (role, line, line, body)


def build_structure(lines: list[str], tree: ast.Module) -> Structure:
    """Units, nodes and clauses of a parsed program (``lines`` are the program's lines)."""
    b = _Builder(lines)
    b.block(tree.body, -1)
    n = len(lines)
    joined = _joined_lines(lines)
    for item, (start, end) in enumerate(b.items):  # an item runs on to the end of its logical line
        while end in joined:
            end += 1
        b.items[item] = (start, end)
    line_item, item_unit = _unite(b.items, n)
    n_units = len(set(item_unit))
    line_unit = [-1 if it == -1 else item_unit[it] for it in line_item]
    _attach_gap_lines(line_unit)
    unit_lines: list[list[int]] = [[] for _ in range(n_units)]
    for line, unit in enumerate(line_unit):
        if unit >= 0:
            unit_lines[unit].append(line)
    first_code = [n] * n_units
    for item, (start, _end_line) in enumerate(b.items):
        unit = item_unit[item]
        first_code[unit] = min(first_code[unit], start)
    owners: list[list[tuple[int, int]]] = [[] for _ in range(n_units)]
    for item, owner in enumerate(b.item_owner):
        if owner is not None:
            owners[item_unit[item]].append(owner)
    for clause in b.clauses:
        clause.header = item_unit[clause.header]
    for cid, items in enumerate(b.clause_items):
        b.clauses[cid].units = sorted({item_unit[i] for i in items})
    for nid, items in enumerate(b.node_items):
        b.nodes[nid].units = sorted({item_unit[i] for i in items})
    return Structure(lines, line_unit, unit_lines, first_code, b.nodes, b.clauses, owners)


def _unite(items: list[tuple[int, int]], n_lines: int) -> tuple[list[int], list[int]]:
    """Items that share a line are one unit (union-find): the first item on each line (-1 for
    none), and each item's unit, units numbered in the order of their first item."""
    line_item = [-1] * n_lines
    parent = list(range(len(items)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for item, (start, end) in enumerate(items):
        for line in range(start, end + 1):
            other = line_item[line]
            if other == -1:
                line_item[line] = item
            else:
                ra, rb = find(other), find(item)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    root_unit: dict[int, int] = {}
    item_unit = [0] * len(items)
    for item in range(len(items)):
        root = find(item)
        if root not in root_unit:
            root_unit[root] = len(root_unit)
        item_unit[item] = root_unit[root]
    return line_item, item_unit


def _joined_lines(lines: list[str]) -> set[int]:
    """0-based lines that end in a backslash joining them to the next line (not one in a string or
    a comment). The AST ends a statement at such a line, but the two are one logical line: deleting
    the next line alone (an empty line after ``x = 1 \\``, or ``b = 2`` after ``a = 1; \\``)
    would join the statement to whatever line follows. Tokenizes only programs that have one."""
    candidates = {i for i, line in enumerate(lines) if line.endswith("\\")}
    if not candidates:
        return candidates
    joined = set(candidates)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(join_lines(lines)).readline):
            if tok.type == tokenize.COMMENT:
                joined.discard(tok.start[0] - 1)
            else:  # a string that spans lines: its backslashes escape its own line ends
                joined.difference_update(range(tok.start[0] - 1, tok.end[0] - 1))
    except (tokenize.TokenError, SyntaxError):
        # the tokenize module is not Python's tokenizer: it refuses some programs Python runs (a
        # lone backslash on a line indented as no block is). Every candidate then joins: at worst a
        # statement ending in a comment that ends in a backslash shares a unit with the next line
        return candidates
    return joined


def _attach_gap_lines(line_unit: list[int]) -> None:
    """Blank/comment lines outside statements join the next statement's unit (trailing: the last)."""
    nxt = -1
    for line in range(len(line_unit) - 1, -1, -1):
        if line_unit[line] == -1:
            line_unit[line] = nxt
        else:
            nxt = line_unit[line]
    last = -1
    for line, unit in enumerate(line_unit):
        if unit == -1:
            line_unit[line] = last
        else:
            last = unit
