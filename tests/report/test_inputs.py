"""Input kinds are detected from the records; errors name the file, line and field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from editseq.io.records import InputError
from editseq.report.inputs import load_run


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_results_with_tokens_and_programs(tmp_path: Path) -> None:
    run = load_run(_write(tmp_path / "x_results.jsonl", [
        {"task_id": "HumanEval/0", "completion": "    return 1\n", "passed": True, "status": "passed",
         "tokens": 7}]))
    assert (run.kind, run.label) == ("results", "x")
    a = run.attempts[0]
    assert (a.task, a.passed, a.program, a.tokens, a.unit) == ("HumanEval/0", True, "    return 1\n", 7, "HumanEval/0")


def test_mtpb_records(tmp_path: Path) -> None:
    run = load_run(_write(tmp_path / "runs_results.jsonl", [
        {"problem_id": 3, "case": 1, "mode": "single", "passed": False, "status": "failed",
         "category": "math", "completions": ["a = 1", "print(a)"]}]), label="m")
    a = run.attempts[0]
    assert (run.kind, run.label, a.task, a.case, a.mode, a.category) == ("mtpb", "m", "3", "1", "single", "math")
    assert a.program == "a = 1\nprint(a)" and a.tokens is None


def test_mtpb_runs_excluded_by_fixed_are_no_attempts(tmp_path: Path) -> None:
    from editseq.report.metrics import mtpb_categories

    run = load_run(_write(tmp_path / "r_fixed_results.jsonl", [
        {"problem_id": 3, "case": 0, "passed": True, "status": "passed", "category": "math"},
        {"problem_id": 38, "case": 0, "passed": False, "status": "excluded", "reason": "broken test",
         "category": "math"}]))
    assert [a.task for a in run.attempts] == ["3"]
    assert mtpb_categories(run) == {"math": {"multi": {"pass_rate": 1.0, "n": 1}}}
    with pytest.raises(InputError, match="every run is excluded"):
        load_run(_write(tmp_path / "x_fixed_results.jsonl", [
            {"problem_id": 38, "case": 0, "passed": False, "status": "excluded", "reason": "broken test"}]))


def test_lintseq_records(tmp_path: Path) -> None:
    run = load_run(_write(tmp_path / "d.jsonl", [{"program": "x = 1\n", "edit_path": ["@@ -0,0 +1 @@\n+x = 1"],
                                                  "sample": 0}]))
    assert run.kind == "lintseq" and len(run.records) == 1


def test_summary_maps_to_its_results(tmp_path: Path, monkeypatch) -> None:
    results = _write(tmp_path / "x_results.jsonl", [{"task_id": "t", "passed": False}])
    summary = tmp_path / "x_summary.json"
    summary.write_text(json.dumps({"results": str(results)}))
    assert load_run(summary).path == results
    # evaluated from the parent folder ("res/x_results.jsonl"), reported from elsewhere
    (tmp_path / "res").mkdir()
    moved = results.rename(tmp_path / "res" / results.name)
    (tmp_path / "res" / summary.name).write_text(json.dumps({"results": "res/x_results.jsonl"}))
    monkeypatch.chdir(tmp_path / "res")
    assert load_run(Path(summary.name)).path.resolve() == moved


def test_unknown_and_missing_inputs_raise(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"odd.jsonl line 1: cannot tell what this file is"):
        load_run(_write(tmp_path / "odd.jsonl", [{"foo": 1}]))
    with pytest.raises(InputError, match="no such file"):
        load_run(tmp_path / "absent.jsonl")
    with pytest.raises(InputError, match="no records"):
        load_run(_write(tmp_path / "empty.jsonl", []))


@pytest.mark.parametrize(("row", "message"), [
    ({"task_id": "t", "passed": "false"}, "'passed' must be true or false, got 'false'"),
    ({"task_id": None, "passed": True}, "'task_id' must be a non-empty string or integer, got None"),
    ({"problem_id": "3", "case": "abc", "passed": True}, "'case' must be a non-negative integer"),
    ({"problem_id": "3", "case": 0, "mode": "weird", "passed": True}, "'mode' must be 'multi' or 'single'"),
    ({"program": "x = 1", "edit_path": ["@@ -0,0 +1 @@\n+x = 1", 7]}, "'edit_path' must be a list of diff strings"),
])
def test_wrong_types_are_refused_not_counted(tmp_path: Path, row: dict, message: str) -> None:
    """A wrong type would change the figures silently ("false" is truthy in Python)."""
    with pytest.raises(InputError, match=r"r\.jsonl line 1: ") as err:
        load_run(_write(tmp_path / "r.jsonl", [row]))
    assert message in str(err.value)


def test_a_sample_given_twice_is_refused_not_counted(tmp_path: Path) -> None:
    """Was: the results of a subset concatenated with the whole run's counted each of the subset's
    samples twice (HumanEval/0 with 200 samples), and the pass@k moved without a word."""
    rows = [{"task_id": "HumanEval/0", "sample": i, "passed": i == 0, "status": "failed"} for i in range(3)]
    path = _write(tmp_path / "both_results.jsonl", [*rows, rows[0]])
    with pytest.raises(InputError, match=r"1 sample given twice .*\n  .*both_results.jsonl line 4: "
                                         r"task_id 'HumanEval/0', sample 0 is already at .*both_results.jsonl line 1"):
        load_run(path)
    mtpb = [{"problem_id": 1, "case": c, "mode": m, "sample": 0, "passed": True} for c in (0, 1) for m in ("multi", "single")]
    assert len(load_run(_write(tmp_path / "m_results.jsonl", mtpb)).attempts) == 4  # cases and modes are not samples
    with pytest.raises(InputError, match="problem_id 1, case 1, sample 0 is already at"):
        load_run(_write(tmp_path / "m2_results.jsonl", [*mtpb, mtpb[-1]]))
    unnumbered = [{k: v for k, v in r.items() if k != "sample"} for r in rows]
    assert len(load_run(_write(tmp_path / "u_results.jsonl", unnumbered * 2)).attempts) == 6  # no number to tell


def test_a_lintseq_dataset_still_being_written_is_not_reported(tmp_path: Path) -> None:
    """Was: `editseq report` on the output of a live `editseq lintseq` took its records so far for
    the dataset, in silence (lintseq locked only its manifest, and report looked at no lock)."""
    import subprocess
    import sys
    import time

    from editseq.config import ConfigError

    slow = "".join(f"def f{i}(a):\n    if a:\n        return a + {i}\n    return 0\n" for i in range(1250))
    source = tmp_path / "in.jsonl"
    programs = [f"x = {i}\nprint(x)\n" for i in range(16)] + [slow]  # a batch written, the next under way
    source.write_text("".join(json.dumps({"program": p}) + "\n" for p in programs))
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "editseq", "lintseq", str(source), str(out), "--samples", "400",
                             "--timeout", "30", "--workers", "1", "--no-progress"], env=env)
    try:
        deadline = time.monotonic() + 60
        while not out.exists() or out.read_bytes().count(b"\n") < 16 * 400:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        with pytest.raises(ConfigError, match=rf"out.jsonl is being written by another run \(pid {proc.pid}, "):
            load_run(out)
    finally:
        proc.kill()
        proc.wait()
    assert len(load_run(out).records) == 16 * 400  # the run ended: what it left is read
