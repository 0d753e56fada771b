"""HumanEval+ / MBPP+ tests with recorded reference outputs vs the reference run in every sample.

    .venv/bin/python benchmarks/plus_recorded_outputs.py [--benchmark mbpp+] [--workers 2] [--data DIR]

EvalPlus-style tests compare a candidate with the reference solution on hundreds of inputs.
``editseq evaluate`` records each task's reference outputs once (``record_references``, the
same recording programs run here) and builds the tests from them; before, every sample ran the
reference beside the candidate, as the test still does where nothing was recorded. This script runs the canonical solutions (a correct sample
of every task: the case where the whole input list is checked) both ways in the same pool, under
the calibration limits, and prints the CPU time of each, the ratio, the one-time recording cost
and the tasks where it matters most. CPU time is the sample processes' own (rusage), so the
figures do not depend on machine load the way wall time does.

Measured 2026-11-23 on the 2-core CI machine, 2 workers, every task of both benchmarks
(CPU-s summed over the canonical solutions, i.e. one correct sample per task):
  humaneval+: reference beside 24.7, recorded 20.4: 1.21x (wall 14.4 s vs 12.2 s); recording
      once 10.8 CPU-s; 5 tasks not recorded (HumanEval/15, 83, 100, 130, 139: outputs too large).
  mbpp+: reference beside 79.0, recorded 52.0: 1.52x (wall 53.1 s vs 33.5 s); recording once
      41.1 CPU-s; 2 not recorded (Mbpp/255, 630). Mbpp/599: 34.8 -> 18.3 CPU-s per correct sample.
An earlier run of the same comparison (uncompressed recordings) gave 1.16x and 1.71x: the
machine's speed drifts by tens of percent within minutes, so take the ratios as +-0.2. Time
limits follow (2x the canonical time + 1 s), so a looping sample of Mbpp/599 now stops at 37.6
CPU-s instead of 70.7. Most HumanEval+ references are cheap next to starting a sample; the time
there is in the five unrecorded tasks, whose candidates must build the same large outputs.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from editseq.benchmarks import load_benchmark
from editseq.benchmarks.plus import read_recording
from editseq.evaluate.run import CALIBRATION_TIMEOUT, recording_limits
from editseq.sandbox import Limits, SandboxPool


def run(name: str, data: Path | None, workers: int) -> None:
    bench = load_benchmark(name, data)
    limits = Limits(timeout=CALIBRATION_TIMEOUT, memory_mb=max(2048, bench.memory_mb))
    specs = {tid: p.plus for tid, p in bench.problems.items() if p.plus is not None}
    record = recording_limits(bench, limits)  # as evaluate records
    with SandboxPool(workers, limits) as pool:
        recordings = dict(pool.run(((t, s.recording_program()) for t, s in specs.items()), limits=record))
        outputs = {t: read_recording(v.output) if v.passed else None for t, v in recordings.items()}
        programs = {"beside": {t: bench.canonical_program(p) for t, p in bench.problems.items()},
                    "recorded": {t: bench.canonical_program(replace(p, test=specs[t].test(outputs[t])))
                                 for t, p in bench.problems.items()}}
        cpu: dict[str, dict[str, float]] = {}
        for label, jobs in programs.items():
            start = time.perf_counter()
            verdicts = dict(pool.run(jobs.items()))
            wall = time.perf_counter() - start
            failed = sorted(t for t, v in verdicts.items() if not v.passed)
            assert not failed, f"{label}: canonical solutions failed: {failed}"
            cpu[label] = {t: v.cpu_time for t, v in verdicts.items()}
            print(f"{name} {label:>8}: {sum(cpu[label].values()):7.1f} CPU-s, {wall:6.1f} s wall")
    beside, recorded = sum(cpu["beside"].values()), sum(cpu["recorded"].values())
    unrecorded = sorted(t for t, o in outputs.items() if o is None)
    print(f"{name}: reference beside / recorded = {beside / recorded:.2f}x CPU; recording once: "
          f"{sum(v.cpu_time for v in recordings.values()):.1f} CPU-s; not recorded ({len(unrecorded)}): "
          + ", ".join(unrecorded))
    gain = sorted(bench.problems, key=lambda t: cpu["recorded"][t] - cpu["beside"][t])[:5]
    print("  largest savings per correct sample (CPU-s): " + ", ".join(
        f"{t} {cpu['beside'][t]:.2f} -> {cpu['recorded'][t]:.2f}" for t in gain))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--benchmark", choices=["humaneval+", "mbpp+"], action="append")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data", type=Path)
    args = ap.parse_args()
    for name in args.benchmark or ["humaneval+", "mbpp+"]:
        run(name, args.data, args.workers)


if __name__ == "__main__":
    main()
