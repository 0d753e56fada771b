"""MTPB evaluation speed: ``editseq mtpb evaluate`` vs the reference's execution model.

    .venv/bin/python benchmarks/mtpb_vs_reference.py [--workers 2] [--data DIR] [--repeat 3]

The input is the whole benchmark as runs that pass: all 115 problems x 5 cases (575 runs), every
turn ``pass`` but the last, which prints the expected output (the runs ``tests/mtpb/test_run.py``
checks). The reference (salesforce/CodeGen ``codegen1/benchmark/mtpb_exec.py``) is not packaged
and only runs on Python <= 3.9 (it passes a float to ``setrlimit``), so its execution model is
timed instead: every run ``exec``'d in this one process, one after another, under a 20 s timer,
with print recorded and the expected output compared. That is the same per-run work through
editseq's own harness (``harness.run_case``: print rewrite, recorded exec, comparison), without
isolation, so it is a floor of what the reference spends on these runs. editseq's side is
``mtpb.run.evaluate`` with the cache off, reading and writing included: each run in a fresh
forked, sandboxed process, on ``--workers`` workers (pool start-up included). Verdicts of the
two sides are compared run by run; the reference model's shared process lets state leak from
one run to the next, so differences are printed.

Rounds alternate the two sides (the machine's speed drifts within minutes); medians and the
rounds' range are printed.

Measured 2026-11-23 on the 2-core CI machine, 2 workers, 3 rounds, with two other jobs using
the cores (load average 2.5): the reference model 0.1 s (0.1-0.2), editseq 5.7 s (5.2-8.5),
ratio 0.02x; verdicts identical (568 passed, the 7 failures are problems 41 and 89, whose
expected outputs the reference comparison cannot match). Before the sandbox workers preloaded
numpy and pandas, editseq took 17.2 s: importing them was 30-50 ms of every run. So the
sandbox costs about 10 ms of wall time per run on these trivial programs (a fork of a worker
holding numpy and pandas, a fresh process, limits, clean-up), where an in-process ``exec``
costs 0.2 ms; that is the price of isolation and of no state leaking between runs, and it is
small next to what real model programs spend (a pandas call, a timeout of 20 s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from editseq.env import data_dir
from editseq.mtpb import data, harness, prompts
from editseq.mtpb.run import MTPBEvaluateOptions, evaluate


def oracle_runs(bench: data.Benchmark) -> list[dict]:
    """Every case of every problem, passing: ``pass`` turns, then the expected output printed."""
    runs = []
    for pid, p in bench.problems.items():
        for c, case in enumerate(p.cases):
            last = f"result = {case.output!r}\nprint(result)"
            runs.append({"problem_id": pid, "case": c, "completions": ["pass"] * (len(p.prompts) - 1) + [last]})
    return runs


def reference_model(bench: data.Benchmark, runs: list[dict]) -> tuple[float, list[bool]]:
    """(seconds, verdicts): every run exec'd in this process, one after another."""
    verdicts = []
    start = time.perf_counter()
    for run in runs:
        problem = bench.problems[run["problem_id"]]
        source = prompts.program(problem, run["case"], run["completions"])
        try:
            harness.run_case(source, json.dumps(problem.cases[run["case"]].output))
            verdicts.append(True)
        except Exception:
            verdicts.append(False)
    return time.perf_counter() - start, verdicts


def editseq_side(samples: Path, folder: Path, workers: int) -> tuple[float, list[bool]]:
    """(seconds, verdicts in input order) of ``mtpb evaluate --no-cache``."""
    start = time.perf_counter()
    evaluate(MTPBEvaluateOptions(samples=samples, data=folder, cache=False, workers=workers))
    seconds = time.perf_counter() - start
    results = [json.loads(line) for line in samples.with_name(samples.stem + "_results.jsonl").read_text().splitlines()]
    passed = {(r["problem_id"], r["case"]): r["passed"] for r in results}
    runs = [json.loads(line) for line in samples.read_text().splitlines()]
    return seconds, [passed[(r["problem_id"], r["case"])] for r in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: ../shared/data)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each timing both sides")
    args = parser.parse_args()
    folder = args.data or data_dir()
    if folder is None:
        raise SystemExit("benchmark data not found: pass --data or set EDITSEQ_DATA_DIR")
    bench = data.load(folder)
    runs = oracle_runs(bench)
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "oracle.jsonl"
        samples.write_text("".join(json.dumps(r) + "\n" for r in runs), encoding="utf-8")
        ours, theirs, ratios = [], [], []
        for round_ in range(1, args.repeat + 1):
            t_ref, v_ref = reference_model(bench, runs)
            t_ours, v_ours = editseq_side(samples, folder, args.workers)
            ours.append(t_ours)
            theirs.append(t_ref)
            ratios.append(t_ref / t_ours)
            differ = [(r["problem_id"], r["case"], a, b) for r, a, b in zip(runs, v_ref, v_ours, strict=True) if a != b]
            print(f"round {round_}: reference model {t_ref:.1f} s ({len(runs) / t_ref:.0f} runs/s, "
                  f"{sum(v_ref)} passed), editseq {t_ours:.1f} s ({len(runs) / t_ours:.0f} runs/s, "
                  f"{sum(v_ours)} passed); verdicts differ on {len(differ)}: {differ[:10]}")
    print(f"\n{len(runs)} runs, {args.workers} workers, {args.repeat} rounds (medians, range):")
    print(f"  reference model, one process, no isolation: {statistics.median(theirs):.1f} s "
          f"({min(theirs):.1f}-{max(theirs):.1f})")
    print(f"  editseq mtpb evaluate --no-cache, sandboxed: {statistics.median(ours):.1f} s "
          f"({min(ours):.1f}-{max(ours):.1f})")
    print(f"  ratio reference / editseq: {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x)")


if __name__ == "__main__":
    main()
