"""The real ``editseq evaluate`` command on tiny fixtures."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from editseq.benchmarks import load_benchmark
from editseq.cli import main
from tests.evaluate.test_run import write_samples


def test_evaluate_command(tmp_path: Path, shared_data: Path, capsys) -> None:
    samples = tmp_path / "x.jsonl"
    write_samples(samples, shared_data)
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="162 of 164 humaneval tasks have no samples"):
        code = main(["evaluate", str(samples), "--benchmark", "humaneval", "--data", str(shared_data),
                     "--k", "1,2", "--workers", "2", "--no-cache", "--no-progress", "--out-dir", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "pass@1" in text and "pass@2" in text
    summary = json.loads((out / "x_summary.json").read_text())
    assert summary["pass@2"] > summary["pass@1"] > 0
    assert summary["settings"]["cache"] is False
    assert not (out / "x_cache.sqlite").exists()


def test_an_unwritable_results_file_fails_before_any_sample_runs(tmp_path: Path, shared_data: Path,
                                                                 capsys) -> None:
    """A folder where the results file belongs is refused at the start: found after the run (the
    results are written last), it cost the whole evaluation, all of it lost under --no-cache."""
    samples = tmp_path / "x.jsonl"
    write_samples(samples, shared_data)
    out = tmp_path / "out"
    (out / "x_results.jsonl").mkdir(parents=True)
    code = main(["evaluate", str(samples), "--benchmark", "humaneval", "--data", str(shared_data),
                 "--workers", "1", "--no-progress", "--out-dir", str(out)])
    assert code == 2
    assert "x_results.jsonl: is a directory" in capsys.readouterr().err
    assert not (out / "x_cache.sqlite").exists()  # no verdict was computed, none stored


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root writes anywhere; needs setpriv")
@pytest.mark.parametrize("cache", ["--cache", "--no-cache"])
def test_a_folder_the_run_may_not_write_in_fails_before_any_sample_runs(shared_data: Path, cache: str) -> None:
    """Was: with the cache, a traceback (sqlite3's "unable to open database file"); under
    --no-cache the whole evaluation ran, and was lost when its results could not be written."""
    home = Path(tempfile.mkdtemp())  # not tmp_path: another user (below) must reach it
    try:
        home.chmod(0o755)
        samples, out = home / "x.jsonl", home / "out"
        write_samples(samples, shared_data)
        out.mkdir(mode=0o555)
        out.chmod(0o555)
        user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        proc = subprocess.run([*user, sys.executable, "-m", "editseq", "evaluate", str(samples), "--data",
                               str(shared_data), "--workers", "1", "--no-progress", cache, "--out-dir", str(out)],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == f"error: {out / 'x_results.jsonl'}: permission denied (no permission)\n"
        assert list(out.iterdir()) == []
    finally:
        shutil.rmtree(home)


def test_bad_input_exits_2(tmp_path: Path, shared_data: Path, capsys) -> None:
    samples = tmp_path / "bad.jsonl"
    samples.write_text('{"task_id": "HumanEval/999", "completion": "x"}\n')
    code = main(["evaluate", str(samples), "--data", str(shared_data), "--no-progress"])
    assert code == 2
    assert "bad.jsonl line 1: unknown task_id 'HumanEval/999'" in capsys.readouterr().err


def test_bad_option_exits_2(tmp_path: Path, capsys) -> None:
    samples = tmp_path / "x.jsonl"
    samples.write_text("")
    assert main(["evaluate", str(samples), "--workers", "-1"]) == 2
    assert main(["evaluate", str(samples), "--benchmark", "nope"]) == 2
    capsys.readouterr()
    for bad in (["--memory-mb", "0"], ["--timeout", "-1"], ["--timeout", "1e20"]):
        assert main(["evaluate", str(samples), *bad]) == 2, bad  # the sandbox's limits, checked up front
        assert f"error: {bad[0]} must be" in capsys.readouterr().err


def test_a_bad_namespace_setting_exits_2(tmp_path: Path, shared_data: Path, monkeypatch, capsys) -> None:
    """Refused before any worker starts: a worker refusing it died at start, read as "Aborted." (130)."""
    samples = tmp_path / "x.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return True\\n"}\n')
    monkeypatch.setenv("EDITSEQ_SANDBOX_NAMESPACES", "maybe")
    code = main(["evaluate", str(samples), "--data", str(shared_data), "--workers", "1", "--no-progress"])
    assert code == 2
    assert "error: EDITSEQ_SANDBOX_NAMESPACES='maybe': expected 1 or 0" in capsys.readouterr().err


def test_evaluate_plus_benchmarks(tmp_path: Path, shared_data: Path) -> None:
    """HumanEval+ and MBPP+ end to end: whole-program solutions, limits scaled by the reference."""
    from editseq.benchmarks import load_benchmark
    from tests.benchmarks.test_canonical import ROBUST_FIND_ZERO

    for name, tasks in (("humaneval+", ["HumanEval/0", "HumanEval/32"]), ("mbpp+", ["Mbpp/2", "Mbpp/737"])):
        bench = load_benchmark(name, shared_data)
        rows = [{"task_id": t, "solution": bench.problems[t].canonical_solution} for t in tasks]
        if name == "humaneval+":  # HumanEval/32's reference fails from Python 3.12 (test_canonical)
            rows[1]["solution"] = bench.problems["HumanEval/32"].prompt + ROBUST_FIND_ZERO
        rows.append({"task_id": tasks[0], "solution": "def nothing():\n    pass\n"})
        samples = tmp_path / f"{name.strip('+')}.jsonl"
        samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
        with pytest.warns(UserWarning, match="have no samples"):
            code = main(["evaluate", str(samples), "--benchmark", name, "--data", str(shared_data),
                         "--no-progress", "--k", "1"])
        assert code == 0
        results = [json.loads(line) for line in
                   (tmp_path / f"{samples.stem}_results.jsonl").read_text().splitlines()]
        assert [r["passed"] for r in results] == [True, False, True], results
        summary = json.loads((tmp_path / f"{samples.stem}_summary.json").read_text())
        assert summary["pass@1"] == 0.75


def test_a_corrupt_result_store_names_the_fix(tmp_path: Path, capsys, shared_data) -> None:
    samples = tmp_path / "x.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return True\\n"}\n')
    (tmp_path / "x_cache.sqlite").write_text("not a database")
    assert main(["evaluate", str(samples), "--k", "1"]) == 2
    err = capsys.readouterr().err
    assert "x_cache.sqlite cannot be used" in err and "--no-cache" in err
    (tmp_path / "x_cache.sqlite").unlink()
    with sqlite3.connect(tmp_path / "x_cache.sqlite") as db:  # a database, but another layout
        db.execute("CREATE TABLE verdicts (key TEXT PRIMARY KEY, x TEXT)")
    assert main(["evaluate", str(samples), "--k", "1"]) == 2
    assert "x_cache.sqlite cannot be used (no such column" in capsys.readouterr().err
    with pytest.warns(UserWarning, match="have no samples"):
        assert main(["evaluate", str(samples), "--k", "1", "--no-cache"]) == 0


def test_one_task_has_no_interval(tmp_path: Path, shared_data: Path, capsys) -> None:
    """The interval resamples tasks: with one task it would be [x, x], which looks certain."""
    samples = tmp_path / "one.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return True\\n"}\n' * 2)
    with pytest.warns(UserWarning, match="163 of 164"):
        assert main(["evaluate", str(samples), "--data", str(shared_data), "--k", "1", "--no-progress"]) == 0
    assert "(one task: no interval)" in capsys.readouterr().out
    assert json.loads((tmp_path / "one_summary.json").read_text())["ci95"] == {"pass@1": None}


def test_stop_keeps_whole_mbpp_programs(tmp_path: Path, shared_data: Path) -> None:
    """An MBPP completion is a whole program after a docstring prompt: --stop ends it where the
    model starts the next docstring or test (EvalPlus's MBPP stops). The HumanEval stops cut it
    at its own first ``def`` (or import, comment), so right programs failed."""
    program = "# rows by their sums\ndef sort_matrix(M):\n    return sorted(M, key=sum)\n"
    rows = [{"task_id": "12", "sample": 0, "completion": program + '\n"""\nWrite a function that\n'},
            {"task_id": "12", "sample": 1, "completion": program + "\nassert sort_matrix([[2], [1]]) == [[2]]\n"}]
    samples = tmp_path / "mbpp.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.warns(UserWarning, match="have no samples"):
        assert main(["evaluate", str(samples), "--benchmark", "mbpp", "--data", str(shared_data), "--stop",
                     "--k", "1", "--workers", "1", "--no-cache", "--no-progress"]) == 0
    results = [json.loads(line) for line in (tmp_path / "mbpp_results.jsonl").read_text().splitlines()]
    assert [r["status"] for r in results] == ["passed", "passed"]


def test_stop_leaves_resolved_edit_sequences_whole(tmp_path: Path, shared_data: Path) -> None:
    """--stop cuts a model's continuation of the prompt; an edit sequence resolves to a whole
    program, which it cut at its second function (here the one the test calls), so with
    --resolve-edits --stop a right program failed."""
    from editseq.lintseq.diffs import DIFF_TOKEN, edit_path_from_steps

    lines = ["def _frac(x):", "    return x % 1.0", "", "", "def truncate_number(number: float) -> float:",
             "    return _frac(number)"]
    edits = edit_path_from_steps(lines, [[0, 1], [4, 5]])
    samples = tmp_path / "e.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/2", "completion": f"\n{DIFF_TOKEN}".join(edits)}) + "\n")
    with pytest.warns(UserWarning, match="have no samples"):
        assert main(["evaluate", str(samples), "--data", str(shared_data), "--resolve-edits", "--stop",
                     "--k", "1", "--workers", "1", "--no-cache", "--no-progress"]) == 0
    [result] = [json.loads(line) for line in (tmp_path / "e_results.jsonl").read_text().splitlines()]
    assert result["status"] == "passed", result["reason"]


def harness_program(problem, body: str) -> str:
    """A program as bigcode-evaluation-harness saves it: the prompt (stripped, as its humaneval
    task strips it) and then the model's text."""
    return problem.prompt.strip() + body


@pytest.mark.parametrize("name", ["humaneval", "mbpp"])
def test_bigcode_harness_generations_are_evaluated(tmp_path: Path, shared_data: Path, name: str) -> None:
    """The harness's --save_generations file (one array of whole programs per task) is read as it
    is: each array's task found by its prompt, so arrays out of the benchmark's order (the
    harness's --limit_start, another version) land on the right task."""
    from editseq.benchmarks import load_benchmark

    problems = list(load_benchmark(name, shared_data).problems.values())[:3]
    generations = []
    for p in reversed(problems):
        right = p.canonical_solution.removeprefix(p.prompt)
        right = right if right.startswith("\n") else "\n" + right
        generations.append([harness_program(p, right), harness_program(p, "\n    return 0\n" if name == "humaneval"
                                                                              else "\nx = 1\n")])
    gens = tmp_path / "generations_humaneval.json"
    gens.write_text(json.dumps(generations))
    with pytest.warns(UserWarning, match="have no samples"):
        code = main(["evaluate", str(gens), "--benchmark", name, "--data", str(shared_data), "--k", "1",
                     "--workers", "2", "--no-cache", "--no-progress"])
    assert code == 0
    summary = json.loads((tmp_path / "generations_humaneval_summary.json").read_text())
    assert summary["pass@1"] == 0.5 and summary["n_samples"] == 6
    results = [json.loads(line) for line in (tmp_path / "generations_humaneval_results.jsonl").read_text().splitlines()]
    verdicts = {(r["task_id"], r["sample"]): r["passed"] for r in results}
    assert verdicts == {(p.task_id, k): k == 0 for p in problems for k in (0, 1)}


def test_bigcode_harness_generations_that_match_no_task_are_named(tmp_path: Path, shared_data: Path,
                                                                  capsys) -> None:
    from editseq.benchmarks import load_benchmark

    first, second = list(load_benchmark("humaneval", shared_data).problems.values())[:2]
    gens = tmp_path / "g.json"
    gens.write_text(json.dumps([[harness_program(first, "\n    pass\n"), "def other(): pass\n"],
                                ["print('no prompt of HumanEval')"], [harness_program(first, "\n")],
                                [harness_program(second, "\n"), 3]]))
    assert main(["evaluate", str(gens), "--data", str(shared_data), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "4 bad records" in err
    assert "g.json task array 0 program 1: does not start with the prompt of HumanEval/0" in err
    assert "g.json task array 1: its programs start with none of the humaneval prompts" in err
    assert "g.json task array 2: task HumanEval/0 again (its programs are at" in err
    assert "g.json task array 3: expected an array of program texts" in err


def test_evalplus_sample_folders_are_evaluated(tmp_path: Path, shared_data: Path) -> None:
    """EvalPlus's folder layout: SAMPLES/<task_id with _ for />/<n>.py, each a whole program;
    results and summary go beside the folder."""
    from editseq.benchmarks import load_benchmark

    problems = list(load_benchmark("humaneval+", shared_data).problems.values())[:2]
    root = tmp_path / "model_temp_0.8"
    for p in problems:
        folder = root / p.task_id.replace("/", "_")
        folder.mkdir(parents=True)
        (folder / "0.py").write_text(p.canonical_solution)
        (folder / "10.py").write_text(p.prompt + "    return None\n")
        (folder / "notes.txt").write_text("not a sample")
    (root / "README.md").write_text("files beside the task folders are not samples")
    with pytest.warns(UserWarning, match="have no samples"):
        code = main(["evaluate", str(root), "--benchmark", "humaneval+", "--data", str(shared_data),
                     "--k", "1", "--workers", "2", "--no-cache", "--no-progress"])
    assert code == 0
    summary = json.loads((tmp_path / "model_temp_0.8_summary.json").read_text())
    assert summary["pass@1"] == 0.5 and summary["n_samples"] == 4
    results = [json.loads(line) for line in (tmp_path / "model_temp_0.8_results.jsonl").read_text().splitlines()]
    assert {(r["task_id"], r["sample"], r["passed"]) for r in results} == {
        (p.task_id, k, k == 0) for p in problems for k in (0, 10)}


def test_sanitize_drops_the_script_that_failed_a_right_function(tmp_path: Path, shared_data: Path) -> None:
    """A chat model's whole program: a right function, then a wrong example assert, a print of
    stdin and a main block. They failed it; --sanitize keeps what the task needs (HumanEval/38's
    test encodes with the prompt's encode_cyclic, which decode_cyclic never calls) and, the
    program being another, judges it anew instead of taking the stored verdict."""
    bench = load_benchmark("humaneval", shared_data)
    script = "\nassert {f}('abc') == 'wrong'\nprint({f}(input()))\nif __name__ == '__main__':\n    {f}('x')\n"
    rows = [{"task_id": tid, "sample": 0, "solution": bench.problems[tid].canonical_solution
             + script.format(f=bench.problems[tid].entry_point)} for tid in ("HumanEval/38", "HumanEval/0")]
    samples = tmp_path / "chat.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ["evaluate", str(samples), "--data", str(shared_data), "--k", "1", "--workers", "1", "--no-progress"]

    def statuses() -> list[str]:
        return [json.loads(line)["status"] for line in (tmp_path / "chat_results.jsonl").read_text().splitlines()]

    with pytest.warns(UserWarning, match="have no samples"):
        assert main(args) == 0
    assert "passed" not in statuses()  # the wrong assert fails one, a wrong argument errs in the other
    with pytest.warns(UserWarning, match="have no samples"):
        assert main([*args, "--sanitize", "--overwrite"]) == 0
    assert statuses() == ["passed", "passed"]
    executed = [json.loads(line)["executed_program"] for line in (tmp_path / "chat_results.jsonl").read_text().splitlines()]
    assert all("assert" not in p and "input()" not in p for p in executed)
    assert "def encode_cyclic" in executed[1]


def test_sanitize_keeps_the_function_mbpp_tests_call(tmp_path: Path, shared_data: Path) -> None:
    """MBPP names no entry point in its data: the one its tests call is kept, the example dropped."""
    program = "def sort_matrix(M):\n    return sorted(M, key=sum)\n\nassert sort_matrix([[2], [1]]) == [[2]]\n"
    samples = tmp_path / "mbpp.jsonl"
    samples.write_text(json.dumps({"task_id": "12", "sample": 0, "solution": program}) + "\n")
    with pytest.warns(UserWarning, match="have no samples"):
        assert main(["evaluate", str(samples), "--benchmark", "mbpp", "--data", str(shared_data), "--sanitize",
                     "--k", "1", "--workers", "1", "--no-cache", "--no-progress"]) == 0
    [result] = [json.loads(line) for line in (tmp_path / "mbpp_results.jsonl").read_text().splitlines()]
    assert result["status"] == "passed", result["reason"]
    assert result["executed_program"] == "def sort_matrix(M):\n    return sorted(M, key=sum)\n"
