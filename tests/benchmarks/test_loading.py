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
