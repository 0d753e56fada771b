"""Ray backend scaling: the same LintSeq conversion on a local Ray cluster of 1 and of 2 CPUs.

Usage: python benchmarks/ray_scaling.py [--copies 20] [--samples 5]
Input: MBPP's 974 programs repeated ``--copies`` times (from the shared data folder). Prints the
wall time for each cluster size and the speed-up; outputs are checked to be identical.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import ray

from editseq.env import data_dir
from editseq.lintseq.convert import LintseqConfig, run_lintseq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--samples", type=int, default=5)
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
            summary = run_lintseq(LintseqConfig(str(src), str(out), samples=args.samples, backend="ray"), progress=False)
            walls[cpus] = time.perf_counter() - start
            ray.shutdown()
            print(f"{cpus} CPU: {summary.converted} records x {args.samples} sequences in {walls[cpus]:.1f} s wall")
        same = (Path(tmp) / "out1.jsonl").read_bytes() == (Path(tmp) / "out2.jsonl").read_bytes()
        print(f"speed-up 1 -> 2 CPUs: {walls[1] / walls[2]:.2f}x; outputs identical: {same}")


if __name__ == "__main__":
    main()
