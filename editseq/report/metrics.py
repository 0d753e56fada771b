"""The numbers behind the report: pass@k curves, per-problem solve rates, MTPB categories.

Every pass@k here goes through ``editseq.evaluate.passk`` (the one estimator), so the report
and ``editseq evaluate``'s summary can never disagree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from editseq.evaluate.passk import bootstrap_mean, macro_rates, pass_at_k, problem_pass_at_k, tally
from editseq.report.inputs import Attempt, Run

TABLE_KS = (1, 10, 100)


def problem_counts(attempts: Iterable[Attempt]) -> dict[str, dict[str, tuple[int, int]]]:
    """problem -> pass@k unit -> (samples, correct), both in sorted order: a HumanEval or MBPP
    task is its own one unit, an MTPB problem has one per test case."""
    problems: dict[str, dict[str, tuple[int, int]]] = {}
    for (task, unit), counts in sorted(tally(((a.task, a.unit), a.passed) for a in attempts).items()):
        problems.setdefault(task, {})[unit] = counts
    return problems


def _by_problem(attempts: list[Attempt]) -> tuple[list[list[tuple[int, int]]], int]:
    """Each problem's (n, c) per unit, and the fewest samples of any unit (the largest k)."""
    problems = [list(units.values()) for units in problem_counts(attempts).values()]
    return problems, min(n for units in problems for n, _ in units)


def fewest_samples(attempts: list[Attempt]) -> int:
    """The fewest samples of any unit: the largest k of the run's pass@k (its pass@n)."""
    return _by_problem(attempts)[1]


def _scores(problems: list[list[tuple[int, int]]], k: int) -> tuple[float, list[float]]:
    """Mean pass@k over problems, and each problem's (``problem_pass_at_k``)."""
    values = [problem_pass_at_k(units, k) for units in problems]
    return sum(values) / len(values), values


def curve_ks(n: int, also: Iterable[int] = TABLE_KS) -> list[int]:
    """k values for a log-x curve up to n: every k to 10, then about 12 per decade, n, and the
    ``also`` (the tables' k) up to n.

    Scoring every k to n=200 costs seconds per run for no visible difference on a log axis.
    """
    ks = set(range(1, min(n, 10) + 1)) | {k for k in also if k <= n}
    k = 10.0
    while k < n:
        ks.add(round(k))
        k *= 10 ** (1 / 12)
    ks.add(n)
    return sorted(ks)


def passk_curve(attempts: list[Attempt], table_ks: Iterable[int] = TABLE_KS) -> dict:
    """Mean pass@k over problems at ``curve_ks(n, table_ks)`` (n = fewest samples of any unit) with its 95%
    bootstrap interval over problems at each k (the figure's band; None with a single problem),
    plus sampled tokens per k. An MTPB problem's pass@k weighs its test cases by their runs, so
    pass@1 is ``mtpb evaluate``'s pass rate; a HumanEval run's is ``evaluate``'s pass@k.

    ``tokens`` is the FLOPs proxy of the paper's second axis: the mean tokens per sample,
    summed over units, times k (total tokens spent to draw k samples per problem).
    """
    problems, n_min = _by_problem(attempts)
    ks = curve_ks(n_min, table_ks)
    scores = [_scores(problems, k) for k in ks]
    curve = {"k": ks, "pass@k": [mean for mean, _ in scores],
             "ci95": [bootstrap_mean(values) for _, values in scores], "n_min": n_min,
             "problems": len(problems), "tokens": None}
    per_unit_tokens = _mean_tokens_per_unit(attempts)
    if per_unit_tokens is not None:
        curve["tokens"] = [k * per_unit_tokens for k in ks]
    return curve


def _mean_tokens_per_unit(attempts: list[Attempt]) -> float | None:
    """Sum over units of mean tokens per sample; None unless every attempt has a count."""
    if not attempts or any(a.tokens is None for a in attempts):
        return None
    per: dict[str, list[int]] = defaultdict(list)
    for a in attempts:
        per[a.unit].append(a.tokens or 0)
    return sum(sum(v) / len(v) for v in per.values())


def passk_table(curve: dict, ks: Iterable[int] = TABLE_KS) -> dict[str, dict]:
    """pass@k with its 95% bootstrap interval at the ``ks`` that the samples allow, read off
    ``passk_curve`` (whose k include the same ``ks`` up to n)."""
    wanted = set(ks)
    return {f"pass@{k}": {"value": value, "ci95": ci}
            for k, value, ci in zip(curve["k"], curve["pass@k"], curve["ci95"], strict=True) if k in wanted}


def paired_differences(series: list[tuple[str, str, list[Attempt]]],
                       ks: tuple[int, ...] = TABLE_KS) -> list[dict]:
    """pass@k(A) - pass@k(B) with a paired bootstrap 95% interval, for each pair of pass@k series
    (label, benchmark, attempts) of one benchmark, A before B in input order, that share at least two
    problems, over the units (tasks; MTPB test cases) both answered: the comparison a fine-tuning
    experiment asks for (edit sequences vs programs), or MTPB's multi- vs single-turn. Problems
    are resampled jointly for both series (``bootstrap_mean`` of the per-problem differences)."""
    out = []
    for i, (label_a, kind_a, attempts_a) in enumerate(series):
        for label_b, kind_b, attempts_b in series[i + 1:]:
            if kind_a != kind_b:
                continue
            shared_a, shared_b = _shared(problem_counts(attempts_a), problem_counts(attempts_b))
            if len(shared_a) < 2:
                continue
            n_min = min(n for units in shared_a + shared_b for n, _ in units)
            cells = {}
            for k in (k for k in ks if k <= n_min):
                (mean_a, values_a), (mean_b, values_b) = _scores(shared_a, k), _scores(shared_b, k)
                cells[f"pass@{k}"] = {"difference": mean_a - mean_b, "ci95": bootstrap_mean(
                    [x - y for x, y in zip(values_a, values_b, strict=True)])}
            if cells:  # else no k asked for is within both runs' samples: nothing to compare
                out.append({"a": label_a, "b": label_b, "problems": len(shared_a), "pass@k": cells})
    return out


def _shared(a: dict[str, dict[str, tuple[int, int]]],
            b: dict[str, dict[str, tuple[int, int]]]) -> tuple[list[list[tuple[int, int]]], list[list[tuple[int, int]]]]:
    """For each problem both answered, A's and B's (n, c) on the units both answered, in one order."""
    shared_a, shared_b = [], []
    for problem in sorted(a.keys() & b.keys()):
        units = sorted(a[problem].keys() & b[problem].keys())
        if units:
            shared_a.append([a[problem][u] for u in units])
            shared_b.append([b[problem][u] for u in units])
    return shared_a, shared_b


def solve_rates(runs: list[Run]) -> dict[str, dict[str, float]]:
    """problem -> run label -> fraction of its samples that pass (absent where not attempted)."""
    return {problem: {label: c / n for label, (n, c) in counts.items()} for problem, counts in _per_problem(runs).items()}


def sample_counts(runs: list[Run]) -> dict[str, dict[str, int]]:
    """problem -> run label -> its samples, as ``solve_rates`` (the count each rate is over)."""
    return {problem: {label: n for label, (n, _) in counts.items()} for problem, counts in _per_problem(runs).items()}


def _per_problem(runs: list[Run]) -> dict[str, dict[str, tuple[int, int]]]:
    """problem (an MTPB one by mode) -> run label -> (samples, correct), problems in natural order."""
    table: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for run in runs:
        keyed = ((a.task if a.mode is None else f"{a.task} ({a.mode})", a.passed) for a in run.attempts)
        for key, counts in tally(keyed).items():
            table[key][run.label] = counts
    return dict(sorted(table.items(), key=lambda kv: natural(kv[0])))


def natural(key: str) -> tuple:
    """Sort HumanEval/2 before HumanEval/10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key))


def solved_differences(rates: dict[str, dict[str, float]], samples: dict[str, dict[str, int]],
                       benchmarks: dict[str, str]) -> list[dict]:
    """For each ordered pair of runs (``benchmarks``: label -> its benchmark, in order) of one
    benchmark that share problems, those the first solves at least once and the second never.
    Runs of different benchmarks are left out: HumanEval and HumanEval+ share their task ids, and
    a problem "solved by the HumanEval run, never by the HumanEval+ one" was the stricter tests.

    ``fewer_samples`` names those of the problems the second drew fewer samples of than the first
    (``samples``, as ``sample_counts``), with both counts: "never" in 5 samples against one pass in
    100 is weak evidence, and read like the same "never" as in 100."""
    out = []
    for a in benchmarks:
        for b in benchmarks:
            if a == b or benchmarks[a] != benchmarks[b] or not any(a in r and b in r for r in rates.values()):
                continue
            only = [p for p, r in rates.items() if r.get(a, 0) > 0 and b in r and r[b] == 0]
            fewer = {p: {"solved_by": samples[p][a], "not_by": samples[p][b]} for p in only if samples[p][b] < samples[p][a]}
            out.append({"solved_by": a, "not_by": b, "problems": only, "fewer_samples": fewer})
    return out


def mtpb_categories(run: Run) -> dict[str, dict[str, dict[str, float]]]:
    """category -> mode -> {"pass_rate", "n"}: CodeGen's table, multi- vs single-turn; as in
    ``mtpb evaluate``'s summary, a problem's pass rate is its passing runs / runs and a category's
    is the mean over its problems (``n``: runs)."""
    keyed = ((((a.category or "uncategorized", a.mode or "multi"), a.task), a.passed) for a in run.attempts)
    cells: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for (category, mode), (rate, n) in macro_rates(dict(sorted(tally(keyed).items()))).items():
        cells[category][mode] = {"pass_rate": rate, "n": n}
    return dict(cells)


def per_task_gain(attempts: list[Attempt]) -> dict[str, dict[str, float]]:
    """Per task: pass@1, pass@n and their difference (what more samples buy on this problem)."""
    out = {}
    for task, (n, c) in tally((a.task, a.passed) for a in attempts).items():
        p1 = pass_at_k(n, c, 1)
        out[task] = {"n": n, "pass@1": p1, "pass@n": pass_at_k(n, c, n), "gain": pass_at_k(n, c, n) - p1}
    return out
