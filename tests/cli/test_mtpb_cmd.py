"""The real ``editseq mtpb`` commands on tiny fixtures."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from editseq.cli import main
from tests.cli.interrupt import interrupted
from tests.mtpb.test_run import write_oracle


def test_mtpb_evaluate_command(tmp_path: Path, shared_data: Path, capsys) -> None:
    samples = tmp_path / "x.jsonl"
    write_oracle(samples, shared_data, ["3", "41"])
    with pytest.warns(UserWarning, match="have no runs"):
        code = main(["mtpb", "evaluate", str(samples), "--data", str(shared_data), "--workers", "2"])
    assert code == 0
    out = capsys.readouterr().out
    assert "multi-turn (reference mode): pass rate 80.00% over 2 problems, 10 runs" in out
    summary = json.loads((tmp_path / "x_summary.json").read_text())
    assert summary["modes"]["multi"]["problems"]["41"]["passed"] == 3
    assert summary["settings"]["fixed"] is False and "numpy" in summary["versions"]
    with pytest.warns(UserWarning, match="have no runs"):
        assert main(["mtpb", "evaluate", str(samples), "--data", str(shared_data), "--fixed"]) == 0
    assert "pass rate 100.00%" in capsys.readouterr().out
    # side by side: the fixed run does not replace the reference-mode files
    assert json.loads((tmp_path / "x_fixed_summary.json").read_text())["settings"]["fixed"] is True
    assert json.loads((tmp_path / "x_summary.json").read_text())["settings"]["fixed"] is False
    assert (tmp_path / "x_fixed_results.jsonl").is_file() and (tmp_path / "x_results.jsonl").is_file()


def test_runs_the_context_cut_short_are_named_by_problem(tmp_path: Path, shared_data: Path, capsys) -> None:
    """Was: runs `mtpb sample` ended at a context overflow counted as failures among the 'error'
    statuses, with nothing in the summary or the output saying which problems they were."""
    samples = tmp_path / "x.jsonl"
    write_oracle(samples, shared_data, ["3", "41"])
    runs = [json.loads(line) for line in samples.read_text().splitlines()]
    for run in (runs[1], runs[5], runs[8]):  # problem 3 case 1, problem 41 cases 0 and 3
        run.update(error="context overflow at turn 2: history reaches 2048 tokens", completions=["pass"])
    samples.write_text("".join(json.dumps(r) + "\n" for r in runs))
    with pytest.warns(UserWarning, match="have no runs"):
        assert main(["mtpb", "evaluate", str(samples), "--data", str(shared_data), "--workers", "2"]) == 0
    multi = json.loads((tmp_path / "x_summary.json").read_text())["modes"]["multi"]
    assert multi["unfinished"] == {"3": 1, "41": 2}
    assert multi["problems"]["3"] == {"runs": 5, "passed": 4, "pass_rate": 0.8}
    assert ("3 runs unfinished when sampled (context overflow; counted as failures, their 'error' in the "
            "results), by problem: 3 (1), 41 (2)\n") in capsys.readouterr().out


def test_runs_all_excluded_have_no_pass_rate(tmp_path: Path, shared_data: Path, capsys) -> None:
    """Was: runs of 38 only under --fixed (excluded, nothing scored) printed 'pass rate 0.00% over
    0 problems' and an empty category line, and the summary's pass_rate was 0.0."""
    samples = tmp_path / "x.jsonl"
    write_oracle(samples, shared_data, ["38"])
    with pytest.warns(UserWarning, match="have no runs"):
        assert main(["mtpb", "evaluate", str(samples), "--data", str(shared_data), "--fixed"]) == 0
    out = capsys.readouterr().out
    assert "multi-turn (fixed mode): pass rate none over 0 problems, 0 runs (5 more excluded); statuses: excluded 5\nexcluded" in out
    summary = json.loads((tmp_path / "x_fixed_summary.json").read_text())
    assert summary["pass_rate"] is None and summary["modes"]["multi"]["pass_rate"] is None


def test_mtpb_bad_input_exits_2(tmp_path: Path, shared_data: Path, capsys) -> None:
    samples = tmp_path / "bad.jsonl"
    samples.write_text('{"problem_id": "1", "case": 9, "completions": []}\n')
    assert main(["mtpb", "evaluate", str(samples), "--data", str(shared_data)]) == 2
    assert "bad.jsonl line 1, problem 1: 'case' must be an integer 0-4" in capsys.readouterr().err
    assert main(["mtpb", "evaluate", str(tmp_path / "missing.jsonl")]) == 2
    assert main(["mtpb", "evaluate", str(samples), "--workers", "-1"]) == 2


def test_a_bad_data_dir_variable_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("EDITSEQ_DATA_DIR", str(tmp_path / "nowhere"))
    samples = tmp_path / "x.jsonl"
    samples.write_text('{"problem_id": "1", "case": 0, "completions": []}\n')
    assert main(["mtpb", "evaluate", str(samples)]) == 2
    assert main(["evaluate", str(samples)]) == 2
    assert capsys.readouterr().err.count("EDITSEQ_DATA_DIR=") == 2


def test_mtpb_sample_unknown_model_exits_2(tmp_path: Path, capsys, shared_data) -> None:
    code = main(["mtpb", "sample", "--model", "no-such-model", "--out", str(tmp_path / "r.jsonl")])
    assert code == 2
    assert "--model no-such-model: cannot load it offline" in capsys.readouterr().err
    # each sampling flag named on its own, in both sampling commands
    for command in (["mtpb", "sample"], ["sample", "--out", str(tmp_path / "s.jsonl")]):
        for flag, value, message in (("--n", "0", "--n must be at least 1, got 0"),
                                     ("--top-p", "1.5", "--top-p must be in (0, 1] (1: no nucleus cut), got 1.5"),
                                     ("--temperature", "-1", "--temperature must be >= 0 (0: greedy), got -1.0"),
                                     ("--max-new-tokens", "0", "--max-new-tokens must be at least 1, got 0")):
            assert main([*command, "--model", "m", flag, value]) == 2
            assert f"error: {message}" in capsys.readouterr().err
    # what does not need the model is checked before it loads
    assert main(["mtpb", "sample", "--model", "no-such-model", "--problems", "999",
                 "--out", str(tmp_path / "q.jsonl")]) == 2
    assert "--problems: unknown ids ['999']" in capsys.readouterr().err
    assert main(["mtpb", "perplexity", "--model", "http://127.0.0.1:9/v1"]) == 2
    assert "perplexity needs the token probabilities of a local model" in capsys.readouterr().err
    for command in (["mtpb", "sample"], ["mtpb", "perplexity"], ["sample", "--out", str(tmp_path / "s.jsonl")]):
        assert main([*command, "--model", "m", "--threads", "0"]) == 2
        assert "--threads must be at least 1" in capsys.readouterr().err


@pytest.mark.slow
def test_mtpb_sample_evaluate_perplexity_with_the_real_model(tmp_path: Path, shared_data: Path, capsys) -> None:
    pytest.importorskip("torch")
    runs = tmp_path / "r.jsonl"
    common = ["--model", "smollm2-135m", "--problems", "3", "--data", str(shared_data), "--threads", "2"]
    assert main(["mtpb", "sample", *common, "--max-new-tokens", "16", "--out", str(runs), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "5 runs written" in captured.out
    assert "problem 3" not in captured.err and "Loading weights" not in captured.err
    # a finished run's rerun says so (it returns before the model would load)
    assert main(["mtpb", "sample", *common, "--max-new-tokens", "16", "--out", str(runs), "--no-progress"]) == 0
    assert "0 runs written" in (said := capsys.readouterr().out) and "an earlier run wrote all of them" in said
    assert len(runs.read_text().splitlines()) == 5
    with pytest.warns(UserWarning, match="114 of 115"):
        assert main(["mtpb", "evaluate", str(runs), "--data", str(shared_data), "--workers", "2"]) == 0
    figures = tmp_path / "out" / "ppl.json"
    assert main(["mtpb", "perplexity", *common, "--results", str(tmp_path / "r_results.jsonl"),
                 "--json-out", str(figures), "--no-progress"]) == 0
    out = json.loads(figures.read_text())
    assert out["history"] == "prompts and completions" and set(out["problems"]) == {"3"}
    assert 1 < out["multi"] < 1000 and 1 < out["single"] < 1000
    assert f"multi-turn {out['multi']:.2f}, single-turn {out['single']:.2f}" in capsys.readouterr().out


def _stored(cache: Path) -> int:
    """Verdicts a running evaluation has committed (read-only: the test must not create the file)."""
    if not cache.exists():
        return 0
    with closing(sqlite3.connect(f"file:{cache}?mode=ro", uri=True)) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
        except sqlite3.OperationalError:  # the table is not made yet
            return 0


@pytest.mark.filterwarnings("ignore:.*have no runs")
def test_an_interrupted_mtpb_evaluate_resumes_where_it_stopped(tmp_path: Path, shared_data: Path,
                                                               capsys) -> None:
    """Ctrl-C's SIGINT mid-run: exit 130 saying finished work is kept, and the rerun executes only
    the runs the first one did not finish."""
    samples = tmp_path / "slow.jsonl"
    n = write_oracle(samples, shared_data, ["1", "2"])
    records = [json.loads(line) for line in samples.read_text().splitlines()]
    for rec in records:  # each run takes half a second, so the interruption comes mid-run
        rec["completions"][0] = "import time; time.sleep(0.5)\n" + rec["completions"][0]
    samples.write_text("".join(json.dumps(rec) + "\n" for rec in records))
    argv = ["mtpb", "evaluate", str(samples), "--data", str(shared_data), "--workers", "1"]
    cache = tmp_path / "slow_cache.sqlite"
    code, err = interrupted(argv, lambda: bool(_stored(cache)), poll=0.1, exit_within=60)
    assert code == 130, err
    assert err.endswith("Aborted. Rerun the same command to resume: finished work is kept.\n")
    kept = _stored(cache)
    assert 0 < kept < n
    assert main(argv) == 0
    assert f"({n - kept} programs executed, " in capsys.readouterr().out
    summary = json.loads((tmp_path / "slow_summary.json").read_text())
    assert summary["executed"] == n - kept and summary["modes"]["multi"]["statuses"] == {"passed": n}
    assert _stored(cache) == n


def test_a_file_given_to_the_other_evaluate_names_the_command_it_is_for(tmp_path: Path, shared_data: Path,
                                                                       capsys) -> None:
    """Was: "missing field 'problem_id'" for HumanEval samples given to `mtpb evaluate`, and
    "missing field 'task_id'" for MTPB runs given to `evaluate`, without naming the command each is for."""
    benchmark, mtpb = tmp_path / "s.jsonl", tmp_path / "r.jsonl"
    benchmark.write_text(json.dumps({"task_id": "HumanEval/0", "completion": "    return True\n"}) + "\n")
    write_oracle(mtpb, shared_data, ["3"])
    assert main(["mtpb", "evaluate", str(benchmark), "--data", str(shared_data)]) == 2
    assert "s.jsonl line 1: missing field 'problem_id' (an MTPB id such as \"1\"); this record has task_id: " \
           "a sample (or result) of HumanEval or MBPP, which `editseq evaluate` reads" in capsys.readouterr().err
    assert main(["evaluate", str(mtpb), "--data", str(shared_data), "--no-progress"]) == 2
    assert "r.jsonl line 1: missing field 'task_id'; every sample needs the benchmark task it answers; " \
           "this record has problem_id: an MTPB run, which `editseq mtpb evaluate` reads" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl", "s.jsonl"]


def test_mtpb_evaluate_shows_a_progress_bar_over_its_runs(tmp_path: Path, shared_data: Path, capsys) -> None:
    """Was: no bar while the sandbox ran (minutes for a model's 115 x 5 x n runs, at up to 20 s
    each), and --no-progress, which every other long command takes, was no option here."""
    samples = tmp_path / "x.jsonl"
    write_oracle(samples, shared_data, ["3"])
    with pytest.warns(UserWarning, match="have no runs"):
        assert main(["mtpb", "evaluate", str(samples), "--data", str(shared_data), "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert "evaluate mtpb: 100%" in err and "5/5 [" in err
    with pytest.warns(UserWarning, match="have no runs"):
        assert main(["mtpb", "evaluate", str(samples), "--data", str(shared_data), "--no-progress",
                     "--fixed"]) == 0
    assert "evaluate mtpb" not in capsys.readouterr().err  # nor its fixed mode's "evaluate mtpb-fixed"
