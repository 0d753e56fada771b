"""The one pass@k estimator in editseq, with a bootstrap confidence interval.

pass@k = 1 - C(n-c, k) / C(n, k) (Chen et al. 2021), computed as the product
prod_{i=n-c+1}^{n} (1 - k/i), which never forms the huge binomials (n up to 200+).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
G = TypeVar("G")


def tally(outcomes: Iterable[tuple[K, bool]]) -> dict[K, tuple[int, int]]:
    """(samples n, correct c) per key (a task, a problem and mode...), in first-seen order:
    what pass@k and solve rates are computed from."""
    counts: dict[K, list[int]] = {}
    for key, passed in outcomes:
        n_c = counts.setdefault(key, [0, 0])
        n_c[0] += 1
        n_c[1] += bool(passed)
    return {key: (n, c) for key, (n, c) in counts.items()}


def macro_rates(counts: dict[tuple[G, Hashable], tuple[int, int]]) -> dict[G, tuple[float, int]]:
    """Per group (sorted): the mean over its units of each unit's rate c / n, and its runs (the
    ``n`` summed), from (group, unit) -> (n, c). Every unit weighs the same however many runs it
    has: CodeGen's MTPB category score, a problem's passing runs / runs averaged over problems."""
    rates: dict[G, list[float]] = {}
    runs: dict[G, int] = {}
    for (group, _), (n, c) in counts.items():
        rates.setdefault(group, []).append(c / n)
        runs[group] = runs.get(group, 0) + n
    return {group: (sum(r) / len(r), runs[group]) for group, r in sorted(rates.items())}


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased probability that at least one of k samples drawn from n (c correct) passes."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= correct <= samples, got correct={c}, samples={n}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per task, but a task has only {n}; "
                         f"drop k={k} or draw more samples")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def problem_pass_at_k(units: Sequence[tuple[int, int]], k: int) -> float:
    """pass@k of a problem scored on several units, given (n, c) per unit (MTPB: its test cases,
    each sampled n times): their pass@k weighted by samples, so that pass@1 is the problem's
    passing samples / samples, MTPB's per-problem pass rate. A problem of one unit (a HumanEval
    task) has that unit's pass@k."""
    if len(units) == 1:
        return pass_at_k(*units[0], k)
    return sum(n * pass_at_k(n, c, k) for n, c in units) / sum(n for n, _ in units)


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """Mean pass@k over tasks given (n, c) per task."""
    if not counts:
        raise ValueError("no tasks to score")
    return sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


def bootstrap_ci(counts: Sequence[tuple[int, int]], k: int, rounds: int = 1000,
                 level: float = 0.95, seed: int = 0) -> list[float] | None:
    """Percentile interval ``[lo, hi]`` of mean pass@k when tasks are resampled with replacement.

    Resampling tasks (not samples) reflects the uncertainty that matters when comparing models
    on a fixed-size benchmark. With fewer than two tasks there is no spread between tasks to
    resample: None, rather than an interval of zero width that would look certain. The tasks are
    resampled in sorted order, so the interval depends on the counts alone, not on the order
    they come in (``evaluate``'s summary and the report give the same interval).
    """
    return bootstrap_mean([pass_at_k(n, c, k) for n, c in counts], rounds, level, seed)


def bootstrap_mean(values: Sequence[float], rounds: int = 1000, level: float = 0.95,
                   seed: int = 0) -> list[float] | None:
    """Percentile interval of the mean of ``values`` (one per task, or per problem) resampled with
    replacement (sorted first, so the interval does not depend on their order); None for fewer
    than two values. ``bootstrap_ci`` is this on pass@k values.

    On the differences pass@k(A) - pass@k(B) of the tasks both runs answered it is a paired
    bootstrap: pairing removes the spread between easy and hard tasks that both runs share, so it
    separates two runs far better than comparing their own intervals. Like ``bootstrap_ci`` it
    covers the choice of tasks, not the finite samples drawn per task."""
    if len(values) < 2:
        return None
    values = sorted(values)
    rng = random.Random(seed)
    m = len(values)
    means = sorted(sum(rng.choices(values, k=m)) / m for _ in range(rounds))
    lo = means[int((1 - level) / 2 * rounds)]
    hi = means[min(rounds - 1, int((1 + level) / 2 * rounds))]
    return [lo, hi]
