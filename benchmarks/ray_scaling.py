"""Ray backend scaling: the same work on a local Ray cluster of 1 and of 2 CPUs.

Usage: python benchmarks/ray_scaling.py [--copies 20] [--samples 5] [--repeat 10]
(1) LintSeq on MBPP's 974 programs repeated ``--copies`` times; (2) ``editseq evaluate`` of the 164
HumanEval canonical solutions ``--repeat`` times, each copy made distinct (so the in-run dedup does
not skip it), cache off. Prints wall time per cluster size and the speed-up; outputs are checked
to be identical across cluster sizes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

import ray

from editseq.env import data_dir
from editseq.evaluate.run import EvaluateOptions, evaluate
from editseq.lintseq.run import LintseqConfig, run_lintseq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    folder = data_dir()
    if folder is None:
        raise SystemExit("benchmark data not found: set EDITSEQ_DATA_DIR")
    rows = [json.loads(line) for line in (folder / "mbpp" / "mbpp.jsonl").open()]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        with src.open("w") as fh:
            for i in range(args.copies):
                for r in rows:
                    fh.write(json.dumps({"id": f"{i}/{r['task_id']}", "program": r["code"]}) + "\n")
        walls = {}
        for cpus in (1, 2):
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
            out = Path(tmp) / f"out{cpus}.jsonl"
            start = time.perf_counter()
            summary = run_lintseq(LintseqConfig(str(src), str(out), samples=args.samples, backend="ray", progress=False))
            walls[cpus] = time.perf_counter() - start
            ray.shutdown()
            print(f"{cpus} CPU: {summary.converted} records x {args.samples} sequences in {walls[cpus]:.1f} s wall")
        same = (Path(tmp) / "out1.jsonl").read_bytes() == (Path(tmp) / "out2.jsonl").read_bytes()
        print(f"lintseq speed-up 1 -> 2 CPUs: {walls[1] / walls[2]:.2f}x; outputs identical: {same}")
        evaluate_scaling(folder, Path(tmp), args.repeat)


def evaluate_scaling(folder: Path, tmp: Path, repeat: int) -> None:
    with gzip.open(folder / "humaneval" / "HumanEval.jsonl.gz", "rt") as fh:
        problems = [json.loads(line) for line in fh]
    samples = tmp / "samples.jsonl"
    with samples.open("w") as fh:
        for r in range(repeat):
            for p in problems:  # a trailing comment makes each copy a distinct program
                fh.write(json.dumps({"task_id": p["task_id"], "completion": p["canonical_solution"] + f"# copy {r}\n"}) + "\n")
    walls, passed = {}, {}
    for cpus in (1, 2):
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
        start = time.perf_counter()
        summary = evaluate(EvaluateOptions(samples, data=folder, backend="ray", cache=False, progress=False,
                                           out_dir=tmp / f"eval{cpus}"))
        walls[cpus] = time.perf_counter() - start
        ray.shutdown()
        passed[cpus] = summary["pass@1"]
        n = len(problems) * repeat
        print(f"{cpus} CPU: evaluate {n} programs in {walls[cpus]:.1f} s wall ({n / walls[cpus]:.0f}/s), pass@1 {summary['pass@1']:.3f}")
    print(f"evaluate speed-up 1 -> 2 CPUs: {walls[1] / walls[2]:.2f}x; same verdicts: {passed[1] == passed[2]}")


if __name__ == "__main__":
    main()
