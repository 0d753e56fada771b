"""One regression test per weakness observed in the reference implementation (pylintseq 0.0.2)."""

import json
import random
import tracemalloc

import pytest

from editseq.lintseq.analysis import FastLinter
from editseq.lintseq.diffs import apply_edit_path, edit_path_from_steps, resolve, split_lines
from editseq.lintseq.linters import Finding
from editseq.lintseq.run import LintseqConfig, run_lintseq
from editseq.lintseq.sampler import EditSampler, SamplerConfig, SamplingError

PROGRAM = "import os\n\ndef f(a):\n    b = a + 1\n    if b:\n        return os.sep\n    return b\n\nprint(f(1))\n"


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_writes_output_on_this_python(tmp_path):
    """Reference: on Python < 3.12 it silently wrote nothing."""
    _write(tmp_path / "in.jsonl", [{"program": PROGRAM}])
    summary = run_lintseq(LintseqConfig(str(tmp_path / "in.jsonl"), str(tmp_path / "out.jsonl"), workers=1, progress=False))
    assert summary.converted == 1
    assert (tmp_path / "out.jsonl").read_text().count("\n") == 1


def test_same_seed_same_output_for_any_workers_and_order(tmp_path):
    """Reference: the RNG was shared across forked workers and output followed completion order."""
    records = [{"id": f"p{i}", "program": PROGRAM.replace("1", str(i))} for i in range(40)]
    _write(tmp_path / "a.jsonl", records)
    _write(tmp_path / "b.jsonl", records[::-1])
    outs = {}
    for name, workers in (("a", 1), ("b", 2)):
        cfg = LintseqConfig(str(tmp_path / f"{name}.jsonl"), str(tmp_path / f"{name}_out.jsonl"),
                            key_field="id", samples=2, seed=3, workers=workers, progress=False)
        run_lintseq(cfg)
        lines = (tmp_path / f"{name}_out.jsonl").read_text().splitlines()
        outs[name] = {(r["id"], r["sample"]): r["edit_path"] for r in map(json.loads, lines)}
        assert [json.loads(x)["id"] for x in lines[::2]] == [r["id"] for r in (records if name == "a" else records[::-1])]
    assert outs["a"] == outs["b"]


def test_memory_stays_flat_over_many_programs():
    """Reference: astroid's cache grew without bound. The fast engine keeps nothing between programs."""
    def run(n):
        for i in range(n):
            EditSampler(PROGRAM.replace("1", str(i))).sample(random.Random(i))

    run(50)
    tracemalloc.start()
    run(200)
    after_200, _ = tracemalloc.get_traced_memory()
    run(2000)
    after_2200, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert after_2200 - after_200 < 256 * 1024  # bytes, independent of the number of programs


def test_preexisting_errors_stay_where_they_are():
    """Reference: errors already in the source were deleted first, i.e. dumped into the last edit."""
    program = "x = undefined_thing\ny = 1\nz = y + 1\nprint(z)\nw = 2\nprint(w)\n"
    sampler = EditSampler(program)
    last_edits = set()
    for seed in range(40):
        steps = sampler.sample(random.Random(seed))
        last_edits.add(0 in steps[0])
    assert last_edits == {True, False}  # the faulty line is not always deleted first
    strict = EditSampler(program, SamplerConfig(strict=True))
    assert all(0 in strict.sample(random.Random(seed))[0] for seed in range(20))


@pytest.mark.parametrize("indent", ["  ", "\t"])
@pytest.mark.parametrize("linter", ["fast", "pylint"])
def test_two_space_and_tab_programs_get_many_edits(indent, linter):
    """Reference: W0311 counted as an error made such programs a single edit."""
    program = PROGRAM.replace("    ", indent)
    sampler = EditSampler(program, SamplerConfig(linter=linter))
    path = edit_path_from_steps(sampler.lines, sampler.sample(random.Random(0)))
    assert len(path) >= 3
    assert apply_edit_path(path) == split_lines(program)


def test_no_empty_edits_and_lossless_whitespace():
    """Reference: empty edits, and diffs of strip()ped text lost blank lines and indentation."""
    program = "\n\n   \nx = 1   \n\n\ty = [\n\tx,\n]\n\n# tail\n".replace("\ty", "y").replace("\tx", "    x")
    sampler = EditSampler(program)
    for seed in range(10):
        path = edit_path_from_steps(sampler.lines, sampler.sample(random.Random(seed)))
        assert all("\n+" in "\n" + e for e in path)
        assert apply_edit_path(path) == split_lines(program)


def test_code_containing_diff_markers_round_trips():
    """Reference: a code line containing '@@' broke parsing; lstrip('-+') ate code."""
    program = 'marker = "@@ -1,2 +3 @@"\nneg = -1\nplus = +2\nprint(marker, -neg, +plus)\n'
    sampler = EditSampler(program)
    path = edit_path_from_steps(sampler.lines, sampler.sample(random.Random(1)))
    text = "".join(f"\n<|diff|>{e}" for e in path) + "<|endoftext|>"
    assert resolve(text).program == program.rstrip("\n")


def test_lint_loop_is_bounded():
    """Reference: no cap on the lint loop. A linter that never comes clean must end in an error."""
    class AlwaysComplains:
        name = "always"

        def lint(self, source):
            return [Finding(1, "E9999", "never clean")] if "x" in source else []

    program = "y = 1\n" + "x = 1\n" * 50
    roomy = EditSampler(program, SamplerConfig(linter="pylint", strict=True, max_lint_rounds=100), linter=AlwaysComplains())
    assert roomy.sample(random.Random(0))  # one flagged line per round: finishes within 100 rounds
    tight = EditSampler(program, SamplerConfig(linter="pylint", strict=True, max_lint_rounds=2), linter=AlwaysComplains())
    with pytest.raises(SamplingError):
        tight.sample(random.Random(0))


def test_a_dependency_chain_longer_than_64_statements_converts_under_pylint():
    """Each lint round deletes only what the linter flags, so deleting the head of a chain of
    statements, each using the one before, takes one round per statement. A cap of 64 rounds failed
    such records ("linter still reports errors after 64 rounds"), though every round deletes a unit,
    so the loop ends anyway. Strict: the head's error is deleted in the first step, whatever the
    choice, and the two cascades (from the head and from the chosen line) take 70 rounds or more."""
    program = "x0 = undefined\n" + "".join(f"x{i} = x{i - 1}\n" for i in range(1, 140))
    sampler = EditSampler(program, SamplerConfig(linter="pylint", strict=True))
    assert sampler.sample(random.Random(0)) == [list(range(140))]


def test_results_do_not_depend_on_installed_packages():
    """Reference: pylint's import errors made results depend on the environment."""
    installed = "import json\nprint(json.dumps(1))\n"
    missing = "import no_such_package_xyz\nprint(no_such_package_xyz.dumps(1))\n"
    assert FastLinter().lint(installed) == FastLinter().lint(missing) == []
    a = [len(s) for s in EditSampler(installed).sample(random.Random(0))]
    b = [len(s) for s in EditSampler(missing).sample(random.Random(0))]
    assert a == b
