"""The estimator against brute-force enumeration, and its edge cases."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from editseq.evaluate.passk import (
    bootstrap_ci,
    bootstrap_mean,
    macro_rates,
    mean_pass_at_k,
    pass_at_k,
    tally,
)


def brute_force(n: int, c: int, k: int) -> float:
    """Share of all k-subsets of n samples (c correct) that contain a correct one."""
    outcomes = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(outcomes[i] for i in s) for s in subsets) / len(subsets)


@given(st.integers(1, 9).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_matches_enumeration(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(brute_force(n, c, k), abs=1e-12)


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_matches_exact_binomials(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    exact = 1 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-9)


def test_edges() -> None:
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 10) == 1.0
    assert pass_at_k(200, 1, 1) == pytest.approx(1 / 200)
    with pytest.raises(ValueError, match="pass@11 needs at least 11 samples"):
        pass_at_k(10, 3, 11)
    with pytest.raises(ValueError):
        pass_at_k(10, 11, 1)
    with pytest.raises(ValueError, match="correct=-1"):
        pass_at_k(10, -1, 1)
    with pytest.raises(ValueError, match="k must be at least 1"):
        pass_at_k(10, 3, 0)
    with pytest.raises(ValueError, match="no tasks"):
        mean_pass_at_k([], 1)
    assert mean_pass_at_k([(10, 3)], 1) == pytest.approx(0.3)  # one task: its own pass@k


def test_bootstrap_interval_contains_the_estimate() -> None:
    counts = [(10, c) for c in range(11)] * 3
    lo, hi = bootstrap_ci(counts, 1)
    assert lo <= mean_pass_at_k(counts, 1) <= hi
    assert bootstrap_ci([(5, 5)] * 4, 1) == [1.0, 1.0]
    assert bootstrap_ci([(5, 3)], 1) is None  # one task: no spread between tasks to resample
    assert bootstrap_ci(counts[::-1], 1) == [lo, hi]  # the counts decide, not their order


def test_bootstrap_width_follows_the_standard_error() -> None:
    """400 tasks, half solved: the 95% interval is about 2 x 1.96 x sqrt(0.25 / 400) = 0.098 wide,
    and 4x the tasks halve it."""
    for tasks, width in ((400, 0.098), (1600, 0.049)):
        lo, hi = bootstrap_ci([(1, task % 2) for task in range(tasks)], 1, rounds=2000)
        assert abs((hi - lo) - width) < 0.1 * width, (tasks, lo, hi)  # a 90% one is 16% narrower
        assert abs((lo + hi) / 2 - 0.5) < 0.01


def paired_difference_ci(pairs: list, k: int) -> list[float] | None:
    """The paired bootstrap the report draws: per-task differences of pass@k, resampled jointly."""
    return bootstrap_mean([pass_at_k(*a, k) - pass_at_k(*b, k) for a, b in pairs])


counts_pairs = st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10)), min_size=2, max_size=30).map(
    lambda cs: [((10, a), (10, b)) for a, b in cs])


@given(counts_pairs, st.sampled_from([1, 5, 10]))
def test_paired_difference_interval(pairs: list, k: int) -> None:
    """It brackets the observed difference whichever run comes first, and is a single point when
    the two runs agree on every task."""
    lo, hi = paired_difference_ci(pairs, k)
    diff = mean_pass_at_k([a for a, _ in pairs], k) - mean_pass_at_k([b for _, b in pairs], k)
    assert lo - 1e-9 <= diff <= hi + 1e-9  # a percentile interval of means holds the mean
    swapped = paired_difference_ci([(b, a) for a, b in pairs], k)
    assert swapped[0] - 1e-9 <= -diff <= swapped[1] + 1e-9
    assert paired_difference_ci([(a, a) for a, _ in pairs], k) == [0.0, 0.0]


def test_pairing_separates_runs_that_unpaired_intervals_do_not() -> None:
    """B solves one more sample in 10 on every task: the task mix (easy to hard) swamps that in
    each run's own interval, but the paired interval excludes 0."""
    pairs = [((10, c), (10, c + 1)) for c in range(10)] * 5
    a = bootstrap_ci([x for x, _ in pairs], 1)
    b = bootstrap_ci([y for _, y in pairs], 1)
    assert a[1] > b[0]  # the runs' own intervals overlap
    lo, hi = paired_difference_ci(pairs, 1)
    assert lo == pytest.approx(-0.1) and hi == pytest.approx(-0.1)
    assert paired_difference_ci(pairs[:1], 1) is None  # one task: nothing to resample


def test_macro_rates_weigh_every_unit_the_same() -> None:
    counts = {("string", "3"): (4, 1), ("math", "1"): (10, 10), ("math", "2"): (2, 0)}
    # pooled, math would be 10/12; per problem it is (1 + 0) / 2
    rates = macro_rates(counts)
    assert rates == {"math": (0.5, 12), "string": (0.25, 4)}
    assert list(rates) == ["math", "string"]  # groups sorted, whatever order the units come in


@given(st.lists(st.tuples(st.sampled_from("abcd"), st.booleans()), max_size=40))
def test_tally_counts_samples_and_passes_per_key(outcomes: list[tuple[str, bool]]) -> None:
    counts = tally(outcomes)
    assert list(counts) == list(dict.fromkeys(key for key, _ in outcomes))  # first-seen order
    for key, (n, c) in counts.items():
        assert n == sum(k == key for k, _ in outcomes)
        assert c == sum(k == key and passed for k, passed in outcomes)


def test_problem_pass_at_k_weighs_units_by_samples() -> None:
    """An MTPB problem's test cases: pass@1 is passing runs / runs (the summary's pass rate)."""
    from editseq.evaluate.passk import problem_pass_at_k

    assert problem_pass_at_k([(4, 2)], 2) == pass_at_k(4, 2, 2)  # one unit: exactly its pass@k
    assert problem_pass_at_k([(3, 2), (1, 0)], 1) == pytest.approx(2 / 4)
    assert problem_pass_at_k([(2, 1), (2, 2)], 2) == pytest.approx((1 + 1) / 2)
