"""The real ``editseq report`` command: success on pipeline output, exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from editseq.cli import main

pytest.importorskip("matplotlib", reason="editseq report needs matplotlib: pip install 'editseq[report]'")

# the runs here are copies of one file (``_results``) on purpose; the note that says so is tested on its own
pytestmark = pytest.mark.filterwarnings("ignore:.* are one file's records")


def _results(path: Path) -> Path:
    rows = [{"task_id": "HumanEval/0", "completion": c, "passed": ok, "status": "passed" if ok else "failed"}
            for c, ok in (("    return True\n", True), ("    return False\n", False))]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_report_with_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _results(tmp_path / "a_results.jsonl"), _results(tmp_path / "b_results.jsonl")
    out = tmp_path / "rep"
    assert main(["report", str(a), str(b), "--out", str(out), "--labels", "base,edit"]) == 0
    assert "base: pass@1 50.0%" in capsys.readouterr().out
    data = json.loads((out / "report.json").read_text())
    assert list(data["passk"]) == ["base", "edit"]
    assert data["settings"]["inputs"] == [str(a), str(b)]
    assert (out / "report.html").stat().st_size > 10_000


def test_same_file_twice_gets_distinct_labels(tmp_path: Path) -> None:
    a = _results(tmp_path / "a_results.jsonl")
    assert main(["report", str(a), str(a), "--out", str(tmp_path / "rep")]) == 0
    assert list(json.loads((tmp_path / "rep" / "report.json").read_text())["passk"]) == ["a", "a (2)"]
    assert main(["report", str(a), str(a), str(a), "--labels", "a,a,a (2)", "--out", str(tmp_path / "rep")]) == 0
    assert list(json.loads((tmp_path / "rep" / "report.json").read_text())["passk"]) == ["a", "a (2)", "a (2) (2)"]


def test_labels_are_text_in_figures(tmp_path: Path) -> None:
    """matplotlib reads $...$ as mathtext (a parse error ended the report) and hides labels
    starting with _ from legends."""
    a = _results(tmp_path / "model_$1_$2_results.jsonl")
    assert main(["report", str(a), str(a), "--labels", "m_$1_$2,_baseline", "--out", str(tmp_path / "rep")]) == 0
    svg = (tmp_path / "rep" / "figures" / "passk.svg").read_text()
    assert "_baseline" in svg and "m_$1_$2" in svg


def test_task_ids_categories_and_dataset_names_are_text_in_figures(tmp_path: Path) -> None:
    """Was: only run labels were kept from mathtext; a task id (heatmap), an MTPB category or a
    LintSeq file name with two ``$`` ended the report with a ParseSyntaxException."""
    odd = "x_$1_$2"
    results = tmp_path / "a_results.jsonl"
    results.write_text("".join(json.dumps({"task_id": t, "passed": ok}) + "\n" for t, ok in ((odd, True), ("b", False))))
    mtpb = tmp_path / "m_results.jsonl"
    mtpb.write_text(json.dumps({"problem_id": "1", "case": 0, "passed": True, "category": odd}) + "\n")
    lintseq = tmp_path / f"{odd}.jsonl"
    lintseq.write_text(json.dumps({"program": "x = 1\n", "edit_path": ["@@ -0,0 +1 @@\n+x = 1"]}) + "\n")
    with pytest.warns(UserWarning, match="these runs are on different benchmarks"):
        assert main(["report", str(results), str(mtpb), str(lintseq), "--out", str(tmp_path / "rep")]) == 0
    for name in ("per_problem", "mtpb", "lintseq_0"):
        assert odd in (tmp_path / "rep" / "figures" / f"{name}.svg").read_text(), name


def test_bad_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _results(tmp_path / "a_results.jsonl")
    assert main(["report", str(a), "--labels", "x,y", "--out", str(tmp_path / "r")]) == 2
    assert "--labels names 2 runs but 1 inputs" in capsys.readouterr().err
    assert main(["report", str(a), "--labels", " ", "--out", str(tmp_path / "r")]) == 2
    assert "has an empty label" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "r")]) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err
    assert main(["report", str(a), "--max-pairs", "0"]) == 2
    assert main(["report"]) == 2  # INPUTS is required
    assert "give at least one INPUT" in capsys.readouterr().err


def test_an_unwritable_out_is_named_before_the_inputs_are_read(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Was: found only once every input was loaded and scored, the figures drawn."""
    missing = str(tmp_path / "nope.jsonl")  # reading it first would be this error instead
    (tmp_path / "f").write_text("a file")
    assert main(["report", missing, "--out", str(tmp_path / "f")]) == 2
    assert "f: file exists (a file where a folder is needed?)" in capsys.readouterr().err
    (tmp_path / "r" / "report.html").mkdir(parents=True)
    assert main(["report", missing, "--out", str(tmp_path / "r")]) == 2
    assert "report.html: is a directory (a folder where a file is needed)" in capsys.readouterr().err


def test_an_out_named_like_the_page_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was: --out runs/report.html made a folder of that name, the page at runs/report.html/report.html."""
    a = _results(tmp_path / "a_results.jsonl")
    assert main(["report", str(a), "--out", str(tmp_path / "r.html")]) == 2
    assert f"--out {tmp_path / 'r.html'}: the folder the report goes in" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_results.jsonl"]
    (tmp_path / "old.html").mkdir()  # a folder so named (by an earlier version) is a folder
    assert main(["report", str(a), "--out", str(tmp_path / "old.html")]) == 0
    assert (tmp_path / "old.html" / "report.html").is_file()


def test_a_config_file_can_name_the_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _results(tmp_path / "a_results.jsonl"), _results(tmp_path / "b_results.jsonl")
    config = tmp_path / "report.yaml"
    config.write_text(f"inputs: [{a}, {b}]\nlabels: base,edit\nout: {tmp_path / 'rep'}\n")
    assert main(["report", "--config", str(config)]) == 0
    assert "edit: pass@1 50.0%" in capsys.readouterr().out
    assert main(["report", str(a), "--config", str(config), "--labels", "only"]) == 0  # arguments win
    assert list(json.loads((tmp_path / "rep" / "report.json").read_text())["passk"]) == ["only"]


def test_a_k_beyond_the_samples_is_said_not_printed_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was: ``--k 10`` on two samples printed "a: " and nothing else."""
    a = _results(tmp_path / "a_results.jsonl")
    with pytest.warns(UserWarning, match="a: 2 samples per problem, too few for pass@10"):
        assert main(["report", str(a), "--k", "10", "--out", str(tmp_path / "rep")]) == 0
    assert "a: no pass@k of --k (too few samples; see the warning)" in capsys.readouterr().out


def test_samples_given_for_results_are_named_as_such(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was: "cannot tell what this file is", for the samples file a new user passes first; and
    neither --help said that INPUTS are evaluate's results."""
    samples = tmp_path / "x.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/0", "sample": 0, "completion": "    return 1\n"}) + "\n")
    assert main(["report", str(samples), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "x.jsonl line 1: samples (fields ['completion', 'sample', 'task_id']), not yet evaluated" in err
    assert "run `editseq evaluate` on this file and pass the x_results.jsonl it writes" in err
    assert main(["report", "--help"]) == 0
    assert "INPUTS are what `editseq evaluate` and `editseq mtpb evaluate` write" in capsys.readouterr().out
    assert main(["evaluate", "--help"]) == 0
    assert "`editseq report runs/x_results.jsonl ...`" in capsys.readouterr().out
