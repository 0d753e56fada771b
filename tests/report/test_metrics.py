"""pass@k curves (through the one estimator), solve rates, run differences, MTPB categories."""

from __future__ import annotations

from pathlib import Path

import pytest

from editseq.evaluate.passk import bootstrap_ci, bootstrap_mean, mean_pass_at_k, pass_at_k
from editseq.report import metrics
from editseq.report.inputs import Attempt, Run


def _run(label: str, rows: list[tuple[str, bool]], tokens: int | None = None) -> Run:
    return Run(label, Path(f"{label}.jsonl"), "results",
               [Attempt(t, ok, "passed" if ok else "failed", tokens=tokens) for t, ok in rows])


def test_curve_ks_cover_one_to_n_on_a_log_grid() -> None:
    assert metrics.curve_ks(5) == [1, 2, 3, 4, 5]
    ks = metrics.curve_ks(200)
    assert ks[:10] == list(range(1, 11)) and ks[-1] == 200 and 100 in ks and len(ks) < 40
    for n in range(1, 400):  # the table's k are read off the curve
        assert {k for k in metrics.TABLE_KS if k <= n} <= set(metrics.curve_ks(n)), n


def test_curve_uses_the_one_estimator_and_tokens() -> None:
    run = _run("a", [("t1", True), ("t1", False), ("t1", False), ("t2", False), ("t2", False), ("t2", True)],
               tokens=10)
    curve = metrics.passk_curve(run.attempts)
    assert curve["k"] == [1, 2, 3]
    assert curve["pass@k"] == [mean_pass_at_k([(3, 1), (3, 1)], k) for k in (1, 2, 3)]
    assert curve["tokens"] == [20, 40, 60]  # 2 problems x 10 tokens x k
    assert curve["ci95"] == [bootstrap_ci([(3, 1), (3, 1)], k) for k in (1, 2, 3)]
    alone = metrics.passk_curve(_run("b", [("t", True)]).attempts)
    assert alone["tokens"] is None and alone["ci95"] == [None]  # one problem: no interval to show


def test_solve_rates_and_differences() -> None:
    a = _run("a", [("HumanEval/10", True), ("HumanEval/2", False)])
    b = _run("b", [("HumanEval/10", False), ("HumanEval/2", False), ("HumanEval/3", True)])
    rates = metrics.solve_rates([a, b])
    assert list(rates) == ["HumanEval/2", "HumanEval/3", "HumanEval/10"]
    assert rates["HumanEval/3"] == {"b": 1.0}
    samples = metrics.sample_counts([a, b])
    assert samples["HumanEval/10"] == {"a": 1, "b": 1}
    diffs = {(d["solved_by"], d["not_by"]): (d["problems"], d["fewer_samples"])
             for d in metrics.solved_differences(rates, samples, {"a": "humaneval", "b": "humaneval"})}
    assert diffs == {("a", "b"): (["HumanEval/10"], {}), ("b", "a"): ([], {})}
    # HumanEval and HumanEval+ runs share task ids, not tests: "solved on one, never on the other"
    # compared the benchmarks' tests, not the runs
    assert metrics.solved_differences(rates, samples, {"a": "humaneval", "b": "humaneval+"}) == []


def test_mtpb_categories_split_modes() -> None:
    run = Run("m", Path("m.jsonl"), "mtpb", [
        Attempt("1", True, "passed", case="0", mode="multi", category="math"),
        Attempt("1", False, "failed", case="1", mode="multi", category="math"),
        Attempt("1", False, "failed", case="0", mode="single", category="math")])
    assert metrics.mtpb_categories(run) == {"math": {"multi": {"pass_rate": 0.5, "n": 2},
                                                     "single": {"pass_rate": 0.0, "n": 1}}}
    assert run.attempts[0].unit == "1#0"  # the single-turn run of case 0 pairs with it


def test_mtpb_categories_average_over_problems_as_the_summary_does() -> None:
    """Was: runs were pooled per category, so a problem with more runs weighed more and the report
    disagreed with ``mtpb evaluate``'s summary (mean of per-problem pass rates): 3/4 here, not 2/3."""
    run = Run("m", Path("m.jsonl"), "mtpb", [
        Attempt("1", True, "passed", case="0", mode="multi", category="math"),
        Attempt("1", True, "passed", case="1", mode="multi", category="math"),
        Attempt("2", True, "passed", case="0", mode="multi", category="math"),
        Attempt("2", False, "failed", case="1", mode="multi", category="math"),
        Attempt("2", False, "failed", case="2", mode="multi", category="math"),
        Attempt("2", True, "passed", case="3", mode="multi", category="math")])
    assert metrics.mtpb_categories(run) == {"math": {"multi": {"pass_rate": 0.75, "n": 6}}}


def test_per_task_gain() -> None:
    gain = metrics.per_task_gain(_run("a", [("t", True), ("t", False), ("t", False), ("t", False)]).attempts)
    assert gain["t"]["pass@1"] == 0.25 and gain["t"]["pass@n"] == 1.0 and gain["t"]["gain"] == 0.75


def test_paired_differences_cover_shared_problems_of_runs_of_one_kind() -> None:
    a = _run("a", [("t1", True), ("t1", True), ("t2", False), ("t2", True), ("t3", True), ("t3", True)])
    b = _run("b", [("t1", False), ("t1", True), ("t2", False), ("t2", False), ("t4", True), ("t4", True)])
    c = _run("c", [("t1", True), ("t1", True), ("t2", True), ("t2", True)])
    c.kind = "mtpb"  # another kind: never compared with results runs
    lone = _run("lone", [("t9", True), ("t9", False)])  # nothing shared with the others
    (d,) = metrics.paired_differences([(r.label, r.kind, r.attempts) for r in (a, b, c, lone)])
    assert (d["a"], d["b"], d["problems"]) == ("a", "b", 2)  # t1 and t2 only
    shared_a, shared_b = [(2, 2), (2, 1)], [(2, 1), (2, 0)]
    assert list(d["pass@k"]) == ["pass@1"]  # k <= 2 samples: of the usual 1, 10, 100 only 1
    cell = d["pass@k"]["pass@1"]
    assert cell["difference"] == mean_pass_at_k(shared_a, 1) - mean_pass_at_k(shared_b, 1) == 0.5
    assert cell["ci95"] == bootstrap_mean([pass_at_k(*x, 1) - pass_at_k(*y, 1) for x, y in zip(shared_a, shared_b, strict=True)])


def _mtpb(mode: str, rows: list[tuple[str, int, bool]]) -> list[Attempt]:
    return [Attempt(pid, ok, "passed" if ok else "failed", case=str(case), mode=mode, category="math")
            for pid, case, ok in rows]


def test_mtpb_pass_at_1_is_the_summary_pass_rate_and_problems_are_resampled() -> None:
    """Was: every (problem, case) counted as a problem of its own, so a problem with 5 cases
    weighed 5 times one with a single case (pass@1 5/6 here, where ``mtpb evaluate``'s summary says
    (1 + 0) / 2), and the bootstrap resampled cases, not problems (the table said 6 problems)."""
    attempts = _mtpb("multi", [("1", c, True) for c in range(5)] + [("2", 0, False)])
    curve = metrics.passk_curve(attempts)
    assert (curve["pass@k"], curve["problems"], curve["n_min"]) == ([0.5], 2, 1)
    assert curve["ci95"] == [bootstrap_ci([(1, 1), (1, 0)], 1)] == [[0.0, 1.0]]
    # a problem's cases weigh by their runs: its pass@1 is passing runs / runs, as in the summary
    uneven = _mtpb("multi", [("1", 0, True), ("1", 0, True), ("1", 0, False), ("1", 1, False)])
    assert metrics.passk_table(metrics.passk_curve(uneven))["pass@1"]["value"] == pytest.approx(2 / 4)
    assert metrics.passk_curve(uneven)["pass@k"] == [pytest.approx(0.5)]


def test_mtpb_multi_and_single_turn_are_paired_by_case() -> None:
    """Was: the mode was part of the pairing unit, so the multi- vs single-turn difference the
    README promises was never computed (no unit in common)."""
    multi = _mtpb("multi", [("1", 0, True), ("1", 1, True), ("2", 0, True), ("2", 1, False), ("3", 0, False)])
    single = _mtpb("single", [("1", 0, False), ("1", 1, True), ("2", 0, False), ("2", 1, False), ("4", 0, True)])
    (d,) = metrics.paired_differences([("m (multi-turn)", "mtpb", multi), ("m (single-turn)", "mtpb", single)])
    assert (d["a"], d["b"], d["problems"]) == ("m (multi-turn)", "m (single-turn)", 2)  # 1 and 2
    cell = d["pass@k"]["pass@1"]
    assert cell["difference"] == pytest.approx((1 + 0.5) / 2 - (0.5 + 0) / 2)
    assert cell["ci95"] == bootstrap_mean([1 - 0.5, 0.5 - 0])
