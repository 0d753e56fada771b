"""Diversity of a run's samples per problem, the quantity the LintSeq paper ties to pass@k gains.

Two samples count as the same program when they differ only in formatting, comments,
docstrings or the names they choose: each is parsed, docstrings dropped, the names it binds
renamed in order of first appearance and unparsed. Names it does not bind (builtins, a HumanEval
completion's parameters and the modules its prompt imports) and attributes are kept: they mean
the same in every sample of a problem. So is a keyword argument, the name of a parameter of the
function called (``sorted(xs, key=f)``), except where that function is one the code defines: its
parameter was renamed, so the keyword is renamed with it (``helper(s, start=i)``). A method of a
class the code defines is such a function too: its name is the sample's choice, like a function's,
so its ``def`` and its calls on the class's own receiver (``self.step()``, ``cls.make()``) are
renamed alike, with their keywords; keeping both would make ``_step`` and ``_advance`` two programs
for a name alone. An attribute of anything else (``other.step()``, ``xs.copy()``) is kept, as one
cannot tell whose it is. Text that does not
parse (HumanEval completions are function bodies, so they are first wrapped in a ``def``) falls
back to whitespace-collapsed text. Edit distance is a token-level Levenshtein distance computed
bit-parallel (Hyyrö 2001), on at most ``max_pairs`` sampled pairs per problem, so 200 samples
of 164 problems take seconds.
"""

from __future__ import annotations

import ast
import builtins
import random
import re
from collections import defaultdict
from itertools import combinations

from editseq.report.inputs import Attempt
from editseq.report.metrics import natural
from editseq.text import CODE_TOKEN_RE

_BUILTINS = frozenset(dir(builtins))
_COMMENT = re.compile(r"#[^\n]*")


def _bound_names(tree: ast.AST) -> set[str]:
    """Names the code binds: assigned, parameters, functions and classes it defines, ``as`` names.
    Not a special (dunder) name: ``__lt__`` or ``__iter__`` is the language's, not the sample's
    choice, and says what its class does (renamed, classes ordered by ``__lt__`` and by
    ``__gt__`` were one program)."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.alias) and node.asname:
            bound.add(node.asname)
    return {name for name in bound - _BUILTINS if not (name.startswith("__") and name.endswith("__"))}


def _keyword_params(tree: ast.AST) -> dict[str, set[str]]:
    """Functions the code defines -> their parameters a call can name (not positional-only ones)."""
    params: dict[str, set[str]] = defaultdict(set)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params[node.name] |= {a.arg for a in node.args.args + node.args.kwonlyargs}
    return params


class _Renamer(ast.NodeTransformer):
    """Rename the names the code binds to v0, v1, ... by first appearance; drop docstrings.

    A free name is kept: renamed by first appearance, ``return a - b`` and ``return b - a`` (a
    completion's parameters) or ``math.sqrt(x)`` and ``numpy.sqrt(x)`` were one program.
    """

    def __init__(self, bound: set[str], params: dict[str, set[str]]) -> None:
        self.bound = bound
        self.params = params  # ``_keyword_params``
        self.names: dict[str, str] = {}
        self.methods: set[str] = set()  # of the class being visited
        self.receivers: set[str] = set()  # its methods' first parameters (self, cls), static ones' aside

    def _new(self, name: str) -> str:
        if name not in self.bound:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self._new(node.id)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        """A keyword naming a parameter of a function the code defines is renamed as that parameter
        is: ``helper(s, start=i)`` and ``helper(s, begin=i)`` of two samples whose helper differs in
        that name alone were two programs. Another's keyword is its API, kept: ``sorted(xs, key=f)``."""
        name = node.func.id if isinstance(node.func, ast.Name) else self._own_method(node.func)
        named = self.params.get(name, set()) if name else set()
        for keyword in node.keywords:
            if keyword.arg in named:
                keyword.arg = self._new(keyword.arg)
        return self.generic_visit(node)

    def _own_method(self, node: ast.AST) -> str | None:
        """The method's name when ``node`` is ``self.method`` of the class being visited."""
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in self.receivers and node.attr in self.methods):
            return node.attr
        return None

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if self._own_method(node):
            node.attr = self._new(node.attr)
        return self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        outer = self.methods, self.receivers
        defs = [d for d in node.body if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef))]
        self.methods = {d.name for d in defs}
        self.receivers = {(d.args.posonlyargs + d.args.args)[0].arg for d in defs
                          if d.args.posonlyargs + d.args.args
                          and not any(isinstance(x, ast.Name) and x.id == "staticmethod" for x in d.decorator_list)}
        try:
            return self._body_owner(node)
        finally:
            self.methods, self.receivers = outer

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._new(node.arg)
        node.annotation = None
        return node

    def _body_owner(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
        if hasattr(node, "name") and isinstance(node.name, str):
            node.name = self._new(node.name)
        return self.generic_visit(node)

    visit_Module = visit_FunctionDef = visit_AsyncFunctionDef = _body_owner

    def visit_Global(self, node: ast.Global) -> ast.Global:
        node.names = [self._new(n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.name:
            node.name = self._new(node.name)
        return self.generic_visit(node)

    def visit_alias(self, node: ast.alias) -> ast.alias:
        if node.asname:
            node.asname = self._new(node.asname)
        return node


def normalize(text: str) -> str:
    """A canonical form: equal for programs that differ only in layout, comments, docstrings, names."""
    for source in (text, "def _completion_():\n" + text):
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        return ast.unparse(ast.fix_missing_locations(_Renamer(_bound_names(tree), _keyword_params(tree)).visit(tree)))
    return "\x00unparsed " + " ".join(_COMMENT.sub("", text).split())


def levenshtein(a: list[str], b: list[str]) -> int:
    """Edit distance between token lists, bit-parallel over the longer one (Myers/Hyyrö)."""
    if len(a) < len(b):
        a, b = b, a
    m = len(a)
    if m == 0 or not b:
        return max(m, len(b))
    peq: dict[str, int] = {}
    for i, tok in enumerate(a):
        peq[tok] = peq.get(tok, 0) | (1 << i)
    mask, high = (1 << m) - 1, 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for tok in b:
        eq = peq.get(tok, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & mask
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv
    return score


def normalized_distance(a: list[str], b: list[str]) -> float:
    """Levenshtein distance over the longer length: 0 same, 1 nothing in common."""
    longest = max(len(a), len(b))
    return levenshtein(a, b) / longest if longest else 0.0


def problem_diversity(forms: list[str], passed: list[bool], max_pairs: int = 64,
                      seed: int = 0) -> dict[str, float | int | None]:
    """Distinct fraction, mean pairwise normalized edit distance, distinct passing programs.

    One sample has no diversity: its fraction and distance are None, not 1 ("all distinct") and
    0 ("all alike") at once, which pulled a run's means both ways."""
    n = len(forms)
    tokens = {f: CODE_TOKEN_RE.findall(f) for f in set(forms)}
    pairs = list(combinations(range(n), 2))
    if len(pairs) > max_pairs:
        pairs = random.Random(seed).sample(pairs, max_pairs)
    memo: dict[tuple[str, str], float] = {}
    total = 0.0
    for i, j in pairs:
        key = (forms[i], forms[j]) if forms[i] <= forms[j] else (forms[j], forms[i])
        if key[0] != key[1] and key not in memo:
            memo[key] = normalized_distance(tokens[key[0]], tokens[key[1]])
        total += memo.get(key, 0.0)
    return {"samples": n, "distinct": len(tokens), "distinct_fraction": len(tokens) / n if n > 1 else None,
            "mean_edit_distance": total / len(pairs) if pairs else None,
            "distinct_passing": len({f for f, ok in zip(forms, passed, strict=True) if ok})}


def run_diversity(attempts: list[Attempt], max_pairs: int = 64) -> dict[str, dict]:
    """task -> diversity numbers, for attempts that carry their program text."""
    by_task: dict[str, list[Attempt]] = defaultdict(list)
    for a in attempts:
        if a.program is not None:
            by_task[a.task].append(a)
    cache: dict[str, str] = {}
    out = {}
    for task, group in sorted(by_task.items(), key=lambda kv: natural(kv[0])):  # HumanEval/2 before /10, as the tables
        forms = [_form(a.program or "", cache) for a in group]
        out[task] = problem_diversity(forms, [a.passed for a in group], max_pairs)
    return out


def _form(text: str, cache: dict[str, str]) -> str:
    if text not in cache:
        cache[text] = normalize(text)
    return cache[text]


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Rank correlation (average ranks for ties); None when undefined (< 3 points or constant)."""
    if len(xs) < 3:
        return None
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx, vy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    return cov / (vx * vy) ** 0.5 if vx and vy else None


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for t in order[i:j + 1]:
            ranks[t] = (i + j) / 2
        i = j + 1
    return ranks
