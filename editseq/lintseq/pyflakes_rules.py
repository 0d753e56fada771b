"""pyflakes' rules that depend only on the shape of the code, not on scopes: which parts of a
typing call are type expressions (their strings are forward references, so deleting the class
they name is an error), and which strings an ``__all__`` value exports. ``scopes`` applies them
during its walk; they sit here, as tables and pure functions of the syntax tree, so the walk
reads as scope handling alone.
"""

from __future__ import annotations

import ast
import sys

TYPING_MODULES = frozenset({"typing", "typing_extensions"})
# typing functions whose arguments pyflakes reads as type expressions: (positions, keywords)
TYPED_ARGUMENTS = {
    "cast": ((0, 1), {"typ"}),
    "assert_type": ((1, None), set()),
    "TypeVar": ((1, None), {"bound", "default"}),
    "ParamSpec": ((0, 0), {"bound", "default"}),
    "TypeVarTuple": ((0, 0), {"bound", "default"}),
    "NewType": ((1, None), {"tp"}),
}


def export_lists(value: ast.AST) -> list[ast.List | ast.Tuple]:
    """The lists and tuples whose strings an ``__all__`` value exports, as pyflakes' ExportBinding
    reads them: the value itself, or the lists of a concatenation ``x + [...] + [...]`` read from
    the right until a term is no list."""
    if isinstance(value, (ast.List, ast.Tuple)):
        return [value]
    found: list[ast.List | ast.Tuple] = []
    while isinstance(value, ast.BinOp) and isinstance(value.right, (ast.List, ast.Tuple)):
        found.append(value.right)
        if isinstance(value.left, (ast.List, ast.Tuple)):
            found.append(value.left)
            break
        value = value.left
    return found


def is_named(node: ast.AST, name: str) -> bool:
    """``name`` or ``anything.name`` (how pyflakes spots ``Literal`` and ``Annotated``)."""
    return (isinstance(node, ast.Name) and node.id == name) or (
        isinstance(node, ast.Attribute) and node.attr == name
    )


def typed_arguments(call: ast.Call, member: str) -> list[tuple[ast.AST, bool]]:
    """The parts of a call of a typing function in pyflakes' order, each with whether pyflakes
    reads it as a type: ``cast``'s first argument, ``TypeVar``'s constraints and bound, the field
    types of ``TypedDict("D", {"k": "A"})`` and ``NamedTuple("N", [("k", "A")])``, ..."""
    args = call.args
    out: list[tuple[ast.AST, bool]] = [(call.func, False)]
    if member in TYPED_ARGUMENTS:
        positions, keywords = TYPED_ARGUMENTS[member]
        typed = range(len(args))[slice(*positions)]
        out += [(arg, i in typed) for i, arg in enumerate(args)]
        return out + [(kw, kw.arg in keywords) for kw in call.keywords]
    out += [(arg, False) for arg in args[:1]]  # the name
    fields = args[1] if len(args) > 1 else None
    if member == "TypedDict" and isinstance(fields, ast.Dict):
        for key, value in zip(fields.keys, fields.values, strict=True):
            out += [*([(key, False)] if key is not None else []), (value, True)]
    elif member == "NamedTuple" and isinstance(fields, (ast.List, ast.Tuple)):
        for elt in fields.elts:
            pair = elt.elts if isinstance(elt, (ast.List, ast.Tuple)) else [elt]
            out += [(part, i > 0) for i, part in enumerate(pair)]
    elif fields is not None:
        out += [(fields, False)]
    out += [(arg, False) for arg in args[2:]]
    keywords_typed = sys.version_info < ((3, 13) if member == "TypedDict" else (3, 15))
    return out + [(kw, keywords_typed) for kw in call.keywords]
