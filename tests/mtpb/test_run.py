"""Evaluation of whole samples files in the real sandbox: the full benchmark, modes, bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from editseq.io import InputError
from editseq.mtpb import data
from editseq.mtpb.run import MTPBEvaluateOptions, evaluate


def write_oracle(path: Path, shared: Path, problems: list[str] | None = None, mode: str = "multi") -> int:
    """Runs whose last turn prints the expected output (every other turn is ``pass``)."""
    bench = data.load(shared)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for pid, p in bench.problems.items():
            if problems is not None and pid not in problems:
                continue
            for c, case in enumerate(p.cases):
                last = f"result = {case.output!r}\nprint(result)"
                comps = [last] if mode == "single" else ["pass"] * (len(p.prompts) - 1) + [last]
                fh.write(json.dumps({"problem_id": pid, "case": c, "mode": mode, "completions": comps}) + "\n")
                n += 1
    return n


def test_full_benchmark(tmp_path: Path, shared_data: Path) -> None:
    """All 115 x 5 runs; only 41's None and 89's dicts fail, and --fixed accepts them."""
    samples = tmp_path / "oracle.jsonl"
    assert write_oracle(samples, shared_data) == 575
    start = time.monotonic()
    summary = evaluate(MTPBEvaluateOptions(samples=samples, data=shared_data))
    print(f"full MTPB benchmark (575 runs) evaluated in {time.monotonic() - start:.1f} s")
    multi = summary["modes"]["multi"]
    failing = {pid: p["passed"] for pid, p in multi["problems"].items() if p["pass_rate"] < 1}
    assert failing == {"41": 3, "89": 0}
    assert summary["pass_rate"] == pytest.approx((113 + 0.6) / 115)
    assert multi["n_problems"] == 115 and multi["statuses"] == {"passed": 568, "failed": 7}
    results = [json.loads(line) for line in (tmp_path / "oracle_results.jsonl").read_text().splitlines()]
    assert len(results) == 575 and results[0]["category"] == "string"
    assert [r["problem_id"] for r in results[:6]] == ["1"] * 5 + ["2"]
    assert set(results[0]) >= {"problem_id", "case", "completions", "passed", "status", "reason"}



def test_fixed_mode_on_the_quirky_problems(tmp_path: Path, shared_data: Path) -> None:
    samples = tmp_path / "quirks.jsonl"
    write_oracle(samples, shared_data, ["20", "23", "38", "41", "46", "57", "89"])
    with pytest.warns(UserWarning, match="108 of 113 MTPB problems have no runs"):
        fixed = evaluate(MTPBEvaluateOptions(samples=samples, data=shared_data, fixed=True))
    assert fixed["pass_rate"] == 1.0 and set(fixed["excluded"]) == {"38", "46"}
    assert fixed["modes"]["multi"]["n_problems"] == 5
    assert fixed["modes"]["multi"]["statuses"] == {"passed": 25, "excluded": 10}
    assert set(fixed["fixes"]) == {"20", "23", "38", "41", "46", "57", "89"}


def test_single_and_multi_in_one_file(tmp_path: Path, shared_data: Path) -> None:
    samples = tmp_path / "both.jsonl"
    write_oracle(samples, shared_data, ["1", "2"])
    single = tmp_path / "single.jsonl"
    write_oracle(single, shared_data, ["1"], mode="single")
    lines = single.read_text().splitlines()
    lines[0] = lines[0].replace('"completions": [', '"error": "context overflow", "completions": [')
    samples.write_text(samples.read_text() + "\n".join(lines) + "\n")
    with pytest.warns(UserWarning, match="have no runs"):
        summary = evaluate(MTPBEvaluateOptions(samples=samples, data=shared_data, workers=2))
    assert summary["modes"]["multi"]["pass_rate"] == 1.0
    assert summary["modes"]["single"]["problems"]["1"] == {"runs": 5, "passed": 4, "pass_rate": 0.8}
    assert summary["modes"]["single"]["statuses"] == {"error": 1, "passed": 4}


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "bad.jsonl line 1: not valid JSON"),
    ('{"case": 0, "completions": []}', "missing field 'problem_id'"),
    ('{"problem_id": "999", "case": 0, "completions": []}', "unknown problem_id '999'"),
    ('{"problem_id": "3", "case": 5, "completions": ["a", "b", "c"]}', "'case' must be an integer 0-4"),
    ('{"problem_id": "3", "case": 0, "completions": "x"}', "'completions' must be a list of strings"),
    ('{"problem_id": "3", "case": 0, "completions": ["a"]}', "1 completions for a multi-turn run of 3 turn(s)"),
    ('{"problem_id": "3", "case": 0, "mode": "x", "completions": ["a"]}', "mode must be 'multi' or 'single'"),
    ('{"problem_id": "3", "case": 0, "sample": 0, "completions": ["a", "b", "c"]}\n'
     '{"problem_id": "3", "case": 0, "sample": 0, "completions": ["d", "e", "f"]}',
     "bad.jsonl line 2: problem 3, case 0, sample 0 (multi-turn) is already in "),
])
def test_bad_input(tmp_path: Path, shared_data: Path, line: str, message: str) -> None:
    samples = tmp_path / "bad.jsonl"
    samples.write_text(line + "\n")
    with pytest.raises(InputError) as err:
        evaluate(MTPBEvaluateOptions(samples=samples, data=shared_data))
    assert message in str(err.value)
