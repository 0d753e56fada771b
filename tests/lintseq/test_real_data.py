"""Every HumanEval (prompt + canonical solution) and MBPP program converts and verifies."""

import gzip
import json
import random

import pytest

from editseq.lintseq.diffs import apply_edit_path, edit_path_from_steps, split_lines
from editseq.lintseq.sampler import EditSampler, SamplerConfig

from .programs import check_sequence


def _humaneval(shared_data):
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as fh:
        return [(p["task_id"], p["prompt"] + p["canonical_solution"]) for p in map(json.loads, fh)]


def _mbpp(shared_data):
    with open(shared_data / "mbpp" / "mbpp.jsonl") as fh:
        return [(f"mbpp/{r['task_id']}", r["code"]) for r in map(json.loads, fh)]


@pytest.mark.parametrize("source", ["humaneval", "mbpp"])
def test_all_programs_convert_and_verify(shared_data, source):
    programs = _humaneval(shared_data) if source == "humaneval" else _mbpp(shared_data)
    assert len(programs) == {"humaneval": 164, "mbpp": 974}[source]
    for task_id, program in programs:
        sampler = EditSampler(program)
        for seed in range(2):
            steps = sampler.sample(random.Random(seed))
            path = edit_path_from_steps(sampler.lines, steps)
            assert apply_edit_path(path) == split_lines(program), task_id
            assert len(path) == len(steps) >= 1  # one insertion per backward deletion step
            check_sequence(sampler.lines, steps, pyflakes=True)


def test_humaneval_sample_with_pylint_linter(shared_data):
    """The paper's linter in the loop: no state has a pylint error the full program lacks."""
    from editseq.lintseq.pylint_linter import PylintLinter

    linter = PylintLinter()
    for task_id, program in _humaneval(shared_data)[:8]:
        sampler = EditSampler(program, SamplerConfig(linter="pylint"), linter)
        steps = sampler.sample(random.Random(0))
        lines = sampler.lines
        full = {(f.line - 1, f.code) for f in linter.lint("\n".join(lines))}
        alive = set(range(len(lines)))
        for step in steps[:-1]:
            alive -= set(step)
            kept = sorted(alive)
            found = {(kept[f.line - 1], f.code) for f in linter.lint("\n".join(lines[i] for i in kept))}
            assert found <= full, (task_id, found - full)
        assert apply_edit_path(edit_path_from_steps(lines, steps)) == split_lines(program)
