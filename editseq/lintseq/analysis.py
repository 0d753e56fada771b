"""Parse a program once and know which lines depend on which: the engine behind the ``fast`` linter.

``analyze`` combines the block structure (``structure``) with the name dependencies (``scopes``)
into an ``Analysis`` that the sampler queries after each deletion, re-examining only the uses whose
bindings were just deleted. ``FastLinter`` runs the same analysis on a whole source, so the
incremental engine and the linter can never disagree about what an error is.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from editseq.lintseq.diffs import join_lines, split_lines
from editseq.lintseq.linters import Finding
from editseq.lintseq.scopes import (
    NO_NONLOCAL_BINDING,
    UNDEFINED_DEL,
    UNDEFINED_EXPORT,
    ScopeAnalysis,
    Use,
)
from editseq.lintseq.structure import Structure, build_structure


class ProgramError(ValueError):
    """The full program cannot be analysed (syntax or compile error); the message says where."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line  # 1-based line of the error, for linters


@dataclass(frozen=True)
class Dependency:
    """A name use as a predicate over alive units (see ``editseq.lintseq.scopes``)."""

    unit: int
    line: int
    name: str
    code: str
    requires: tuple[int, ...]
    before: tuple[int, ...]
    after: tuple[int, ...]
    outer: tuple[int, ...]
    builtin: bool
    eager: Dependency | None = None  # what holds instead once ``requires`` fails (scopes' ``Use.eager``)

    def holds(self, alive: bytearray | list[int], relaxed: bool = False) -> bool:
        """Whether the use is defined; ``relaxed`` drops the use-before-local-binding rule."""
        for u in self.requires:
            if not alive[u]:
                return self.eager is not None and self.eager.holds(alive, relaxed)
        for u in self.before:
            if alive[u]:
                return True
        if not relaxed:
            for u in self.after:
                if alive[u]:
                    return False
        if self.builtin:
            return True
        return any(alive[u] for u in self.outer)

    def message(self) -> str:
        if self.code == UNDEFINED_EXPORT:
            return f"undefined name {self.name!r} in __all__"
        if self.code == UNDEFINED_DEL:
            return f"undefined name {self.name!r} in del"
        if self.code == NO_NONLOCAL_BINDING:
            return f"no binding for nonlocal {self.name!r} found"
        return f"undefined name {self.name!r}"


@dataclass
class Analysis:
    """What the sampler needs of a program: its units, and which deletions break which uses."""

    structure: Structure
    deps: list[Dependency]
    unit_dependents: list[list[int]]  # per unit: deps to re-check when that unit is deleted
    preexisting: list[int]  # deps that fail in the full program
    exempt: list[int]  # pre-existing deps that fail even relaxed: nothing they use can be deleted

    def findings(self) -> list[Finding]:
        """What the linter reports of the whole program: its uses that are not defined."""
        alive = bytearray([1]) * self.structure.n_units
        return sorted({Finding(d.line, d.code, d.message()) for d in self.deps if not d.holds(alive)})


def parse(lines: list[str]) -> ast.Module:
    """Parse and compile the program of ``lines`` (``join_lines``); raise ``ProgramError`` naming
    the line on failure."""
    source = join_lines(lines)
    # a file's byte-order mark, kept by decoding it as "utf-8" (not "utf-8-sig"): compile() would
    # report an "invalid non-printable character U+FEFF", which no editor shows
    if source.startswith("\ufeff"):
        raise ProgramError("the program starts with a byte-order mark (U+FEFF), which Python skips "
                           "in a file's bytes but refuses in program text: strip it from the program")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes is not an error
            tree = ast.parse(source)
            compile(tree, "<program>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""  # a null byte has no line
        raise ProgramError(f"syntax error: {exc.msg}{where}", exc.lineno or 1) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        raise ProgramError(f"cannot parse: {type(exc).__name__}: {exc}") from None
    return tree


def analyze(lines: list[str], tree: ast.Module | None = None) -> Analysis:
    """Structure and name dependencies of a program given as lines (parsed here unless given)."""
    tree = tree if tree is not None else parse(lines)
    structure = build_structure(lines, tree)
    scopes = ScopeAnalysis(tree, structure.line_unit)
    unit_of = [b.unit for b in scopes.bindings]
    deps: list[Dependency] = []
    dependents: list[list[int]] = [[] for _ in range(structure.n_units)]
    for use in scopes.uses:
        dep = _dependency(use, unit_of)
        did = len(deps)
        deps.append(dep)
        units = {*dep.requires, *dep.before, *dep.outer}
        if dep.eager is not None:
            units |= {*dep.eager.requires, *dep.eager.before, *dep.eager.outer}
        for unit in units:
            if unit != dep.unit:
                dependents[unit].append(did)
    alive = bytearray([1]) * structure.n_units
    preexisting = [i for i, d in enumerate(deps) if not d.holds(alive)]
    exempt = [i for i in preexisting if not deps[i].holds(alive, relaxed=True)]
    return Analysis(structure, deps, dependents, preexisting, exempt)


def _dependency(use: Use, unit_of: list[int]) -> Dependency:
    """``use`` as a predicate over units (``unit_of``: each binding's unit)."""
    return Dependency(
        unit=use.unit,
        line=use.line,
        name=use.name,
        code=use.code,
        requires=tuple(dict.fromkeys(use.requires)),
        before=tuple(dict.fromkeys(unit_of[b] for b in use.local_before)),
        after=tuple(dict.fromkeys(unit_of[b] for b in use.local_after)),
        outer=tuple(dict.fromkeys(unit_of[b] for b in use.outer)),
        builtin=use.builtin,
        eager=_dependency(use.eager, unit_of) if use.eager is not None else None,
    )


class FastLinter:
    """In-process linter: syntax and compile errors plus editseq's scope analysis (no temp files)."""

    name = "fast"

    def lint(self, source: str) -> list[Finding]:
        lines = split_lines(source)
        try:
            tree = parse(lines)
        except ProgramError as exc:
            return [Finding(exc.line, "syntax-error", str(exc))]
        return analyze(lines, tree).findings()
