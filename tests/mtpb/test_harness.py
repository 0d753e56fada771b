"""The print rewrite, the comparison and execution in the real sandbox, on hand-worked examples."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from editseq.mtpb import harness
from editseq.mtpb.harness import equivalent, rewrite_with_print
from editseq.mtpb.run import LIMITS, outcome
from editseq.sandbox import SandboxPool


def test_rewrite_last_statement() -> None:
    assert rewrite_with_print("def f(a):\n    return a ** 2\nf(2)") == \
        "def f(a):\n    return a ** 2\nprint(f(2))"
    assert rewrite_with_print("x = 1\ny = x + 1") == "x = 1\ny = print(x + 1)"  # assignment
    assert rewrite_with_print("x = 1  # c\nx") == "x = 1\nprint(x)"  # bare expression, unparsed
    assert rewrite_with_print("x += 2") == "x += print(2)"
    kept = ["print(1)", "x = print_result(3)", "for i in range(3):\n    pass", "import os",
            "def f():\n    pass", "x: int", "x = (", ""]
    for source in kept:
        assert rewrite_with_print(source) == source
    assert rewrite_with_print("obj.print(1)") == "print(obj.print(1))"  # not a name starting with print


def test_comparison_rules() -> None:
    assert equivalent(np.int64(3), 3) and equivalent(np.float32(0.5), 0.5) and equivalent(np.bool_(True), True)
    assert equivalent(np.array([1, 2]), [1, 2])
    assert equivalent(pd.Series([1.0, 2.0000000001]), [1, 2])  # allclose
    assert not equivalent(pd.Series([1.0, 2.1]), [1, 2])
    assert equivalent([(1, 2), (3, 4)], [[1, 2], [3, 4]])  # list of tuples -> list of lists
    assert equivalent("True", True) and equivalent(True, True) and not equivalent(1, True)  # str space
    assert equivalent(3.0, 3) and equivalent("7980", 7980)  # coerced to the expected type
    assert equivalent(3.0000009, 3.0) and not equivalent(3.000002, 3.0)  # 1e-6 tolerance
    assert equivalent("abc", ["a", "b", "c"])  # list("abc")
    assert not equivalent([1, 2], [2, 1])
    with pytest.raises(ValueError):
        equivalent("x", 3)  # int("x"): coercion failure is a failed match
    with pytest.raises(ValueError, match="unsupported type NoneType"):
        equivalent(None, None)
    with pytest.raises(ValueError, match="unsupported type dict"):
        equivalent({"a": [1]}, {"a": [1]})


def test_fixed_comparison_accepts_none_and_dicts() -> None:
    assert equivalent(None, None, fixed=True) and equivalent("None", None, fixed=True)
    assert not equivalent(2, None, fixed=True)
    assert equivalent({"1": ["a"]}, {"1": ["a"]}, fixed=True)
    assert not equivalent({"1": ["b"]}, {"1": ["a"]}, fixed=True)


@pytest.fixture(scope="module")
def pool() -> Iterator[SandboxPool]:
    with SandboxPool(2, LIMITS, harness.PRELOAD) as p:  # as mtpb evaluate runs them
        yield p


def _run(pool: SandboxPool, source: str, expected: object, **kw: object) -> tuple[str, str]:
    o = outcome(pool.run_one(harness.program_for("import numpy as np\n" + source, expected, **kw)))
    return o.status, o.reason


@pytest.mark.parametrize(("source", "expected", "status"), [
    ("x = 2\ny = x * 3", 6, "passed"),  # last turn an assignment
    ("x = 2\nx * 3", 6, "passed"),  # last turn a bare expression
    ("print(np.int64(5))", 5, "passed"),
    ("import pandas as pd\npd.Series([1, 2, 3]).cumsum()", [1, 3, 6], "passed"),
    ("[(1, 'a'), (2, 'b')]", [[1, "a"], [2, "b"]], "passed"),
    ("print('True')", True, "passed"),
    ("print(6.0)", 6, "passed"),
    ("print(6)\nraise ValueError('after the print')", 6, "passed"),
    ("print(6)\nimport sys\nsys.exit(3)", 6, "passed"),
    ("print(5)", 6, "failed"),
    ("print(5)\nprint(6)", 6, "passed"),  # the last print is judged
    ("print(6)\nprint(5)", 6, "failed"),
    ("if __name__ == '__main__':\n    print(6)", 6, "passed"),  # histories run as __main__
    ("for i in range(2):\n    pass", 6, "failed"),  # nothing printed
    ("print()", 6, "failed"),
    ("undefined_name", 6, "error"),
    ("print(str([np.int64(1), np.float64(0.5)]))", "[1, 0.5]", "passed"),  # numpy-1 printing
    # annotations are evaluated (no postponed annotations leaking from the harness module)
    ("def f(x: int):\n    return x\nprint(f.__annotations__['x'] is int)", True, "passed"),
    ("def f(x: undefined_name):\n    return x\nf(6)", 6, "error"),
])
def test_execution(pool: SandboxPool, source: str, expected: object, status: str) -> None:
    got, reason = _run(pool, source, expected)
    assert got == status, reason


def test_failure_reasons_and_timeout(pool: SandboxPool) -> None:
    assert _run(pool, "print(5)", 6) == ("failed", "expected 6, got 5")
    assert _run(pool, "undefined_name", 6)[1] == "NameError: name 'undefined_name' is not defined"
    assert _run(pool, "while True:\n    pass", 6, timeout=0.5) == ("timeout", "timed out after 0.5 CPU-s")
    assert _run(pool, "print(6)\nwhile True:\n    pass", 6, timeout=0.5)[0] == "passed"
    # the limit is CPU time, so waiting (or a loaded machine) does not use it up...
    assert _run(pool, "import time\ntime.sleep(1.5)\nprint(6)", 6, timeout=1.0)[0] == "passed"


def test_waiting_runs_stop_after_twice_their_time_and_are_judged_on_their_prints(pool: SandboxPool) -> None:
    """...but a run that waits for good stops after twice as long in wall-clock time, judged on what
    it printed, as the reference judges it at its 20 s; a failure there may be the machine's load."""
    from editseq.mtpb.run import load_dependent

    wait = "import time\ntime.sleep(30)\n"
    assert _run(pool, "print(6)\n" + wait, 6, timeout=0.5)[0] == "passed"
    assert _run(pool, wait, 6, timeout=0.5) == ("timeout", "timed out after 1 s of wall-clock time")
    program = harness.program_for("print(5)\n" + wait, 6, timeout=0.5)
    failed = pool.run_one(program)
    assert failed.status == "failed"
    assert failed.reason.endswith("expected 6, got 5 (stopped: timed out after 1 s of wall-clock time)")
    assert load_dependent(failed) and not load_dependent(pool.run_one(harness.program_for("print(5)", 6)))
    assert not load_dependent(pool.run_one(harness.program_for("while True:\n    pass", 6, timeout=0.5)))


def test_seeded_randomness(pool: SandboxPool) -> None:
    source = "import random\nprint(random.random() + np.random.rand())"
    import random

    random.seed(0)
    np.random.seed(0)
    expected = random.random() + float(np.random.rand())
    assert _run(pool, source, expected, seed=True)[0] == "passed"


def test_unseeded_runs_draw_fresh_numbers(pool: SandboxPool) -> None:
    """numpy is preloaded in the workers, so without a reseed every run would inherit one state."""
    source = "import random\nprint([random.randrange(10**9), int(np.random.randint(10**9))])"
    drawn = {_run(pool, source, [0, 0])[1] for _ in range(4)}
    assert len(drawn) == 4, drawn  # "expected [0, 0], got [...]": a new pair each run
    # numpy's alone: Python's random reseeds itself in every forked sample, numpy's does not
    numpy_only = {_run(pool, "print(int(np.random.randint(10**9)))", 0)[1] for _ in range(4)}
    assert len(numpy_only) == 4, numpy_only
    seeded = {_run(pool, source, [0, 0], seed=True)[1] for _ in range(2)}
    assert len(seeded) == 1
