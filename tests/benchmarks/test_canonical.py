"""Every benchmark's canonical solutions pass in the sandbox (exceptions listed with reasons)."""

from __future__ import annotations

from pathlib import Path

import pytest

from editseq.benchmarks import load_benchmark
from editseq.evaluate.run import CALIBRATION_TIMEOUT, record_references
from editseq.evaluate.store import ResultStore
from editseq.sandbox import Limits, SandboxPool

# task -> why its canonical solution fails under editseq; empty: all pass. HumanEval/32 passes
# here (evalplus 0.3.1 fails it); MBPP+ 737/787/794 pass through the ``not_none`` oracle and
# Mbpp/255 needs the 4 GiB EvalPlus memory limit (it fails at 2 GiB).
KNOWN_FAILURES: dict[str, dict[str, str]] = {}
COUNTS = {"humaneval": 164, "humaneval+": 164, "mbpp": 500, "mbpp-sanitized": 257, "mbpp+": 378}


# EvalPlus tasks whose reference outputs are too large to record (plus.MAX_RECORD_BYTES): their
# samples run the reference themselves
UNRECORDED = {"humaneval+": ["HumanEval/100", "HumanEval/130", "HumanEval/139", "HumanEval/15", "HumanEval/83"],
              "mbpp+": ["Mbpp/255", "Mbpp/630"]}


def failing_canonicals(name: str, data: Path) -> dict[str, str]:
    bench = load_benchmark(name, data)
    assert len(bench.problems) == COUNTS[name]
    # the limit `evaluate` calibrates EvalPlus tasks under; Mbpp/599 alone takes about 30 s
    limits = Limits(timeout=CALIBRATION_TIMEOUT, memory_mb=max(2048, bench.memory_mb))
    with SandboxPool(limits=limits) as pool:
        if bench.scaled_timeouts:  # as `evaluate` runs them: reference outputs recorded first
            store = ResultStore(None)
            assert record_references(bench, pool, store, limits, set(bench.problems), False) == UNRECORDED[name]
            store.close()
        verdicts = dict(pool.run((tid, bench.canonical_program(p)) for tid, p in bench.problems.items()))
    return {tid: f"{v.status}: {v.reason}" for tid, v in verdicts.items() if not v.passed}


@pytest.mark.parametrize("name", ["humaneval", "mbpp", "mbpp-sanitized"])
def test_canonical_solutions_pass(name: str, shared_data: Path) -> None:
    assert failing_canonicals(name, shared_data) == KNOWN_FAILURES.get(name, {})


@pytest.mark.slow
@pytest.mark.parametrize("name", ["humaneval+", "mbpp+"])
def test_canonical_solutions_pass_plus(name: str, shared_data: Path) -> None:
    assert failing_canonicals(name, shared_data) == KNOWN_FAILURES.get(name, {})


def test_benchmarks_know_version_and_license(shared_data: Path) -> None:
    for name in COUNTS:
        bench = load_benchmark(name, shared_data)
        assert bench.version and bench.license and bench.url.startswith("https://")
        assert len(bench.fingerprint) == 64


def test_humaneval_program_is_prompt_completion_test(shared_data: Path) -> None:
    bench = load_benchmark("humaneval", shared_data)
    p = bench.problems["HumanEval/0"]
    program = bench.program(p, completion="    pass\n")
    assert program == p.prompt + "    pass\n" + "\n" + p.test
    assert p.test.endswith("check(has_close_elements)\n")


def test_humaneval_plus_find_zero_accepts_any_root(shared_data: Path) -> None:
    """HumanEval/32 is judged by |poly(xs, x)| <= atol, not by equality with the reference root."""
    bench = load_benchmark("humaneval+", shared_data)
    p = bench.problems["HumanEval/32"]
    reference = p.canonical_solution[len(p.prompt):]
    # one extra Newton step: a slightly different root, so plain equality would reject it
    refined = reference.replace("    return x", "    return x - (poly(xs, x) / poly(dxs, x) if poly(dxs, x) else 0)")
    assert refined != reference
    with SandboxPool(1, Limits(timeout=30)) as pool:
        assert pool.run_one(bench.program(p, completion=refined)).passed
        assert not pool.run_one(bench.program(p, completion="    return 0.0\n")).passed
