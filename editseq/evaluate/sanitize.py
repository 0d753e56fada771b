"""Sanitizing a whole program: keep what the task's entry point needs, drop the script around it.

A model asked for a program often adds a script after its function: example asserts (sometimes
wrong), a ``print(f(input()))`` that reads stdin, an example call that never ends, an
``if __name__ == "__main__":`` block. They run before the task's test and fail a correct
function. EvalPlus's answer (``evalplus.sanitize``) keeps the imports and the definitions the
entry point reaches; this is editseq's own version, working on Python's ``ast`` and
``symtable`` so that scopes are read as Python reads them (a parameter named like a global is
no use of the global). It never breaks a program: one that does not compile, or that defines no
entry point at its top level, comes back unchanged.
"""

from __future__ import annotations

import ast
import symtable
import warnings
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class _Statement:
    """One top-level statement: its source, the module names it sets and those it reads."""

    source: str
    binds: frozenset[str]  # names assigned, defined, imported or mutated (``memo[0] = 1``)
    uses: frozenset[str]  # module names read when it runs or when what it defines is called
    always: bool  # imports: kept whatever they bind (a name used in an exec'd string)


def sanitize(program: str, entry_point: str, also_needed: Iterable[str] = ()) -> str:
    """``program`` cut to its imports and the top-level statements that ``entry_point`` (and
    ``also_needed``: names the task's test reads, such as HumanEval/38's ``encode_cyclic``) need,
    transitively: functions and classes (decorators included), constants, and statements that
    fill a needed name (``TABLE[i] = ...``, ``memo.update(...)``, ``sys.setrecursionlimit(...)``
    when the kept code uses ``sys``). Everything else at the top level goes: asserts, prints,
    example calls, loops that only print, ``if __name__ == "__main__":`` blocks. Statements keep
    their order, one per line; comments between them go.
    """
    try:
        with warnings.catch_warnings():  # a sample's "\d" in a plain string is the sandbox's to report
            warnings.simplefilter("ignore")
            compile(program, "<sample>", "exec", dont_inherit=True)  # errors ast.parse lets by (`return` at the top)
            statements = [_read(program, node) for node in ast.parse(program).body if not _is_main_guard(node)]
    except (SyntaxError, ValueError):  # not Python, or a compile-time error: judged as written
        return program
    needed = {entry_point, *also_needed}
    if not any(entry_point in s.binds for s in statements):
        return program  # defined somewhere we do not look (a main block, exec): leave it whole
    kept = [s.always for s in statements]
    grew = True
    while grew:
        grew = False
        for i, s in enumerate(statements):
            if not kept[i] and s.binds & needed:
                kept[i] = grew = True
        for i, s in enumerate(statements):
            if kept[i] and not s.uses <= needed:
                needed |= s.uses
                grew = True
    return "".join(s.source + "\n" for s, keep in zip(statements, kept, strict=True) if keep)


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either way round)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare) or len(node.test.ops) != 1:
        return False
    sides = [node.test.left, *node.test.comparators]
    return (isinstance(node.test.ops[0], ast.Eq) and any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


def _read(program: str, node: ast.stmt) -> _Statement:
    """A top-level statement of a program that compiles, with its names."""
    decorators = getattr(node, "decorator_list", [])
    source = "".join(f"@{ast.get_source_segment(program, d)}\n" for d in decorators)
    source += ast.get_source_segment(program, node) or ""
    table = symtable.symtable(source, "<sample>", "exec")
    binds = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    uses = module_reads(table, assigned=True)  # assigned too: a kept function's global stays bound
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        binds |= _mutated(node)
    return _Statement(source, frozenset(binds), frozenset(uses), isinstance(node, (ast.Import, ast.ImportFrom)))


def module_reads(table: symtable.SymbolTable, assigned: bool = False) -> set[str]:
    """The module-level names code reads (``table``: its symbol table, read as a module): those
    its top level reads, and the globals its nested scopes (function and class bodies,
    comprehensions) read, or with ``assigned`` also those they only assign or declare
    (``global x; x = 1``). A name a nested scope binds itself is no module name, however it is
    spelt. ``corpus.imports`` takes the imports of what a mined function reads with it."""
    names = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    scopes = table.get_children()
    while scopes:
        scope = scopes.pop()
        scopes += scope.get_children()
        names |= {s.get_name() for s in scope.get_symbols() if s.is_global() and (assigned or s.is_referenced())}
    return names


def _mutated(node: ast.stmt) -> set[str]:
    """Names whose value a statement changes without rebinding them: the root of a subscript or
    attribute it assigns or deletes (``memo[0] = 1``), or of a method it calls as a statement
    (``memo.update(...)``; ``print(...)`` and ``f(2)`` call no method of a name)."""
    targets: list[ast.expr] = [n for n in ast.walk(node) if isinstance(n, (ast.Subscript, ast.Attribute))
                               and isinstance(n.ctx, (ast.Store, ast.Del))]
    targets += [n.value.func for n in ast.walk(node) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
                and isinstance(n.value.func, ast.Attribute)]
    roots = set()
    for target in targets:
        while isinstance(target, (ast.Subscript, ast.Attribute)):
            target = target.value
        if isinstance(target, ast.Name):
            roots.add(target.id)
    return roots


def names_read(code: str) -> frozenset[str]:
    """Every name ``code`` mentions (a task's test: the functions it calls besides the entry
    point); none when it is not Python."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return frozenset(n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name))
    except (SyntaxError, ValueError):
        return frozenset()
