"""Linters behind one small interface: "which lines of this source have errors".

A linter returns ``Finding``s (1-based line, message code, text). The sampler compares findings
of each intermediate state with those of the full program: a finding whose (original line, code)
was already present in the full program is *pre-existing* and, by default, ignored.

Linters:
- ``fast`` (default): in process, no temp files: syntax and compile errors plus the error-class
  findings of editseq's scope analysis (``editseq.lintseq.analysis``).
- ``pylint``: the paper's setting (E and F messages plus W0311/W0231), hermetic and in memory
  (``editseq.lintseq.pylint_linter``).
- ``none``: reports nothing; the sampler then deletes lines at random (the paper's ablation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, order=True)
class Finding:
    """One linter message: ``line`` is 1-based in the linted text."""

    line: int
    code: str
    message: str = ""


class Linter(Protocol):
    """Anything that can say which lines of a Python source have errors."""

    name: str

    def lint(self, source: str) -> list[Finding]:
        """Error findings of ``source`` (warnings that are not errors are not returned)."""
        ...


LINTER_NAMES = ("fast", "pylint", "none")


def get_linter(name: str, **options: object) -> Linter:
    """The linter called ``name`` (one of ``LINTER_NAMES``)."""
    if name == "fast":
        from editseq.lintseq.analysis import FastLinter

        return FastLinter()
    if name == "pylint":
        from editseq.lintseq.pylint_linter import PylintLinter

        return PylintLinter(**options)  # type: ignore[arg-type]
    if name == "none":
        return NoLinter()
    raise ValueError(f"unknown linter {name!r}; choose one of {', '.join(LINTER_NAMES)}")


class NoLinter:
    """Reports nothing: random-deletion ablation."""

    name = "none"

    def lint(self, source: str) -> list[Finding]:
        return []
