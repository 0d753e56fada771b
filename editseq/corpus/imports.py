"""The imports a function mined from a module needs to stand alone as a program.

A mined program is trained on as a whole program: one calling ``os`` or ``np`` unimported teaches
writing code that fails. So the module's imports of the names the function reads from it head the
program, and relative imports (the module's and the function's own) are made absolute.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import symtable

from editseq.evaluate.sanitize import module_reads

_RELATIVE_FROM_RE = re.compile(r"from\s*(?:\.\s*)+[\w.]*\s*(?=import\b)")  # 'from ..a.b ' of 'from ..a.b import c'

Binding = tuple[ast.Import | ast.ImportFrom, ast.alias]
"""An import statement and the alias of it that binds a name."""


def module_imports(tree: ast.Module) -> dict[str, list[Binding]]:
    """Each name the module's imports bind, outside functions and classes (in ``if``, ``try``
    too), with the imports and aliases binding it, in the file's order."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        for child in ast.iter_child_nodes(stack.pop()):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            elif isinstance(child, (ast.stmt, ast.excepthandler)) and not isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stack.append(child)
    bound: dict[str, list[Binding]] = {}
    for statement in sorted(found, key=lambda s: (s.lineno, s.col_offset)):
        for alias in statement.names:  # import a.b binds a
            if alias.name != "*":
                bound.setdefault(alias.asname or alias.name.partition(".")[0], []).append((statement, alias))
    return bound


def imports_used(node: ast.AST, function: str, bound: dict[str, list[Binding]], package: str) -> str:
    """The import lines binding the names ``node`` (whose text, docstring removed, is ``function``)
    reads from its module, in the module's order, relative ones resolved against ``package`` (the
    module's ``__package__``). A ``from __future__ import annotations`` comes along where the
    function has annotations it would postpone."""
    # the names of its decorators, defaults and annotations too; a local that shadows an import needs none
    used = module_reads(symtable.symtable(function, "<function>", "exec"))
    if any(getattr(n, "annotation", None) or getattr(n, "returns", None) for n in ast.walk(node)):
        used.add("annotations")
    chosen: dict[ast.Import | ast.ImportFrom, list[ast.alias]] = {}
    dotted = {ast.unparse(n) for n in ast.walk(node) if isinstance(n, ast.Attribute)}  # a.b.c, a.b
    for name in used & bound.keys():
        for statement, alias in _binding(bound[name], package, dotted):
            chosen.setdefault(statement, []).append(alias)
    lines = []
    for statement, aliases in sorted(chosen.items(), key=lambda item: (item[0].lineno, item[0].col_offset)):
        aliases.sort(key=statement.names.index)
        if isinstance(statement, ast.Import):
            lines += [ast.unparse(ast.Import(names=[alias])) for alias in aliases]
        elif (module := _absolute(statement, package)) is not None:
            lines.append(ast.unparse(ast.ImportFrom(module=module, names=aliases, level=0)))
    return "\n".join(lines)


def _binding(candidates: list[Binding], package: str, attributes: set[str]) -> list[Binding]:
    """Which of the imports binding one name the program takes: each ``import a.b`` of ``a``
    whose submodule ``attributes`` (the function's ``a.b.f``, ``a.b``) reach (the first where none
    does), else the first import whose module is installed (``try: import cPickle as pickle
    except ImportError: import pickle``: ``pickle``)."""
    dotted = [(s, a) for s, a in candidates if isinstance(s, ast.Import) and not a.asname]
    if dotted and dotted[0] == candidates[0]:
        return [(s, a) for s, a in dotted if a.name in attributes] or dotted[:1]
    for statement, alias in candidates:
        module = alias.name if isinstance(statement, ast.Import) else _absolute(statement, package)
        if module and _installed(module.partition(".")[0]):
            return [(statement, alias)]
    return candidates[:1]


def _installed(name: str) -> bool:
    """Whether top-level module ``name`` can be imported here (found, not imported)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def make_imports_absolute(node: ast.AST, lines: list[str], package: str) -> None:
    """Rewrite the relative imports inside ``node`` in ``lines`` as absolute ones: the program
    stands alone, where ``from . import x`` fails (no parent package)."""
    for statement in ast.walk(node):
        if isinstance(statement, ast.ImportFrom) and statement.level:
            module = _absolute(statement, package)
            line = lines[statement.lineno - 1]
            start = len(line.encode()[:statement.col_offset].decode(errors="ignore"))  # ast counts bytes
            head = _RELATIVE_FROM_RE.match(line, start)
            if module is not None and head is not None:  # no head: a backslash inside 'from . x import'
                lines[statement.lineno - 1] = f"{line[:head.start()]}from {module} {line[head.end():]}"


def _absolute(statement: ast.ImportFrom, package: str) -> str | None:
    """The module ``statement`` imports from, a relative one resolved against ``package`` (None
    when it cannot be: a file outside ``sys.path``, or more dots than the package has parts)."""
    if not statement.level:
        return statement.module
    parts = package.split(".") if package else []
    if statement.level > len(parts):
        return None
    base = ".".join(parts[:len(parts) - statement.level + 1])
    return f"{base}.{statement.module}" if statement.module else base
