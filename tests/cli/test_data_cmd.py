"""The real ``editseq data docstrings`` on an installed package."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from editseq.cli import main


def test_docstrings_from_json_package(tmp_path: Path, capsys) -> None:
    out = tmp_path / "d.jsonl"
    assert main(["data", "docstrings", "--package", "json", "--no-decontaminate", "--out", str(out)]) == 0
    assert "kept" in capsys.readouterr().out
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"json:dumps", "json:loads"} <= {r["source"] for r in records}
    for r in records:
        *imports, function = ast.parse(r["program"]).body
        assert r["instruction"] and isinstance(function, ast.FunctionDef)
        assert all(isinstance(i, (ast.Import, ast.ImportFrom)) for i in imports)
    summary = json.loads((tmp_path / "d_summary.json").read_text())
    assert summary["counts"]["kept"] == len(records)
    # counts of nothing were left out: a summary without "duplicates" or "contaminated"
    assert summary["counts"]["duplicates"] == summary["counts"]["unparsable"] == 0
    # an existing OUT is not replaced silently
    assert main(["data", "docstrings", "--package", "json", "--no-decontaminate", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["data", "docstrings", "--package", "json", "--no-decontaminate", "--out", str(out),
                 "--overwrite"]) == 0


def test_a_folder_as_out_is_named_not_offered_overwrite(tmp_path: Path, capsys) -> None:
    """A folder at OUT was called an existing OUT to --overwrite, which then failed after mining."""
    (tmp_path / "d.jsonl").mkdir()
    for extra in ([], ["--overwrite"]):
        assert main(["data", "docstrings", "--package", "json", "--no-decontaminate",
                     "--out", str(tmp_path / "d.jsonl"), *extra]) == 2
        err = capsys.readouterr().err
        assert "d.jsonl: is a directory (a folder where a file is needed)" in err and "--overwrite" not in err


def test_unknown_package_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["data", "docstrings", "--package", "no_such_pkg_x", "--out", str(tmp_path / "d.jsonl")]) == 2
    assert "--package no_such_pkg_x: not installed" in capsys.readouterr().err


def test_a_second_run_into_an_out_being_mined_is_refused(tmp_path: Path, capsys) -> None:
    """Was: two runs at once each found no OUT, and the last to end replaced the other's."""
    from tests.io.test_lock import held_elsewhere

    out = tmp_path / "d.jsonl"
    with held_elsewhere(out) as holder:
        assert main(["data", "docstrings", "--package", "json", "--no-decontaminate", "--out", str(out)]) == 2
    assert f"d.jsonl is being written by another run (pid {holder.pid}, " in capsys.readouterr().err
    assert main(["data", "docstrings", "--package", "json", "--no-decontaminate", "--out", str(out)]) == 0


def test_files_that_could_not_be_read_are_said(tmp_path: Path, capsys, monkeypatch) -> None:
    # a file in Python 2 (or newer syntax, or not UTF-8) was only counted in the summary: "2 files, ..."
    pkg = tmp_path / "unreadpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "py2.py").write_text('print "python 2"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    args = ["data", "docstrings", "--package", "unreadpkg", "--no-decontaminate", "--out", str(tmp_path / "d.jsonl")]
    assert main(args) == 0
    assert "2 files (1 not read: not decoded or not parsed by this Python" in capsys.readouterr().out


def test_the_summary_names_each_file_not_read_and_why(tmp_path: Path, monkeypatch) -> None:
    # only counted: on the installed packages "1 not read" left which file, and why, to be hunted down
    pkg = tmp_path / "unreadpkg2"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "py2.py").write_text('x = 1\nprint "python 2"\n')
    (pkg / "latin.py").write_bytes("# caf\xe9, no coding line\n".encode("latin-1"))
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "d.jsonl"
    assert main(["data", "docstrings", "--package", "unreadpkg2", "--no-decontaminate", "--out", str(out)]) == 0
    summary = json.loads((tmp_path / "d_summary.json").read_text())
    assert (summary["counts"]["unreadable"], summary["counts"]["unparsable"]) == (1, 1)
    [latin, py2] = summary["not_read"]
    assert latin["file"] == str(pkg / "latin.py") and latin["reason"].startswith("SyntaxError: ")
    assert py2["file"] == str(pkg / "py2.py") and py2["reason"].startswith("SyntaxError: ") and "line 2" in py2["reason"]


def test_the_summary_names_the_benchmark_data_it_decontaminated_against(tmp_path: Path, shared_data: Path,
                                                                        monkeypatch) -> None:
    """Without --data the benchmark folder is found ($EDITSEQ_DATA_DIR, ../shared/data, the cache),
    and the summary's settings said "data": null: which data the pairs are clean of was unknown."""
    from editseq.benchmarks import NAMES, load_benchmark

    monkeypatch.setenv("EDITSEQ_DATA_DIR", str(shared_data))
    out = tmp_path / "d.jsonl"
    assert main(["data", "docstrings", "--package", "json", "--out", str(out)]) == 0
    summary = json.loads((tmp_path / "d_summary.json").read_text())
    assert summary["settings"]["data"] is None
    used = summary["decontaminated_against"]
    assert set(used) == set(NAMES)
    for name in NAMES:
        bench = load_benchmark(name, shared_data)
        assert used[name] == {"file": str(bench.source), "sha256": bench.fingerprint}


def test_mining_shows_its_progress(tmp_path: Path, capsys) -> None:
    # all the installed packages take minutes, and nothing was said until the end
    args = ["data", "docstrings", "--package", "json", "--no-decontaminate", "--out", str(tmp_path / "d.jsonl")]
    assert main(args) == 0
    assert "data docstrings:   0%|          | 0/5 [" in capsys.readouterr().err  # json's 5 files
    assert main([*args, "--overwrite", "--no-progress"]) == 0
    assert "data docstrings:" not in capsys.readouterr().err
