"""Loading benchmark data: a damaged file is an input error that names the benchmark and the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from editseq.benchmarks import load_benchmark
from editseq.io import InputError


@pytest.mark.parametrize("content", [b"garbage", b""])
def test_a_damaged_data_file_is_named(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "humaneval").mkdir()
    (tmp_path / "humaneval" / "HumanEval.jsonl.gz").write_bytes(content)
    with pytest.raises(InputError, match=r"humaneval: .*(could not be read|holds no problems).*SOURCE\.md"):
        load_benchmark("humaneval", tmp_path)


def test_an_unknown_benchmark_lists_the_names() -> None:
    with pytest.raises(InputError, match=re.escape("unknown benchmark 'humaneval++'; choose one of humaneval,")):
        load_benchmark("humaneval++")


def test_mbpp_keeps_its_test_split_unless_asked_for_all(shared_data: Path) -> None:
    from editseq.benchmarks.mbpp import TEST_SPLIT, load_mbpp, load_mbpp_sanitized

    test = load_mbpp(shared_data)
    assert len(test.problems) == 500 and {int(t) for t in test.problems} == set(TEST_SPLIT)
    assert len(load_mbpp(shared_data, split=None).problems) == 974  # the whole release (prompt, train, validation)
    sanitized = load_mbpp_sanitized(shared_data, split=None)
    assert len(sanitized.problems) == 427 and set(load_mbpp_sanitized(shared_data).problems) < set(sanitized.problems)
