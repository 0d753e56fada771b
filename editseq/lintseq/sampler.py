"""LintSeq backward sampling: delete a random unit, then everything that deletion breaks, until empty.

With the ``fast`` linter the breakage is computed from the program's ``Analysis`` (parsed once):
a deletion re-examines only the uses whose bindings it removed, so a whole sequence costs about as
much as one lint of the program. With any other ``Linter`` (``pylint``) the remainder is linted after
each deletion and the flagged lines' units deleted, repeatedly, until it is clean: every round
deletes at least one unit, so a step ends within the program's unit count (``max_lint_rounds``
caps it lower, if set; a chain of statements each using the one before takes a round each). With
``none`` only the block structure is kept intact (the paper's random-deletion ablation).

Line choice follows the reference: blank and comment lines are never picked; a unit's weight is
1 at indentation 0, else its indentation in units of the program's first indentation width
(``choice="uniform"`` gives every unit weight 1).

The random stream of a sequence is seeded from (seed, record key, sample index), so output does
not depend on the number of workers or the order in which records are processed.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from dataclasses import dataclass
from itertools import accumulate

from editseq.lintseq.analysis import Analysis, ProgramError, analyze, parse, split_lines
from editseq.lintseq.diffs import join_lines
from editseq.lintseq.linters import Linter, get_linter
from editseq.lintseq.structure import CASE, ELSE, EXCEPT, FINALLY, PRIMARY, Structure, is_code_line


class SamplingError(RuntimeError):
    """A sequence could not be completed (e.g. the lint loop did not converge)."""


@dataclass(frozen=True)
class SamplerConfig:
    """How sequences are sampled: the linter in the loop, the line choice, strictness."""

    linter: str = "fast"  # fast | pylint | none
    choice: str = "indent"  # indent | uniform
    strict: bool = False  # errors of the full program cause deletions, as in the reference
    max_lint_rounds: int | None = None  # bound on lint→delete rounds per step (linter-in-the-loop modes)

    def __post_init__(self) -> None:
        if self.choice not in ("indent", "uniform"):
            raise ValueError(f"choice must be 'indent' or 'uniform', got {self.choice!r}")
        if self.max_lint_rounds is not None and self.max_lint_rounds < 1:
            raise ValueError("max_lint_rounds must be at least 1")


def derive_seed(seed: int, key: str, sample: int) -> int:
    """A per-sequence seed from the global seed, the record key and the sample index."""
    digest = hashlib.blake2b(f"{seed}\x00{key}\x00{sample}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class _State:
    """Mutable per-sequence state: what is still alive."""

    __slots__ = ("alive", "clause_alive", "live", "node_alive")

    def __init__(self, s: Structure) -> None:
        self.alive = bytearray([1]) * s.n_units
        self.node_alive = bytearray([1]) * len(s.nodes)
        self.clause_alive = bytearray([1]) * len(s.clauses)
        self.live = [len(c.body) for c in s.clauses]


class EditSampler:
    """Samples LintSeq deletion sequences of one program; build once, ``sample`` many times."""

    def __init__(self, program: str, config: SamplerConfig | None = None, linter: Linter | None = None) -> None:
        self.config = config or SamplerConfig()
        self.lines = split_lines(program)
        if not any(line.strip() for line in self.lines):
            raise ProgramError("empty program")
        tree = parse(self.lines)
        self.analysis: Analysis = analyze(self.lines, tree)
        self.structure = self.analysis.structure
        self._weights = _unit_weights(self.structure, self.config.choice)
        # a use already undefined in the full program never causes deletions; if it was undefined
        # only by the use-before-local-binding rule, it still goes when its outer bindings go
        self._ignored = set() if self.config.strict else set(self.analysis.exempt)
        self._relaxed = set() if self.config.strict else set(self.analysis.preexisting) - self._ignored
        self._linter: Linter | None = None
        self._known: set[tuple[int, str]] = set()
        if self.config.linter != "fast":
            self._linter = linter or get_linter(self.config.linter)
            if not self.config.strict:
                self._known = {(f.line - 1, f.code) for f in self._linter.lint(join_lines(self.lines))}

    # -- public ------------------------------------------------------------------------------
    def sample(self, rng: random.Random) -> list[list[int]]:
        """One sequence: for each deletion step, the sorted 0-based lines it deleted."""
        s = self.structure
        st = _State(s)
        steps: list[list[int]] = []
        chooser = _Chooser(self._weights)
        first = True
        while True:
            unit = chooser.pick(rng, st.alive)
            if unit is None:
                break
            start = [unit]
            if first and self.config.strict and self._linter is None:
                start += [self.analysis.deps[d].unit for d in self.analysis.preexisting]
            first = False
            deleted = self._delete(st, start)
            if self._linter is not None and self.config.linter != "none":  # "none" never reports: skip its rounds
                deleted += self._lint_loop(st)
            chooser.removed(deleted)
            steps.append(sorted(line for u in deleted for line in s.unit_lines[u]))
        return steps

    # -- deletion closure ----------------------------------------------------------------------
    def _delete(self, st: _State, start: list[int]) -> list[int]:
        """Delete ``start`` units and everything that must go with them; return deleted units."""
        s, a = self.structure, self.analysis
        use_deps = self._linter is None
        alive, owners, dependents, deps = st.alive, s.owners, a.unit_dependents, a.deps
        ignored, relaxed = self._ignored, self._relaxed
        stack = list(start)
        deleted: list[int] = []
        while stack:
            u = stack.pop()
            if not alive[u]:
                continue
            alive[u] = 0
            deleted.append(u)
            for kind, ident in owners[u]:
                if kind == 0:
                    self._kill_node(st, ident, stack)
                else:
                    self._kill_clause(st, ident, stack)
            if use_deps:
                for d in dependents[u]:
                    dep = deps[d]
                    if alive[dep.unit] and d not in ignored and not dep.holds(alive, d in relaxed):
                        stack.append(dep.unit)
        return deleted

    def _kill_node(self, st: _State, n: int, stack: list[int]) -> None:
        if not st.node_alive[n]:
            return
        st.node_alive[n] = 0
        node = self.structure.nodes[n]
        for c in node.clauses:
            st.clause_alive[c] = 0
        stack.extend(node.units)
        pc = node.parent_clause
        if pc >= 0 and st.clause_alive[pc]:
            st.live[pc] -= 1
            if st.live[pc] == 0:
                self._kill_clause(st, pc, stack)

    def _kill_clause(self, st: _State, c: int, stack: list[int]) -> None:
        if not st.clause_alive[c]:
            return
        clause = self.structure.clauses[c]
        if clause.role == PRIMARY:
            self._kill_node(st, clause.node, stack)
            return
        st.clause_alive[c] = 0
        stack.extend(clause.units)
        if not self._valid(st, clause.node):
            self._kill_node(st, clause.node, stack)

    def _valid(self, st: _State, n: int) -> bool:
        """Whether a compound statement's remaining clauses still form valid syntax."""
        node = self.structure.nodes[n]
        if not (node.is_try or node.is_match):
            return True
        roles = {self.structure.clauses[c].role for c in node.clauses if st.clause_alive[c]}
        if node.is_match:
            return CASE in roles
        return EXCEPT in roles or (FINALLY in roles and ELSE not in roles)

    # -- linter in the loop ----------------------------------------------------------------------
    def _lint_loop(self, st: _State) -> list[int]:
        """Lint the remainder, delete the units of newly flagged lines, repeat until clean."""
        assert self._linter is not None
        s = self.structure
        deleted: list[int] = []
        rounds = self.config.max_lint_rounds or s.n_units  # each round deletes a unit: no more are needed
        for _ in range(rounds):
            kept = [i for i, u in enumerate(s.line_unit) if u < 0 or st.alive[u]]
            if not kept:
                return deleted
            findings = self._linter.lint(join_lines(self.lines[i] for i in kept))
            bad = set()
            for f in findings:
                orig = kept[min(max(f.line, 1), len(kept)) - 1]
                if (orig, f.code) not in self._known and s.line_unit[orig] >= 0:
                    bad.add(s.line_unit[orig])
            if not bad:
                return deleted
            deleted += self._delete(st, sorted(bad))
        raise SamplingError(f"linter still reports errors after {rounds} rounds")


def _unit_weights(s: Structure, choice: str) -> list[float]:
    if choice == "uniform":
        return [1.0] * s.n_units
    indents = [len(line) - len(line.lstrip()) for line in s.lines]
    width = next((i for line, i in zip(s.lines, indents, strict=True) if i > 0 and is_code_line(line)), 1)
    return [1.0 if indents[first] == 0 else indents[first] / width for first in s.unit_first_code_line]


class _Chooser:
    """Weighted choice among alive units: bisect over a prefix-sum table, rebuilt when half stale."""

    def __init__(self, weights: list[float]) -> None:
        self.weights = weights
        self.alive_weight = sum(weights)
        self._build([i for i, w in enumerate(weights) if w > 0])

    def _build(self, units: list[int]) -> None:
        self.units = units
        self.cum = list(accumulate(self.weights[u] for u in units))
        self.total = self.cum[-1] if self.cum else 0.0

    def removed(self, units: list[int]) -> None:
        self.alive_weight -= sum(self.weights[u] for u in units)

    def pick(self, rng: random.Random, alive: bytearray) -> int | None:
        while True:
            if self.alive_weight <= 1e-9 or not self.units:
                return None
            if self.alive_weight * 2 < self.total:
                self._build([u for u in self.units if alive[u]])
                if not self.units:
                    return None
            unit = self.units[bisect.bisect_right(self.cum, rng.random() * self.total)]
            if alive[unit]:
                return unit
