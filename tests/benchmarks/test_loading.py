"""Loading benchmark data: a damaged file is an input error that names the benchmark and the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from editseq.benchmarks import load_benchmark
from editseq.io.records import InputError


@pytest.mark.parametrize("content", [b"garbage", b""])
def test_a_damaged_data_file_is_named(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "humaneval").mkdir()
    (tmp_path / "humaneval" / "HumanEval.jsonl.gz").write_bytes(content)
    with pytest.raises(InputError, match=r"humaneval: .*(could not be read|holds no problems).*SOURCE\.md"):
        load_benchmark("humaneval", tmp_path)


def test_data_errors_name_the_folder_of_the_data_dir_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: without --data, a damaged file under $EDITSEQ_DATA_DIR was to be checked "under --data",
    and a folder there lacking the file was answered with "set EDITSEQ_DATA_DIR" (it was set)."""
    from editseq.benchmarks import locate

    (tmp_path / "humaneval").mkdir()
    (tmp_path / "humaneval" / "HumanEval.jsonl.gz").write_bytes(b"garbage")
    monkeypatch.setenv("EDITSEQ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(InputError) as err:
        load_benchmark("humaneval")
    assert f"check the file under {tmp_path} against its SOURCE.md" in str(err.value)
    assert "--data" not in str(err.value)
    with pytest.raises(InputError) as err:
        locate("mbpp/mbpp.jsonl", "http://127.0.0.1:9/mbpp.jsonl", None)  # nothing listens on port 9
    assert f"no local copy of mbpp/mbpp.jsonl (none in {tmp_path}) and download" in str(err.value)
    assert "point EDITSEQ_DATA_DIR at a folder holding mbpp/mbpp.jsonl" in str(err.value)


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


def test_mbpp_tasks_name_the_function_their_tests_call(shared_data: Path) -> None:
    # MBPP ships no entry point; --sanitize keeps what it needs, so every task must have one
    from editseq.benchmarks.mbpp import load_mbpp, load_mbpp_sanitized

    for bench in (load_mbpp(shared_data, split=None), load_mbpp_sanitized(shared_data, split=None)):
        for tid, p in bench.problems.items():
            assert re.search(rf"^def {p.entry_point} *\(|^class {p.entry_point}\b", p.canonical_solution, re.M), tid
            assert re.search(rf"\b{p.entry_point} *\(", p.test) and re.search(rf"\b{p.entry_point} *\(", p.prompt), tid
    assert load_mbpp(shared_data).problems["11"].entry_point == "remove_Occ"
