"""LintSeq dataset statistics and the step-by-step states shown by the report's viewer.

Edits are counted from the diffs themselves (``+`` lines of each hunk), and the viewer's
states are rebuilt with ``apply_edit_path``, the same engine that wrote them, so what the
report shows is what training sees.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from editseq.lintseq.diffs import HUNK_RE, apply_edit_path


def lines_added(edit: str) -> int:
    """Program lines an edit inserts (the ``+`` rows of its hunks)."""
    return sum(1 for row in edit.split("\n") if row.startswith("+"))


def dataset_stats(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Distributions of edits per sequence and lines per edit, with their means."""
    edits = [len(r.get("edit_path") or []) for r in records]
    lines = [lines_added(e) for r in records for e in r.get("edit_path") or []]
    return {
        "sequences": len(records),
        "edits_per_sequence": {"mean": _mean(edits), "max": max(edits, default=0),
                               "histogram": _hist(edits)},
        "lines_per_edit": {"mean": _mean(lines), "max": max(lines, default=0), "histogram": _hist(lines)},
    }


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def _hist(values: list[int]) -> dict[str, int]:
    """value -> count, keys as strings so the JSON round-trips unchanged."""
    return {str(v): c for v, c in sorted(Counter(values).items())}


def viewer_steps(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Per edit: the diff, the program after it, and which of its lines the edit added."""
    steps = []
    state: list[str] = []
    for edit in record.get("edit_path") or []:
        new = apply_edit_path([edit], state)
        steps.append({"diff": edit, "program": new, "added": _added_lines(edit)})
        state = new
    return steps


def _added_lines(edit: str) -> list[int]:
    """0-based indices, in the state after ``edit``, of the lines it inserts (from its hunk headers)."""
    added = []
    for m in filter(None, map(HUNK_RE.match, edit.split("\n"))):
        start, count = int(m.group(3)), int(m.group(4) or 1)
        added.extend(range(start - 1, start - 1 + count))
    return added
