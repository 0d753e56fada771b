"""MBPP+'s special oracles judge real tasks as EvalPlus does (evalplus/eval/__init__.py,
evalplus/eval/_special_oracle.py), with the reference beside the candidate and recorded first."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import pytest

from editseq.benchmarks import Benchmark, candidate_code, load_benchmark
from editseq.benchmarks.mbpp import TEST_SPLIT
from editseq.evaluate.run import record_references
from editseq.evaluate.samples import read_samples
from editseq.evaluate.store import ResultStore
from editseq.sandbox import Limits, SandboxPool

LIMITS = Limits(timeout=30, memory_mb=4096)
TOUCHED = ["Mbpp/2", "Mbpp/7", "Mbpp/111", "Mbpp/140", "Mbpp/232", "Mbpp/579", "Mbpp/769",
           "Mbpp/558", "Mbpp/581", "Mbpp/737", "Mbpp/787", "Mbpp/794"]

# task -> (samples EvalPlus accepts, samples it rejects); each a whole solution
SET_EQ = {
    "Mbpp/232": (["def larg_nnum(list1, n):\n    return sorted(list1)[len(list1) - n:]\n"],
                 ["def larg_nnum(list1, n):\n    return sorted(list1)[:n]\n"]),
    "Mbpp/111": (["def common_in_nested_lists(nestedlist):\n"
                  "    return sorted(set.intersection(*map(set, nestedlist)), reverse=True)\n"],
                 ["def common_in_nested_lists(nestedlist):\n    return list(set(nestedlist[0]))\n"]),
    "Mbpp/579": (["def find_dissimilar(test_tup1, test_tup2):\n"
                  "    return tuple(set(test_tup2) ^ set(test_tup1))[::-1]\n"],
                 ["def find_dissimilar(test_tup1, test_tup2):\n    return tuple(set(test_tup1) - set(test_tup2))\n"]),
}
ALTERNATIVE = {
    # the perpendicular height: slant height sqrt((b/2)^2 + h^2), rounded as EvalPlus's oracle does
    "Mbpp/581": (["import math\n\ndef surface_Area(b, s):\n    return round(b * b + 2 * b * math.sqrt(b * b / 4 + s * s))\n"],
                 ["def surface_Area(b, s):\n    return b * b + 4 * b * s\n",
                  "import math\n\ndef surface_Area(b, s):\n    return b * b + 2 * b * math.sqrt(b * b / 4 + s * s)\n"]),
    # the shorter number padded with zeros
    "Mbpp/558": (["def digit_distance_nums(n1, n2):\n    a, b = str(n1).zfill(20), str(n2).zfill(20)\n"
                  "    return sum(abs(int(x) - int(y)) for x, y in zip(a, b))\n"],
                 ["def digit_distance_nums(n1, n2):\n    return abs(n1 - n2)\n"]),
}
MATCH = "import re\n\ndef check_str(string):\n    found = re.search('^[aeiouAEIOU][A-Za-z0-9_]*', string)\n"
NOT_NONE = {
    # a bool answers for itself; anything else by being None or not: 0 and "" are "matched"
    "Mbpp/737": ([MATCH + "    return found is not None\n", MATCH + "    return found\n",
                  MATCH + "    return 'yes' if found else None\n"],
                 [MATCH + "    return 1 if found else 0\n", MATCH + "    return 'yes' if found else ''\n",
                  MATCH + "    return True\n"]),
}


@pytest.fixture(scope="module", params=["reference beside", "recorded outputs"])
def bench(request: pytest.FixtureRequest, shared_data: Path) -> Benchmark:
    """MBPP+ with the touched tasks only; their reference outputs recorded first where asked."""
    bench = load_benchmark("mbpp+", shared_data)
    bench.problems = {tid: bench.problems[tid] for tid in TOUCHED}
    if request.param == "recorded outputs":
        store = ResultStore(None)
        with SandboxPool(limits=LIMITS) as pool:
            assert record_references(bench, pool, store, LIMITS, set(TOUCHED), False) == []
        store.close()
        assert all("_EDITSEQ_EXPECTED = None" not in p.test for p in bench.problems.values())
    return bench


def _verdicts(bench: Benchmark, cases: dict[str, tuple[list[str], list[str]]]) -> dict[tuple[str, bool, int], str]:
    jobs = [((tid, right, i), bench.program(bench.problems[tid], solution=code))
            for tid, (good, bad) in cases.items() for right, codes in ((True, good), (False, bad))
            for i, code in enumerate(codes)]
    with SandboxPool(limits=LIMITS) as pool:
        return {key: f"{v.status}: {v.reason}" for key, v in pool.run(jobs)}


@pytest.mark.parametrize("cases", [SET_EQ, ALTERNATIVE, NOT_NONE], ids=["set_eq", "alternative", "not_none"])
def test_special_oracles_accept_and_reject_as_evalplus(bench: Benchmark, cases: dict) -> None:
    verdicts = _verdicts(bench, cases)
    assert len(verdicts) == sum(len(g) + len(b) for g, b in cases.values())
    assert {k: v for k, v in verdicts.items() if k[1] and not v.startswith("passed")} == {}
    assert [k for k, v in verdicts.items() if not k[1] and v.startswith("passed")] == []


def test_without_the_rules_the_accepted_samples_fail(bench: Benchmark) -> None:
    """The samples above need the rules: plain equality with the reference rejects them."""
    plain = replace(bench, problems={tid: replace(bench.problems[tid], test=replace(
        bench.problems[tid].plus, oracle="", alternative="").test()) for tid in [*SET_EQ, *ALTERNATIVE]})
    cases = {tid: (good, []) for tid, (good, _) in {**SET_EQ, **ALTERNATIVE}.items()}
    assert not any(v.startswith("passed") for v in _verdicts(plain, cases).values())


def test_canonical_solutions_of_the_touched_tasks_pass(bench: Benchmark) -> None:
    with SandboxPool(limits=LIMITS) as pool:
        verdicts = dict(pool.run((tid, bench.canonical_program(p)) for tid, p in bench.problems.items()))
    assert {tid: f"{v.status}: {v.reason}" for tid, v in verdicts.items() if not v.passed} == {}


def test_tasks_outside_v0_2_0_have_no_rules(shared_data: Path) -> None:
    """EvalPlus's Mbpp/164, 249 and 295 oracles name tasks MBPP+ v0.2.0 does not hold."""
    from editseq.benchmarks.mbpp import PLUS_ALTERNATIVES, PLUS_ORACLES

    tasks = set(load_benchmark("mbpp+", shared_data).problems)
    assert {f"Mbpp/{n}" for n in [*PLUS_ORACLES, *PLUS_ALTERNATIVES]} <= tasks
    assert not {"Mbpp/164", "Mbpp/249", "Mbpp/295"} & tasks


def test_mbpp_prompts_are_the_bigcode_harness_prompts(tmp_path: Path, shared_data: Path) -> None:
    """bigcode-evaluation-harness (bigcode_eval/tasks/mbpp.py, get_prompt) writes the task text and
    its first test unstripped. Stripped here, the prompts of the 15 tasks whose first test ends in a
    space differed from it, and the harness's generations of those tasks matched no prompt."""
    rows = [json.loads(line) for line in (shared_data / "mbpp" / "mbpp.jsonl").read_text().splitlines()]
    harness = {str(r["task_id"]): f'"""\n{r["text"]}\n{r["test_list"][0]}\n"""\n'
               for r in rows if r["task_id"] in TEST_SPLIT}
    bench = load_benchmark("mbpp", shared_data)
    assert {tid: p.prompt for tid, p in bench.problems.items()} == harness
    generations = tmp_path / "generations_mbpp.json"
    generations.write_text(json.dumps([[harness["96"] + "def divisor(n):\n    return 0\n"]]))
    assert [s.task_id for s in read_samples(generations, bench)] == ["96"]


def test_mbpp_plus_prompts_are_evalplus_prompts(shared_data: Path) -> None:
    """EvalPlus prompts a base model with the prompt as shipped (evalplus/codegen.py: its
    ``strip() + "\\n"`` leaves it as it is) and appends a completion to it (evalplus/evaluate.py);
    a newline added here ended every prompt in a blank line the model had to continue from."""
    with gzip.open(shared_data / "mbppplus" / "MbppPlus.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = {r["task_id"]: r for r in map(json.loads, fh)}
    bench = load_benchmark("mbpp+", shared_data)
    assert {tid: p.prompt for tid, p in bench.problems.items()} == {
        tid: r["prompt"].strip() + "\n" for tid, r in rows.items()}
    completion = "def similar_elements(a, b):\n    return set(a) & set(b)\n"
    assert candidate_code(bench.problems["Mbpp/2"], completion) == rows["Mbpp/2"]["prompt"] + completion
