"""MBPP (Austin et al. 2021; full and sanitized) and MBPP+ (EvalPlus v0.2.0).

The test split is task_ids 11-510 (the google-research README's evaluation range, also the Hugging
Face ``test`` split). A completion is appended to a docstring prompt holding the task text and
its first test (bigcode-evaluation-harness's prompt, after InCoder; MBPP+ ships the same format);
a ``solution`` is used as is. A completion is
thus a whole program (imports, comments, helpers): it ends at ``MBPP_STOPS``, not at a ``def``.
"""

from __future__ import annotations

import ast
import gzip
import json
import warnings
from pathlib import Path

from editseq.benchmarks import MBPP_STOPS, Benchmark, Problem, locate
from editseq.benchmarks.plus import PlusSpec

_GR = "https://github.com/google-research/google-research/raw/30adf0ec5f35f9609c2f1d896005e184195d9146/mbpp/"
MBPP_URL = _GR + "mbpp.jsonl"
SANITIZED_URL = _GR + "sanitized-mbpp.json"
MBPP_PLUS_URL = "https://github.com/evalplus/mbppplus_release/raw/v0.2.0/MbppPlus.jsonl.gz"
TEST_SPLIT = range(11, 511)
LICENSE = "CC-BY-4.0 (Google)"

# EvalPlus's special oracles for MBPP+ (evalplus/eval/_special_oracle.py, keyed there on entry
# points; its Mbpp/164, 249 and 295 are not in v0.2.0). set_eq: the outputs are lists of a set's
# items (common elements, the n largest, a symmetric difference) in whatever order. not_none: the
# references return re.Match objects, which never compare equal.
PLUS_ORACLES = {2: "set_eq", 7: "set_eq", 111: "set_eq", 140: "set_eq", 232: "set_eq", 579: "set_eq",
                769: "set_eq", 737: "not_none", 787: "not_none", 794: "not_none"}
# Another reading of the task, also accepted (see plus.PlusSpec.alternative)
PLUS_ALTERNATIVES = {
    # "height" read as the pyramid's perpendicular height, not the slant height; rounded
    581: """import math


def alternative(base_edge, height):
    slant = math.sqrt((base_edge / 2) ** 2 + height ** 2)
    return round(base_edge ** 2 + 4 * (base_edge * slant) / 2)
""",
    # the shorter number padded with leading zeros, rather than the longer one cut short
    558: """def alternative(n1, n2):
    a, b = str(n1), str(n2)
    width = max(len(a), len(b))
    return sum(abs(int(x) - int(y)) for x, y in zip(a.zfill(width), b.zfill(width)))
""",
}
# How EvalPlus turns each MBPP+ task's JSON inputs back into Python values (see plus.restore).
_RESTORE_GROUPS = {
    "args": (2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616,
             630, 726, 740, 744, 809),
    "args_items": (63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780),
    "first_items": (75, 413, 444, 753),
    "second": (106, 750),
    "first_sets": (115,),
    "float_complex": (124,),
    "first": (250, 405, 446, 617, 720, 763, 808, 307),
    "args_items_then_args": (259, 401, 445),
    "first_items_then_args": (278,),
    "dict_values": (722,),
    "complex": (252,),
    "deep": (580, 615, 791),
}
RESTORE = {task: rule for rule, tasks in _RESTORE_GROUPS.items() for task in tasks}


def _entry_point(code: str, tests: list[str]) -> str:
    """The function (or class) the tests call that the reference solution defines: MBPP names
    none, and ``editseq evaluate --sanitize`` keeps what it needs."""
    with warnings.catch_warnings():  # the solutions' regexes in plain strings ("\d"): not ours to warn about
        warnings.simplefilter("ignore")
        defined = {n.name for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        called = [n.func.id for test in tests for n in ast.walk(ast.parse(test))
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    return next((name for name in called if name in defined), "")


def _docstring_prompt(text: str, first_test: str) -> str:
    """bigcode-evaluation-harness's MBPP prompt, byte for byte (its text and test unstripped: 15
    first tests of the test split end in a space), so its saved generations, which start with
    it, are found by their prompt (``evaluate.samples.harness_records``)."""
    return f'"""\n{text}\n{first_test}\n"""\n'


def load_mbpp(data: Path | None = None, split: range | None = TEST_SPLIT) -> Benchmark:
    """Full MBPP (974 tasks; ``split=None`` keeps all): tests are ``test_setup_code`` + ``test_list``.

    bigcode-evaluation-harness runs ``test_list`` alone: task 367, whose asserts use the trees its
    setup code builds, fails every sample there and can pass here (at most 0.2 points of pass@k)."""
    path = locate("mbpp/mbpp.jsonl", MBPP_URL, data)
    bench = Benchmark("mbpp", "google-research@30adf0e", LICENSE, MBPP_URL, path,
                      completion_stops=MBPP_STOPS)
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if split is not None and r["task_id"] not in split:
                continue
            test = r["test_setup_code"] + "\n" + "\n".join(r["test_list"]) + "\n"
            bench.problems[str(r["task_id"])] = Problem(
                str(r["task_id"]), _docstring_prompt(r["text"], r["test_list"][0]),
                _entry_point(r["code"], r["test_list"]), r["code"], test)
    return bench


def load_mbpp_sanitized(data: Path | None = None, split: range | None = TEST_SPLIT) -> Benchmark:
    """Sanitized MBPP (427 tasks, 257 in the test split): tests are ``test_imports`` + ``test_list``."""
    path = locate("mbpp/sanitized-mbpp.json", SANITIZED_URL, data)
    bench = Benchmark("mbpp-sanitized", "google-research@30adf0e", LICENSE, SANITIZED_URL, path,
                      completion_stops=MBPP_STOPS)
    for r in json.loads(path.read_text(encoding="utf-8")):
        if split is not None and r["task_id"] not in split:
            continue
        test = "\n".join(r["test_imports"]) + "\n" + "\n".join(r["test_list"]) + "\n"
        bench.problems[str(r["task_id"])] = Problem(
            str(r["task_id"]), _docstring_prompt(r["prompt"], r["test_list"][0]),
            _entry_point(r["code"], r["test_list"]), r["code"], test)
    return bench


def load_mbpp_plus(data: Path | None = None) -> Benchmark:
    """MBPP+ v0.2.0 (378 tasks, ids ``Mbpp/N``): differential tests against the canonical solution
    on base and plus inputs together (EvalPlus's plus score; its base score is not ``load_mbpp``'s)."""
    path = locate("mbppplus/MbppPlus.jsonl.gz", MBPP_PLUS_URL, data)
    bench = Benchmark("mbpp+", "v0.2.0", "Apache-2.0 (EvalPlus); MBPP CC-BY-4.0", MBPP_PLUS_URL, path,
                      memory_mb=4096, scaled_timeouts=True, completion_stops=MBPP_STOPS)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            number = int(r["task_id"].split("/")[-1])
            plus = r["plus_input"] if isinstance(r["plus_input"], list) else []  # Mbpp/793 has {}
            spec = PlusSpec(r["entry_point"], r["canonical_solution"], r["base_input"] + plus,
                            r["atol"], oracle=PLUS_ORACLES.get(number, ""), restore=RESTORE.get(number, ""),
                            alternative=PLUS_ALTERNATIVES.get(number, ""))
            # the prompt as shipped: EvalPlus's direct-completion prompt (evalplus/codegen.py)
            bench.problems[r["task_id"]] = Problem(r["task_id"], r["prompt"], r["entry_point"],
                                                   r["canonical_solution"], spec.test(), spec)
    return bench
