"""Hypothesis strategies for Python programs with real name dependencies, and state checks."""

from __future__ import annotations

import ast
import random
import warnings

from hypothesis import strategies as st
from pyflakes import messages as pm
from pyflakes.checker import Checker

from editseq.lintseq.analysis import FastLinter
from editseq.lintseq.diffs import join_lines

NAMES = ["a", "b", "c", "f", "g", "x", "os"]
PYFLAKES_ERRORS = (
    pm.UndefinedName, pm.UndefinedLocal, pm.UndefinedExport, pm.ReturnOutsideFunction,
    pm.YieldOutsideFunction, pm.ContinueOutsideLoop, pm.BreakOutsideLoop,
    pm.DefaultExceptNotLast, pm.DuplicateArgument,
)


@st.composite
def expressions(draw) -> str:
    kind = draw(st.integers(0, 5))
    name = draw(st.sampled_from(NAMES))
    if kind == 0:
        return str(draw(st.integers(0, 9)))
    if kind == 1:
        return name
    if kind == 2:
        return f"{name} + {draw(st.sampled_from(NAMES))}"
    if kind == 3:
        return f"[{name} for {draw(st.sampled_from(NAMES))} in range(3)]"
    if kind == 4:
        return f"(lambda {name}: {draw(st.sampled_from(NAMES))})(1)"
    return f"len({name!r} + '@@ -1 +1 @@')"


@st.composite
def blocks(draw, depth: int, indent: str, in_func: bool, in_loop: bool, level: int = 0, dels: bool = True) -> list[str]:
    n = draw(st.integers(1, 4 if depth else 3))
    out: list[str] = []
    pad = indent * level
    for _ in range(n):
        if draw(st.integers(0, 6)) == 0:
            out.append(draw(st.sampled_from(["", pad + "# a comment", pad + "   ", "#@@ -0,0 +1 @@"])))
        kinds = ["assign", "aug", "print", "import", "multiline", "walrus", "joined", "typing"] + (["del"] if dels else [])
        if depth:
            kinds += ["def", "if", "for", "try", "with", "class", "while", "match", "async", "try_star"]
        if in_func:
            kinds.append("nonlocal")
        if in_func:
            kinds.append("return")
        if in_loop:
            kinds.append("break")
        kind = draw(st.sampled_from(kinds))
        name = draw(st.sampled_from(NAMES))
        e = draw(expressions())
        sub = lambda f=in_func, lp=in_loop: draw(blocks(depth - 1, indent, f, lp, level + 1, dels))  # noqa: E731
        if kind == "assign":
            annotation = draw(st.sampled_from(["", f": {draw(st.sampled_from(NAMES)).upper()}"]))
            out.append(f"{pad}{name}{annotation} = {e}")
        elif kind == "aug":
            out.append(f"{pad}{name} += {e}")
        elif kind == "print":
            out.append(f"{pad}print({e}){draw(st.sampled_from(['', '  ', '; ' + name + ' = 1']))}")
        elif kind == "import":
            out.append(pad + draw(st.sampled_from(["import os", "from os import path as a", "import os.path as b",
                                                   "from typing import TypeVar, cast", "import typing as g"]
                                                  + (["from os.path import *"] if not level else []))))
        elif kind == "walrus":
            out.append(f"{pad}print(({name} := {e}), {name})")
        elif kind == "nonlocal":  # compiles only where an enclosing function binds the name
            out.append(f"{pad}nonlocal {name}")
        elif kind == "match":
            out += [f"{pad}match {e}:", f"{pad}{indent}case [{name}, *_]:",
                    *draw(blocks(depth - 1, indent, in_func, in_loop, level + 2, dels)),
                    f"{pad}{indent}case _:", *draw(blocks(depth - 1, indent, in_func, in_loop, level + 2, dels))]
        elif kind == "async":
            out += [f"{pad}async def {name}({draw(st.sampled_from(['', 'a']))}):",
                    f"{pad}{indent}await {draw(st.sampled_from(NAMES))}", *sub(True, False)]
        elif kind == "try_star":
            out += [f"{pad}try:", *sub(), f"{pad}except* {draw(st.sampled_from(['ValueError', 'OSError as ' + name]))}:", *sub()]
        elif kind == "del":
            out.append(f"{pad}del {name}")
        elif kind == "multiline":
            out += [f"{pad}{name} = (", f"{pad}{indent}{e},", f"{pad}{indent}'+-x',", f"{pad})"]
        elif kind == "joined":  # one logical line over two physical ones: a backslash joins them
            out += [f"{pad}{name} = {e}; \\", f"{pad}{draw(st.sampled_from(['print(' + name + ')', 'pass']))}"]
        elif kind == "typing":  # strings pyflakes reads as forward references (when typing is imported)
            other = draw(st.sampled_from(NAMES))
            out.append(pad + draw(st.sampled_from([f"{name} = TypeVar('{name}', bound='{other}')",
                                                   f"print(cast('{other}', {e}))",
                                                   f"{name} = g.Callable[['{other}'], g.Literal['{other}']]"])))
        elif kind == "return":
            out.append(f"{pad}return {e}")
        elif kind == "break":
            out.append(f"{pad}break")
        elif kind == "def":
            deco = [f"{pad}@{draw(st.sampled_from(NAMES))}"] if draw(st.booleans()) else []
            body = sub(True, False)
            if draw(st.booleans()):
                body = [f"{pad}{indent}global {draw(st.sampled_from(NAMES))}", *body]
            other = draw(st.sampled_from(NAMES))  # annotations: read in order, or at the end under the future import
            params = draw(st.sampled_from(['', 'a', 'a, b=x', f'a: {other}', f"a: '{other}'"]))
            returns = draw(st.sampled_from(['', f' -> {other.upper()}', ' -> None']))
            out += [*deco, f"{pad}def {name}({params}){returns}:", *body]
        elif kind == "class":
            comp = [f"{pad}{indent}{name}s = [{name} * k for k in range(3)]"] if draw(st.booleans()) else []
            decls = ["", f"global {name}"] + ([f"nonlocal {name}"] if in_func else [])  # nonlocal: an enclosing def's name
            decl = draw(st.sampled_from(decls))
            out += [f"{pad}class {name.upper()}({draw(st.sampled_from(['', 'object']))}):",
                    *([f"{pad}{indent}{decl}"] if decl else []), *comp, *sub(False, False)]
        elif kind == "if":
            out += [f"{pad}if {e}:", *sub()]
            if draw(st.booleans()):
                out += [f"{pad}elif {draw(expressions())}:", *sub()]
            if draw(st.booleans()):
                out += [f"{pad}else:", *sub()]
        elif kind in ("for", "while"):
            head = f"for {name} in {e}:" if kind == "for" else f"while {e}:"
            out += [f"{pad}{head}", *sub(in_func, True)]
            if draw(st.booleans()):
                out += [f"{pad}else:", *sub()]
        elif kind == "try":
            out += [f"{pad}try:", *sub()]
            handlers = draw(st.integers(0, 2))
            for _ in range(handlers):
                out += [f"{pad}except {draw(st.sampled_from(['ValueError', 'Exception as ' + name]))}:", *sub()]
            if handlers and draw(st.booleans()):
                out += [f"{pad}else:", *sub()]
            if not handlers or draw(st.booleans()):
                out += [f"{pad}finally:", *sub()]
        elif kind == "with":
            out += [f"{pad}with open({e!r}) as {name}:", *sub()]
    return out


@st.composite
def programs(draw, dels: bool = True) -> str:
    """Programs that compile; ``dels=False`` leaves out ``del`` statements, where pyflakes'
    bookkeeping (e.g. ``del`` of an ``except ... as`` name) differs from editseq's."""
    indent = draw(st.sampled_from(["    ", "  ", "\t"]))
    future = ["from __future__ import annotations"] if draw(st.integers(0, 4)) == 0 else []
    lines = future + draw(blocks(2, indent, False, False, dels=dels))
    program = "\n".join(lines)
    try:
        compile(program, "<gen>", "exec")
    except SyntaxError:
        return "x = 1"
    return program


def _function_bodies(tree: ast.AST) -> list[tuple[tuple[int, int], tuple[int, int], ast.AST]]:
    """(start, end, node) of every function and lambda body, as (line, column) positions."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0]
            start = min([(first.lineno, first.col_offset)] + [(d.lineno, 0) for d in getattr(first, "decorator_list", [])])
            out.append((start, (node.end_lineno, node.end_col_offset), node))
        elif isinstance(node, ast.Lambda):
            body = node.body
            out.append(((body.lineno, body.col_offset), (body.end_lineno, body.end_col_offset), node))
    return out


def _own_nodes(func: ast.AST) -> list[ast.AST]:
    """The nodes of a function's body that run in its own scope (nested scopes left out)."""
    out, todo = [], list(func.body) if isinstance(func.body, list) else [func.body]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue  # its decorators and defaults run here, but the generator keeps them plain
        todo.extend(ast.iter_child_nodes(node))
    return out


def used_before_import(lines: list[str]) -> set[tuple[str, tuple, int, bool]]:
    """pyflakes' blind spot, in ``pyflakes_errors``' keys: a function that uses a name before an
    import, ``def`` or ``class`` binds it there is silent, though the use fails (pyflakes checks
    only assignments); without that binding pyflakes reports it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(join_lines(lines))
    out = set()
    for _, _, func in _function_bodies(tree):
        nodes = _own_nodes(func)
        imported = {}
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    name = alias.asname or alias.name.split(".")[0]
                    imported[name] = min(imported.get(name, (1 << 30, 0)), (node.lineno, node.col_offset))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                imported[node.name] = min(imported.get(node.name, (1 << 30, 0)), (node.lineno, node.col_offset))
        for node in nodes:
            if (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in imported
                    and (node.lineno, node.col_offset) < imported[node.id]):
                out.add(("UndefinedName", (node.id,), func.lineno - 1, True))
    return out


def undefined_in_functions(lines: list[str]) -> set[tuple[str, tuple, int, bool]]:
    """pyflakes' other blind spot, in ``pyflakes_errors``' keys: it misses a use before a local
    assignment when a later comprehension in the function uses the name too (``await c``, then
    ``[c for a in x]``, then ``c = 0``), and reports it once that comprehension is deleted. The
    fast linter reports it in the full program: a function's undefined names it finds there are
    the full program's faults, not new ones."""
    source = join_lines(lines)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bodies = _function_bodies(ast.parse(source))
    out = set()
    for f in FastLinter().lint(source):
        around = [node for start, end, node in bodies if start[0] <= f.line <= end[0]]
        if f.code == "undefined-name" and around:
            func = max(around, key=lambda n: (n.lineno, n.col_offset))
            out.add(("UndefinedName", (f.message.split("'")[1],), func.lineno - 1, True))
    return out


def pyflakes_errors(lines: list[str], kept: list[int]) -> set[tuple[str, tuple, int, bool]]:
    """pyflakes' error-class messages of the state ``kept``, keyed by original line index.

    Inside a function, undefined uses of a name are keyed by (name, function): they are one fault
    of that function, and which uses pyflakes names depends on the rest of it. With an outer
    binding and a later local one it reports ``UndefinedLocal`` once, at the last use before the
    first assignment (and nothing when an import binds the name first); deleting the local
    binding turns the same uses into ``UndefinedName`` at each. Elsewhere they are keyed by use.
    """
    source = join_lines(lines[i] for i in kept)
    out = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences in real data
        tree = ast.parse(source)
    bodies = _function_bodies(tree)
    for m in Checker(tree).messages:
        if not isinstance(m, PYFLAKES_ERRORS):
            continue
        if isinstance(m, (pm.UndefinedName, pm.UndefinedLocal)):
            name = m.message_args if isinstance(m.message_args, str) else m.message_args[0]
            here = (m.lineno, m.col)
            around = [node for start, end, node in bodies if start <= here <= end]
            func = max(around, key=lambda n: (n.lineno, n.col_offset), default=None)
            out.add(("UndefinedName", (name,), kept[(func or m).lineno - 1], func is not None))
            continue
        out.add((type(m).__name__, m.message_args[:1], kept[m.lineno - 1], False))
    return out


def fast_errors(lines: list[str], kept: list[int]) -> set[tuple[str, str, int]]:
    source = join_lines(lines[i] for i in kept)
    return {(f.code, f.message, kept[f.line - 1]) for f in FastLinter().lint(source)}


def states(n_lines: int, steps: list[list[int]]) -> list[list[int]]:
    """Kept line indices after each deletion step (the full program first)."""
    alive = set(range(n_lines))
    out = [sorted(alive)]
    for step in steps:
        alive -= set(step)
        out.append(sorted(alive))
    return out


def check_sequence(lines: list[str], steps: list[list[int]], pyflakes: bool = True) -> None:
    """Every intermediate state compiles and has no error the full program lacks."""
    full_fast = fast_errors(lines, list(range(len(lines))))
    full_flakes = (pyflakes_errors(lines, list(range(len(lines)))) | used_before_import(lines)
                   | undefined_in_functions(lines)) if pyflakes else set()
    for kept in states(len(lines), steps)[1:]:
        source = join_lines(lines[i] for i in kept)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in real data
            compile(source, "<state>", "exec")
        assert fast_errors(lines, kept) <= full_fast, source
        if pyflakes:
            assert pyflakes_errors(lines, kept) <= full_flakes, source


def rng(seed: int) -> random.Random:
    return random.Random(seed)
