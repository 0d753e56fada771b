"""The EvalPlus-style differential test tells right from wrong: plus inputs, copies, types,
tolerances, restored inputs and task oracles, in the real sandbox."""

from __future__ import annotations

import ast
import gzip
import json
import warnings
from pathlib import Path

import pytest

from editseq.benchmarks import Problem, load_benchmark
from editseq.benchmarks.plus import PlusSpec, read_recording
from editseq.sandbox import Limits, SandboxPool

# the tested function stays right for its first N top-level calls (the base inputs), then answers
# something no reference returns; nested (recursive) calls always get the right function
RIGHT_ON_BASE_ONLY = '''

_editseq_right, _editseq_calls, _editseq_depth = {entry}, [0], [0]


def {entry}(*args, **kwargs):
    _editseq_depth[0] += 1
    try:
        _editseq_calls[0] += _editseq_depth[0] == 1
        if _editseq_depth[0] > 1 or _editseq_calls[0] <= {n}:
            return _editseq_right(*args, **kwargs)
        return object()
    finally:
        _editseq_depth[0] -= 1
'''
PLUS_FILES = {"humaneval+": "humanevalplus/HumanEvalPlus.jsonl.gz", "mbpp+": "mbppplus/MbppPlus.jsonl.gz"}


def _returns_none(p: Problem) -> str:
    """The canonical solution with every function its test calls redefined to return None."""
    with warnings.catch_warnings():  # MBPP's solutions hold invalid escapes like "\w"
        warnings.simplefilter("ignore", DeprecationWarning)
        tree = ast.parse(p.canonical_solution)
    tested = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)
              and (n.name == p.entry_point or f"{n.name}(" in p.test)]
    assert tested, p.task_id
    return p.canonical_solution + "".join(f"\n\ndef {n}(*args, **kwargs):\n    return None\n" for n in tested)


@pytest.mark.parametrize("name", ["humaneval", "humaneval+", "mbpp", "mbpp-sanitized", "mbpp+"])
def test_a_wrong_solution_fails_every_task(name: str, shared_data: Path) -> None:
    bench = load_benchmark(name, shared_data)
    jobs = [(tid, bench.program(p, solution=_returns_none(p))) for tid, p in bench.problems.items()]
    with SandboxPool(limits=Limits(timeout=20, memory_mb=max(2048, bench.memory_mb))) as pool:
        verdicts = dict(pool.run(jobs))
    assert len(verdicts) == len(bench.problems)
    assert [tid for tid, v in verdicts.items() if v.passed] == []


@pytest.mark.parametrize("name", ["humaneval+", "mbpp+"])
def test_right_on_base_inputs_only_fails_at_the_first_plus_input(name: str, shared_data: Path) -> None:
    with gzip.open(shared_data / PLUS_FILES[name], "rt", encoding="utf-8") as fh:
        base = {r["task_id"]: len(r["base_input"]) for r in map(json.loads, fh)
                if isinstance(r["plus_input"], list) and r["plus_input"]}
    bench = load_benchmark(name, shared_data)
    jobs = [(tid, bench.program(p, solution=p.canonical_solution + RIGHT_ON_BASE_ONLY.format(entry=p.entry_point, n=base[tid])))
            for tid, p in bench.problems.items() if tid in base]
    with SandboxPool(limits=Limits(timeout=60, memory_mb=bench.memory_mb)) as pool:
        verdicts = dict(pool.run(jobs))
    assert len(verdicts) > 150 and not any(v.passed for v in verdicts.values())
    # the first plus input is where each fails; HumanEval/32's root oracle cannot even evaluate it
    elsewhere = {tid: v.reason for tid, v in verdicts.items() if not v.reason.startswith(f"AssertionError: input {base[tid]}:")}
    assert set(elsewhere) <= {"HumanEval/32"}, elsewhere


def _record(spec: PlusSpec, max_bytes: int | None = None) -> tuple[str, str | None]:
    """(status, recorded outputs) of the spec's recording program in the sandbox."""
    program = spec.recording_program() if max_bytes is None else spec.recording_program(max_bytes)
    with SandboxPool(1, Limits(timeout=10, output_bytes=1 << 21)) as pool:
        v = pool.run_one(program)
    return v.status, read_recording(v.output)


@pytest.fixture(params=["reference beside", "recorded outputs"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


def _judge(mode: str, candidate: str, reference: str, inputs: list, atol: float = 0.0,
           **rules: str) -> tuple[str, str]:
    """A candidate's verdict, with the reference run in the sample or recorded first, as ``evaluate`` does."""
    spec = PlusSpec("f", reference, inputs, atol, **rules)
    expected = None
    if mode == "recorded outputs":
        status, expected = _record(spec)
        assert status == "passed" and expected, "the recording ran and printed the outputs"
    with SandboxPool(1, Limits(timeout=10)) as pool:
        v = pool.run_one(candidate + spec.test(expected))
    return v.status, v.reason


def test_the_candidate_gets_its_own_copy_of_each_input(mode: str) -> None:
    reference = "def f(xs):\n    xs.append(0)\n    return len(xs)\n"  # mutates what it is given
    assert _judge(mode, "def f(xs):\n    return len(xs) + 1\n", reference, [[[1, 2]], [[]]])[0] == "passed"


def test_types_and_tolerances(mode: str) -> None:
    reference = "def f(x):\n    return x / 3\n"
    assert _judge(mode, "def f(x):\n    return x / 3 + 1e-9\n", reference, [[1.0]], atol=1e-6)[0] == "passed"
    assert _judge(mode, "def f(x):\n    return x / 3 + 1e-3\n", reference, [[1.0]], atol=1e-6) == (
        "failed", "AssertionError: input 0: not within atol=1e-06")
    assert _judge(mode, "def f(x):\n    return str(x / 3)\n", reference, [[1.0]], atol=1e-6) == (
        "failed", "AssertionError: input 0: got str, expected float")
    # float results with atol 0 still get 1e-6: 0.1 + 0.2 is 0.3 here
    assert _judge(mode, "def f(x):\n    return 0.1 + 0.2\n", "def f(x):\n    return 0.3\n", [[0]])[0] == "passed"
    assert _judge(mode, "def f(x):\n    return [x, x]\n", "def f(x):\n    return [x, x, x]\n", [[1]]) == (
        "failed", "AssertionError: input 0: wrong output")


def test_restored_inputs_reach_both_functions_as_tuples(mode: str) -> None:
    code = "def f(a, b):\n    assert isinstance(a, tuple) and isinstance(b, tuple)\n    return a + b\n"
    assert _judge(mode, code, code, [[[1, 2], [3]]], restore="args")[0] == "passed"
    # JSON lists stay lists without the rule: the reference fails too, so nothing gets recorded
    assert _judge("reference beside", code, code, [[[1, 2], [3]]])[0] == "failed"
    assert _record(PlusSpec("f", code, [[[1, 2], [3]]], 0.0)) == ("failed", None)


def test_task_oracles(mode: str) -> None:
    matcher = "import re\n\ndef f(s):\n    return re.search('a', s)\n"
    inputs = [["cat"], ["dog"]]
    for right in ("return 'a' in s", "return re.search('a', s)", "return 1 if 'a' in s else None"):
        assert _judge(mode, f"import re\n\ndef f(s):\n    {right}\n", matcher, inputs, oracle="not_none")[0] == "passed"
    # as EvalPlus: a bool answers for itself, anything else by being None or not, so 0 and "" say "found"
    for wrong in ("return True", "return 1 if 'a' in s else 0", "return 'a' if 'a' in s else ''"):
        assert _judge(mode, f"def f(s):\n    {wrong}\n", matcher, inputs, oracle="not_none") == (
            "failed", "AssertionError: input 1: wrong output")
    largest = "def f(xs, n):\n    return sorted(xs, reverse=True)[:n]\n"
    inputs = [[[3, 1, 2, 3], 2], [[5, 4], 2]]
    for right in ("sorted(xs)[len(xs) - n:]", "set(sorted(xs)[len(xs) - n:])", "tuple(sorted(xs, reverse=True)[:n])"):
        assert _judge(mode, f"def f(xs, n):\n    return {right}\n", largest, inputs, oracle="set_eq")[0] == "passed"
    for wrong in ("sorted(xs)[:n]", "None", "[[x] for x in xs[:n]]"):  # set() cannot take the last two
        assert _judge(mode, f"def f(xs, n):\n    return {wrong}\n", largest, inputs, oracle="set_eq") == (
            "failed", "AssertionError: input 0: wrong output")
    assert _judge(mode, "def f(xs, n):\n    return [3, 3]\n", largest, inputs, oracle="set_eq")[0] == "failed"


def test_an_unknown_oracle_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown oracle 'truthy'; choose one of '', 'poly_root'"):
        PlusSpec("f", "def f():\n    return 1\n", [[]], 0.0, oracle="truthy")


def test_an_alternative_reading_is_accepted_too(mode: str) -> None:
    """Either the reference's or the alternative's output passes, each on any input; within atol."""
    floor, alternative = "def f(x):\n    return x // 2\n", "def alternative(x):\n    return -(-x // 2)\n"
    inputs = [[3], [5], [4]]
    for right in ("x // 2", "-(-x // 2)", "x // 2 if x < 4 else -(-x // 2)"):
        assert _judge(mode, f"def f(x):\n    return {right}\n", floor, inputs, alternative=alternative)[0] == "passed"
    assert _judge(mode, "def f(x):\n    return x / 2\n", floor, inputs, alternative=alternative) == (
        "failed", "AssertionError: input 0: wrong output")
    assert _judge(mode, "def f(x):\n    return -(-x // 2) + 0.1\n", floor, inputs, atol=0.5,
                  alternative=alternative)[0] == "passed"
    assert _judge(mode, "def f(x):\n    return str(x // 2)\n", floor, inputs, alternative=alternative)[0] == "failed"


def test_recorded_outputs_cannot_be_changed_by_the_candidate() -> None:
    """Beside the candidate, the reference sees what the candidate changed while running; a
    recording was made in a process of its own."""
    reference = "import math\n\ndef f(x):\n    return math.floor(x)\n"
    # right on input 0, where it also breaks math.floor; then agrees with the broken reference
    cheat = "import math\n\ndef f(x):\n    if x < 2:\n        math.floor = lambda v: 0\n        return 1\n    return 0\n"
    inputs = [[1.5], [7.5]]
    assert _judge("reference beside", cheat, reference, inputs)[0] == "passed"
    assert _judge("recorded outputs", cheat, reference, inputs) == ("failed", "AssertionError: input 1: wrong output")


def test_outputs_too_large_or_unpicklable_are_not_recorded() -> None:
    """Such tasks keep running the reference in every sample (``evaluate`` lists them)."""
    noise = "import random\n\ndef f(n):\n    return random.Random(n).randbytes(n)\n"  # incompressible
    big = PlusSpec("f", noise, [[10], [100_000]], 0.0)
    status, outputs = _record(big, max_bytes=50_000)
    assert (status, outputs) == ("passed", None)
    assert _record(big)[1], "under the default cap the same outputs are recorded"
    own_class = PlusSpec("f", "class P:\n    pass\n\ndef f():\n    return P()\n", [[]], 0.0)
    assert _record(own_class)[0] != "passed"  # pickle cannot find the reference's class
    assert _record(own_class)[1] is None


def test_a_name_bound_to_none_is_an_error(mode: str) -> None:
    """A decorator that forgets ``return wrapper`` leaves the entry point None: never a pass."""
    forgetful = "def memo(fn):\n    def wrapper(*a):\n        return fn(*a)\n\n@memo\ndef f(x):\n    return x\n"
    assert _judge(mode, forgetful, "def f(x):\n    return x\n", [[1], [2]]) == (
        "error", "TypeError: 'NoneType' object is not callable")


def test_each_input_has_evalplus_time_limit(mode: str) -> None:
    """max(1 s, 4x the reference's time) per input, in CPU time: slow but right passes, an endless
    loop fails at its input (even one inside ``except Exception``) rather than at the test's limit."""
    reference = "def f(x):\n    return x\n"
    slow = "import time\n\ndef f(x):\n    end = time.process_time() + 0.3\n    while time.process_time() < end:\n        pass\n    return x\n"
    assert _judge(mode, slow, reference, [[1], [2], [3]])[0] == "passed"  # 0.9 CPU-s in all
    limit = "over its time limit of 1.00 CPU-s (4x the reference's, at least 1 s)"
    endless = "def f(x):\n    while x == 2:\n        pass\n    return x\n"
    assert _judge(mode, endless, reference, [[1], [2], [3]]) == ("failed", f"AssertionError: input 1: {limit}")
    swallowing = "def f(x):\n    try:\n        while True:\n            pass\n    except Exception:\n        return x\n"
    assert _judge(mode, swallowing, reference, [[1]]) == ("failed", f"AssertionError: input 0: {limit}")
