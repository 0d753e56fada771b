"""LintSeq statistics and viewer states on real ``editseq lintseq`` output."""

from __future__ import annotations

from pathlib import Path

import pytest

from editseq.io.outputs import read_jsonl_records
from editseq.report.lintseq_stats import dataset_stats, lines_added, viewer_steps


def test_stats_and_steps_rebuild_every_program(report_inputs: dict[str, Path]) -> None:
    records = list(read_jsonl_records(report_inputs["lintseq"]))
    stats = dataset_stats(records)
    assert stats["sequences"] == len(records) == 24
    edits = sum(len(r["edit_path"]) for r in records)
    assert sum(stats["edits_per_sequence"]["histogram"].values()) == len(records)
    assert sum(stats["lines_per_edit"]["histogram"].values()) == edits
    total_lines = sum(len(r["program"].splitlines()) for r in records)
    assert stats["lines_per_edit"]["mean"] * edits == pytest.approx(total_lines)  # each line inserted once
    for record in records:
        steps = viewer_steps(record)
        assert steps[-1]["program"] == record["program"].splitlines()
        for step in steps:
            assert len(step["added"]) == lines_added(step["diff"])
            assert all(0 <= j < len(step["program"]) for j in step["added"])
