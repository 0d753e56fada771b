"""Program normalization, the bit-parallel edit distance and the per-problem diversity numbers."""

from __future__ import annotations

import random

import pytest

from editseq.report.diversity import (
    levenshtein,
    normalize,
    problem_diversity,
    run_diversity,
    spearman,
)
from editseq.report.inputs import Attempt


def _dp(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[:], i
        for j, y in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y))
    return row[-1]


def test_levenshtein_matches_dynamic_programming() -> None:
    rng = random.Random(0)
    for _ in range(500):
        a = [rng.choice("abc") for _ in range(rng.randrange(0, 90))]
        b = [rng.choice("abc") for _ in range(rng.randrange(0, 90))]
        assert levenshtein(a, b) == _dp(a, b)


def test_normalize_ignores_layout_comments_docstrings_and_names() -> None:
    a = 'def f(xs):\n    """Sum."""\n    # total\n    total = 0\n    for x in xs:\n        total += x\n    return total\n'
    b = "def g(  items ):\n    acc=0\n    for it in items: acc += it\n    return acc\n"
    assert normalize(a) == normalize(b)
    assert normalize(a) != normalize(a.replace("total += x", "total -= x"))
    assert normalize("    n = len(s)\n    return n\n") == normalize("    k=len( s )  # body only\n    return k\n")
    assert normalize("    return len(s)\n") != normalize("    return sum(s)\n")  # builtins kept
    assert normalize("import numpy as np\nnp.sum(x)\n") == normalize("import numpy as xx\nxx.sum(x)\n")


def test_names_the_sample_does_not_bind_are_kept() -> None:
    """Was: every identifier was renamed by first appearance, so a HumanEval completion's use of
    its parameters (bound by the prompt) or of the prompt's modules lost its meaning: ``a - b`` and
    ``b - a`` were one program, and so were ``math.sqrt`` and ``numpy.sqrt``."""
    assert normalize("    return a - b\n") != normalize("    return b - a\n")
    assert normalize("    return math.sqrt(x)\n") != normalize("    return numpy.sqrt(x)\n")
    assert normalize("    for i in xs:\n        yield i\n") == normalize("    for j in xs:\n        yield j\n")


def test_a_keyword_is_renamed_with_the_parameter_it_names() -> None:
    """Was: keyword names were kept everywhere, so two samples whose recursive helper differed in
    one parameter's name, passed by keyword, were two programs (the parameter renamed, the keyword
    not). A keyword of a function the sample does not define is that function's API, kept."""
    helper = "def h(s, {0}=0):\n    return s[{0}:] and h(s, {0}={0} + 1)\n"
    assert normalize(helper.format("start")) == normalize(helper.format("begin"))
    assert normalize("k = len\nsorted(xs, key=k)\n") == normalize("key = len\nsorted(xs, key=key)\n")
    assert normalize("    return sorted(xs, key=len)\n") != normalize("    return sorted(xs, reverse=len)\n")
    assert "sorted(xs, key=" in normalize("def key(x):\n    return sorted(xs, key=x)\n")  # not the sample's own


def test_a_method_is_renamed_with_its_calls_on_the_receiver() -> None:
    """Was: a method's ``def`` name was renamed but ``self.step(...)`` kept it (an attribute), and
    its keywords too, so two samples whose class differed in one method's name were two programs,
    and the form of one no longer said which method a call reached."""
    cls = ("class S:\n    def {0}(self, {1}=0):\n        return {1}\n"
           "    def run(self, other):\n        return self.{0}({1}=1) + other.step()\n")
    assert normalize(cls.format("step", "start")) == normalize(cls.format("advance", "begin"))
    form = normalize(cls.format("advance", "begin"))
    assert form.count("advance") == 0 and ".step()" in form  # other.step(): another object's, kept
    assert "make" not in normalize("class S:\n    @classmethod\n    def make(cls):\n        return cls.make()\n")
    assert normalize("    return xs.copy()\n") != normalize("    return xs.clone()\n")


def test_special_methods_keep_their_names() -> None:
    """Was: ``__lt__`` and ``__gt__`` were renamed as any method is, so two classes that differ in
    which comparison they define (what the class does) counted as one program."""
    cls = "class K:\n    def __init__(self, v):\n        self.v = v\n    def {0}(self, o):\n        return self.v < o.v\n"
    assert normalize(cls.format("__lt__")) != normalize(cls.format("__gt__"))
    assert "def __init__(v1, v2)" in normalize(cls.format("__lt__"))  # v0: the class
    assert normalize(cls.format("smaller")) == normalize(cls.format("less"))


def test_unparsable_text_falls_back_to_collapsed_whitespace() -> None:
    assert normalize("    return (a +\n") == normalize("    return   (a +  # x\n")


def test_problem_diversity_counts() -> None:
    forms = ["a", "a", "b c", "d"]
    got = problem_diversity(forms, [True, True, False, True])
    assert (got["samples"], got["distinct"], got["distinct_passing"]) == (4, 3, 2)
    assert got["distinct_fraction"] == 0.75
    # 6 pairs: one identical (0), the rest share nothing (1)
    assert abs(got["mean_edit_distance"] - 5 / 6) < 1e-9


def test_one_sample_has_no_diversity() -> None:
    """Was: distinct fraction 1.0 ("all distinct") beside mean edit distance 0.0 ("all alike")."""
    got = problem_diversity(["a"], [True])
    assert (got["distinct_fraction"], got["mean_edit_distance"], got["distinct_passing"]) == (None, None, 1)


def test_problems_are_in_id_order_as_in_the_other_tables() -> None:
    """Was: text order (HumanEval/0, /1, /10, /100, ..., /2) in diversity.csv and report.json,
    beside the per-problem table's id order."""
    attempts = [Attempt(f"HumanEval/{i}", True, "passed", program=f"x = {j}") for i in (10, 2, 100, 0) for j in (1, 2)]
    assert list(run_diversity(attempts)) == ["HumanEval/0", "HumanEval/2", "HumanEval/10", "HumanEval/100"]


def test_pairs_are_capped() -> None:
    """Pairs are 0 (same form) or 1 apart: a mean over 10 sampled pairs is a multiple of 1/10,
    while the mean over all 4950 pairs is 99/4950 = 0.02."""
    forms = ["a"] * 99 + ["b"]
    full = problem_diversity(forms, [False] * 100, max_pairs=5000)["mean_edit_distance"]
    assert abs(full - 0.02) < 1e-12
    for seed in range(20):
        capped = problem_diversity(forms, [False] * 100, max_pairs=10, seed=seed)["mean_edit_distance"]
        assert abs(capped * 10 - round(capped * 10)) < 1e-9


def test_spearman() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 45]) == 1.0
    assert abs(spearman([1, 2, 3], [3, 2, 1]) + 1.0) < 1e-12
    assert spearman([1, 2], [1, 2]) is None
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_resolved_edit_sequences_count_as_their_programs(tmp_path, shared_data) -> None:
    """``evaluate --resolve-edits`` keeps the model's edit sequence as the sample's text and the
    program it resolves to in ``program``. Diversity was measured on the edit sequences, so two
    orders of writing one program counted as two distinct programs."""
    import json

    from editseq.cli import main
    from editseq.lintseq.diffs import DIFF_TOKEN, edit_path_from_steps
    from editseq.report.diversity import run_diversity
    from editseq.report.inputs import load_run

    lines = ["def truncate_number(number: float) -> float:", "    whole = int(number)", "    return number - whole"]
    orders = ([[0], [1], [2]], [[0, 2], [1]], [[0, 1, 2]])
    rows = [{"task_id": "HumanEval/2", "sample": i, "solution": f"\n{DIFF_TOKEN}".join(edit_path_from_steps(lines, steps))}
            for i, steps in enumerate(orders)]
    samples = tmp_path / "e.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.warns(UserWarning, match="163 of 164 humaneval tasks have no samples"):
        assert main(["evaluate", str(samples), "--data", str(shared_data), "--resolve-edits", "--k", "1",
                     "--workers", "1", "--no-cache", "--no-progress"]) == 0
    [row] = run_diversity(load_run(tmp_path / "e_results.jsonl").attempts).values()
    assert (row["samples"], row["distinct"], row["distinct_passing"], row["mean_edit_distance"]) == (3, 1, 1, 0.0)
