"""The whole report on real pipeline output: files, numbers and their agreement."""

from __future__ import annotations

import csv
import json
import re
import warnings
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from editseq.evaluate.passk import mean_pass_at_k
from editseq.io.identity import file_sha256

# the inputs answer a few problems of their benchmark on purpose: the note it gives is tested on its own
pytestmark = pytest.mark.filterwarnings("ignore:.* problems \\(no samples of .*its pass@k is the mean over those")


def test_outputs_exist_and_agree(built_report: Path, report_inputs: dict[str, Path]) -> None:
    data = json.loads((built_report / "report.json").read_text())
    assert [r["kind"] for r in data["runs"]] == ["results", "results", "mtpb", "lintseq"]
    for name in ("passk", "passk_tokens", "per_problem", "mtpb", "diversity", "lintseq_0"):
        for ext in ("png", "svg"):
            assert (built_report / "figures" / f"{name}.{ext}").stat().st_size > 1000
    summary = json.loads(report_inputs["mixed"].with_name("mixed_summary.json").read_text())
    assert data["passk"]["mixed"]["table"]["pass@1"]["value"] == summary["pass@1"]
    assert data["passk"]["mixed"]["table"]["pass@1"]["ci95"] == summary["ci95"]["pass@1"]  # one interval
    counts = [(t["n"], t["c"]) for t in summary["tasks"].values()]
    rows = list(csv.DictReader((built_report / "passk.csv").open()))
    mixed = {int(r["k"]): float(r["pass@k"]) for r in rows if r["run"] == "mixed"}
    assert mixed == {k: mean_pass_at_k(counts, k) for k in range(1, 9)}
    differences = list(csv.DictReader((built_report / "differences.csv").open()))
    # runs of one kind only; MTPB's modes pair by problem and case
    assert [(r["a"], r["b"], r["k"]) for r in differences] == [("codegen", "mixed", "1"),
                                                              ("mtpb (multi-turn)", "mtpb (single-turn)", "1")]
    assert float(differences[1]["difference"]) == pytest.approx(5 / 9 - 4 / 9)
    assert float(differences[0]["difference"]) == data["passk"]["codegen"]["table"]["pass@1"]["value"] - summary["pass@1"]
    assert "Differences between runs (paired)" in (built_report / "report.html").read_text()
    first = next(r for r in rows if r["run"] == "mixed" and r["k"] == "1")
    assert [float(first["ci95_low"]), float(first["ci95_high"])] == summary["ci95"]["pass@1"]  # the band's
    assert all(r["tokens"] for r in rows if r["run"] == "codegen")


def test_diversity_of_the_mixed_run(built_report: Path) -> None:
    """Canonical, commented and respaced copies are one program; the two wrong ones are two more."""
    rows = [r for r in csv.DictReader((built_report / "diversity.csv").open()) if r["run"] == "mixed"]
    assert len(rows) == 4
    assert {(r["distinct"], r["distinct_passing"]) for r in rows} == {("3", "1")}
    data = json.loads((built_report / "report.json").read_text())
    assert "mtpb" not in data["diversity"]  # MTPB samples answer different cases


def test_per_problem_and_mtpb_tables(built_report: Path) -> None:
    rows = list(csv.DictReader((built_report / "per_problem.csv").open()))
    assert [r["problem"] for r in rows[:3]] == ["1 (multi)", "1 (single)", "2 (multi)"]
    mtpb = list(csv.DictReader((built_report / "mtpb.csv").open()))
    assert {(r["category"], r["mode"]) for r in mtpb} == {("math", "multi"), ("math", "single"),
                                                          ("string", "multi"), ("string", "single")}
    pairs = {(d["solved_by"], d["not_by"]) for d in
             json.loads((built_report / "report.json").read_text())["per_problem"]["differences"]}
    assert pairs == {("codegen", "mixed"), ("mixed", "codegen")}  # MTPB shares no problem with them


def test_mtpb_modes_are_separate_pass_at_k_series(built_report: Path) -> None:
    """Was: one "mtpb" series averaging the multi-turn runs with the single-turn control's."""
    passk = json.loads((built_report / "report.json").read_text())["passk"]
    assert "mtpb" not in passk
    assert passk["mtpb (multi-turn)"]["table"]["pass@1"]["value"] == pytest.approx(5 / 9)
    assert passk["mtpb (single-turn)"]["table"]["pass@1"]["value"] == pytest.approx(4 / 9)


def test_html_is_self_contained(built_report: Path) -> None:
    html = (built_report / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 7  # MTPB's pass@k in a figure of its own
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert html.count('class="seq"') == 3 and "<script>" in html


def test_text_columns_are_left_aligned_and_numbers_right(built_report: Path) -> None:
    """Was: every cell but the first right-aligned, so a file name or the settings a run was judged
    under wrapped against the right edge, and an interval wrapped mid-way; a column holding text is
    now marked for the left (CSS ``.lJ``), and numbers stay on one line."""
    from editseq.report.html import CSS

    html = (built_report / "report.html").read_text()
    # run, kind, benchmark, records, file, sha256, judged under: records alone are numbers
    assert '<table class="l2 l3 l5 l6 l7"><tr><th>run</th><th>kind</th>' in html
    # run, benchmark, problems, samples each (min), pass@1 (95% CI), pass@8 (95% CI)
    assert '<table class="l2"><tr><th>run</th><th>benchmark</th><th>problems</th>' in html
    assert "td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right;white-space:nowrap}" in CSS
    assert ".l7 td:nth-child(7),.l7 th:nth-child(7)," in CSS and CSS.count("{text-align:left;white-space:normal}") == 1


def test_runs_over_different_problems_are_noted(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    rows = [json.loads(line) for line in report_inputs["mixed"].read_text().splitlines()]
    subset = tmp_path / "subset_results.jsonl"
    subset.write_text("".join(json.dumps(r) + "\n" for r in rows if r["task_id"] == rows[0]["task_id"]))
    tasks = len({r["task_id"] for r in rows})
    note = f"these runs answer different problems (mixed: {tasks}, subset: 1; 1 in common)"
    with pytest.warns(UserWarning, match=re.escape(note)):
        build_report(ReportOptions(inputs=[report_inputs["mixed"], subset], out=tmp_path / "r"))
    assert json.loads((tmp_path / "r" / "report.json").read_text())["notes"][0].startswith(note)
    assert note in (tmp_path / "r" / "report.html").read_text()


def test_token_runs_over_different_problems_are_noted_beside_the_cost_figure(report_inputs: dict[str, Path],
                                                                            tmp_path: Path) -> None:
    """Was: the inference-cost figure put each run at its tokens summed over its own problems, so
    a run of one of codegen's 4 problems lay about 4 times further left at the same tokens per
    problem, and nothing beside the figure said so (the page's top note spoke of pass@k alone)."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    rows = [json.loads(line) for line in report_inputs["codegen"].read_text().splitlines()]
    subset = tmp_path / "one_results.jsonl"
    subset.write_text("".join(json.dumps(r) + "\n" for r in rows if r["task_id"] == rows[0]["task_id"]))
    note = ("the humaneval runs of the inference-cost figure answer different problems (codegen: 4, one: 1; "
            "1 in common): each run's tokens are summed over its own problems")
    with (pytest.warns(UserWarning, match=re.escape(note)),
          pytest.warns(UserWarning, match="these runs answer different problems")):  # the page's own
        build_report(ReportOptions(inputs=[report_inputs["codegen"], subset], out=tmp_path / "r"))
    html = (tmp_path / "r" / "report.html").read_text()
    after_figure = html.split('id="fig-passk_tokens"')[1].split("<table")[0]
    assert f'<p class="note">{escape(note)}' in after_figure
    # runs of one problem set, and a run without tokens beside codegen (drawn on no cost figure): no note
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = build_report(ReportOptions(inputs=[report_inputs["codegen"], report_inputs["mixed"]], out=tmp_path / "r"))
        assert data["tokens_notes"] == []
        mixed = tmp_path / "mixed_one_results.jsonl"
        mixed.write_text("".join(line + "\n" for line in report_inputs["mixed"].read_text().splitlines()
                                 if json.loads(line)["task_id"] == rows[0]["task_id"]))
        assert build_report(ReportOptions(inputs=[report_inputs["codegen"], mixed], out=tmp_path / "r"))["tokens_notes"] == []


def test_mtpb_numbers_agree_with_mtpb_evaluate(shared_data: Path, tmp_path: Path) -> None:
    """A real ``mtpb evaluate`` of a partial file (problem 2 has one case of five): the report's
    pass@1 per mode was the mean over (problem, case), 72.7% and 54.5% where the summary says
    53.3% and 40.0%, and its multi- vs single-turn difference was missing."""
    pytest.importorskip("matplotlib")
    from editseq.cli import main
    from editseq.mtpb import data

    bench = data.load(shared_data)
    rows = []
    for mode in ("multi", "single"):
        for pid, cases, passing in (("1", 5, 5), ("2", 1, 0), ("3", 5, 3 if mode == "multi" else 1)):
            prompts = bench.problems[pid].prompts
            for case in range(cases):
                last = f"print({bench.problems[pid].cases[case].output!r})" if case < passing else "print('no')"
                turns = [last] if mode == "single" else ["pass"] * (len(prompts) - 1) + [last]
                rows.append({"problem_id": pid, "case": case, "mode": mode, "completions": turns})
    runs = tmp_path / "m.jsonl"
    runs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.warns(UserWarning, match="112 of 115 MTPB problems have no runs"):
        assert main(["mtpb", "evaluate", str(runs), "--data", str(shared_data), "--no-cache"]) == 0
    summary = json.loads((tmp_path / "m_summary.json").read_text())["modes"]
    assert main(["report", str(tmp_path / "m_results.jsonl"), "--out", str(tmp_path / "r")]) == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    for mode in ("multi", "single"):
        series = report["passk"][f"m ({mode}-turn)"]
        assert series["table"]["pass@1"]["value"] == pytest.approx(summary[mode]["pass_rate"])
        assert series["curve"]["problems"] == summary[mode]["n_problems"] == 3
        assert {c: cells[mode]["pass_rate"] for c, cells in report["mtpb"]["m"].items()} == pytest.approx(
            summary[mode]["categories"])
    (d,) = report["differences"]
    assert d["pass@k"]["pass@1"]["difference"] == pytest.approx(
        summary["multi"]["pass_rate"] - summary["single"]["pass_rate"])


def test_tasks_of_one_sample_are_left_out_of_diversity(tmp_path: Path) -> None:
    """A greedy run (one sample per task) reported distinct fraction 1.000 and mean edit distance
    0.000 for every task, and averaged them into the run's means beside the measured tasks."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    rows = [("t1", "    return 1\n", True), ("t1", "    return 2\n", False), ("t2", "    return 3\n", True)]
    many = tmp_path / "many_results.jsonl"
    many.write_text("".join(json.dumps({"task_id": t, "completion": c, "passed": ok}) + "\n" for t, c, ok in rows))
    greedy = tmp_path / "greedy_results.jsonl"
    greedy.write_text("".join(json.dumps({"task_id": t, "completion": c, "passed": ok}) + "\n" for t, c, ok in rows[1:]))
    with pytest.warns(UserWarning, match="many: t2 has only 1 sample, other problems up to 2"):
        data = build_report(ReportOptions(inputs=[many, greedy], out=tmp_path / "r"))
    t1 = data["diversity"]["many"]["tasks"]["t1"]
    assert t1["mean_edit_distance"] > 0  # t1 alone makes the first two means
    assert data["diversity"]["many"]["mean"] == {"distinct_fraction": 1.0, "mean_edit_distance": t1["mean_edit_distance"],
                                                 "distinct_passing": 1.0}
    assert data["diversity"]["greedy"]["mean"] == {"distinct_fraction": None, "mean_edit_distance": None,
                                                   "distinct_passing": 0.5}
    # the page says which means leave them out: it said all three, and greedy's distinct passing is 0.5
    assert ("left out of those two means and the correlation (its distinct passing, 0 or 1, is counted)"
            in (tmp_path / "r" / "report.html").read_text())
    rows = list(csv.DictReader((tmp_path / "r" / "diversity.csv").open()))
    assert [(r["run"], r["task"], r["distinct_fraction"]) for r in rows] == [
        ("many", "t1", "1.0"), ("many", "t2", ""), ("greedy", "t1", ""), ("greedy", "t2", "")]


def test_the_tables_take_the_k_asked_for(tmp_path: Path, report_inputs: dict[str, Path]) -> None:
    """Was: the tables and paired differences showed k = 1, 10, 100 only, so 8 samples per task
    showed pass@1 alone (and n = 50, the LintSeq experiment's, no pass@50)."""
    pytest.importorskip("matplotlib", reason="editseq report needs matplotlib: pip install 'editseq[report]'")
    from editseq.cli import main

    files = [str(report_inputs[name]) for name in ("codegen", "mixed")]
    assert main(["report", *files, "--out", str(tmp_path), "--k", "8,3,1"]) == 0
    data = json.loads((tmp_path / "report.json").read_text())
    summary = json.loads(report_inputs["mixed"].with_name("mixed_summary.json").read_text())
    counts = [(t["n"], t["c"]) for t in summary["tasks"].values()]
    table = data["passk"]["mixed"]["table"]
    assert list(table) == ["pass@1", "pass@3", "pass@8"]
    assert [table[f"pass@{k}"]["value"] for k in (1, 3, 8)] == [mean_pass_at_k(counts, k) for k in (1, 3, 8)]
    (d,) = data["differences"]
    assert set(d["pass@k"]) == {f"pass@{k}" for k in (1, 3, 8) if k <= data["passk"]["codegen"]["curve"]["n_min"]}
    assert "pass@3 (95% CI)" in (tmp_path / "report.html").read_text()
    assert main(["report", *files, "--out", str(tmp_path / "x"), "--k", "0,1"]) == 2


def _evaluated(samples: Path, rows: list[dict], shared_data: Path, *flags: str) -> Path:
    """``rows`` run through the real ``editseq evaluate``; returns the results file."""
    from editseq.cli import main

    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.warns(UserWarning, match="have no samples"):
        assert main(["evaluate", str(samples), "--data", str(shared_data), *flags, "--k", "1",
                     "--workers", "1", "--no-cache", "--no-progress"]) == 0
    return samples.with_name(samples.stem + "_results.jsonl")


@pytest.mark.filterwarnings("ignore:.*judged under different settings")  # --stop, then --resolve-edits
def test_diversity_is_measured_on_the_programs_evaluate_ran(tmp_path: Path, shared_data: Path) -> None:
    """Was: diversity read the sample's text as written, so two completions that differ only
    after a stop sequence (cut off by --stop, never run) were two distinct programs. Results now
    carry ``executed_program``; older ones fall back to the text, and the report says which."""
    pytest.importorskip("matplotlib")
    from editseq.benchmarks import load_benchmark
    from editseq.lintseq.diffs import DIFF_TOKEN, edit_path_from_steps
    from editseq.report.build import ReportOptions, build_report

    p = load_benchmark("humaneval", shared_data).problems["HumanEval/0"]
    good = p.canonical_solution[len(p.prompt):]
    cut = _evaluated(tmp_path / "cut.jsonl", [{"task_id": "HumanEval/0", "completion": good},
                                              {"task_id": "HumanEval/0", "completion": good + "\ndef junk():\n    return 1\n"}],
                     shared_data, "--stop")
    # one program written in two orders: its helper first, or its entry point first
    lines = ["def _frac(x):", "    return x % 1.0", "", "", "def truncate_number(number: float) -> float:",
             "    return _frac(number)"]
    orders = ([[0, 1], [4, 5]], [[4, 5], [0, 1]])
    edits = _evaluated(tmp_path / "edits.jsonl", [
        {"task_id": "HumanEval/2", "completion": f"\n{DIFF_TOKEN}".join(edit_path_from_steps(lines, steps))}
        for steps in orders], shared_data, "--resolve-edits")
    old = tmp_path / "old_results.jsonl"  # results written before evaluate recorded the program
    old.write_text("".join(json.dumps({k: v for k, v in json.loads(line).items() if k != "executed_program"}) + "\n"
                           for line in cut.read_text().splitlines()))
    with pytest.warns(UserWarning, match="different problems"):
        data = build_report(ReportOptions(inputs=[cut, edits, old], out=tmp_path / "r"))["diversity"]
    assert data["cut"]["tasks"]["HumanEval/0"]["distinct"] == 1
    assert data["cut"]["measured"] == {"executed_program": 2}
    assert data["edits"]["tasks"]["HumanEval/2"]["distinct"] == 1
    assert data["edits"]["tasks"]["HumanEval/2"]["distinct_passing"] == 1
    assert data["old"]["tasks"]["HumanEval/0"]["distinct"] == 2
    assert data["old"]["measured"] == {"completion": 2}
    assert "measured on" in (tmp_path / "r" / "report.html").read_text()


@pytest.mark.parametrize("order", [1, -1])
def test_a_label_never_names_two_series(tmp_path: Path, order: int) -> None:
    """Was: an MTPB run "m" of both modes gives series "m (multi-turn)" and "m (single-turn)",
    so a run labelled "m (multi-turn)" silently overwrote (or was overwritten by) one of them."""
    from editseq.report.build import ReportOptions, compute, load_runs

    both, multi = tmp_path / "both.jsonl", tmp_path / "multi.jsonl"
    for path, modes in ((both, ("multi", "single")), (multi, ("multi",))):
        path.write_text("".join(json.dumps({"problem_id": "1", "case": c, "mode": m, "passed": c == 0 or path == multi})
                                + "\n" for c in range(2) for m in modes))
    inputs, labels = [both, multi][::order], ["m", "m (multi-turn)"][::order]
    opts = ReportOptions(inputs=inputs, out=tmp_path / "r", labels=",".join(labels))
    runs = load_runs(opts.inputs, opts)
    data = compute(runs, opts)
    assert len(data["passk"]) == 3, sorted(data["passk"])
    by_path = {r.path.name: r.label for r in runs}
    # the later of the two gives way, as a repeated label does
    assert by_path == ({"both.jsonl": "m", "multi.jsonl": "m (multi-turn) (2)"} if order == 1
                       else {"both.jsonl": "m (2)", "multi.jsonl": "m (multi-turn)"})
    assert data["passk"][by_path["multi.jsonl"]]["table"]["pass@1"]["value"] == 1.0
    assert data["passk"][f"{by_path['both.jsonl']} (multi-turn)"]["table"]["pass@1"]["value"] == 0.5


@pytest.mark.filterwarnings("ignore:a, b are one file's records")  # one run given twice, for two runs
def test_a_k_the_samples_do_not_allow_is_named(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: one problem with fewer samples (a partial results file) cut the whole run's curve and
    its pass@k table to that problem's count without a word, and a --k beyond every run's samples
    printed an empty table."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    rows = [json.loads(line) for line in report_inputs["mixed"].read_text().splitlines()]
    last = rows[-1]["task_id"]
    partial = tmp_path / "partial_results.jsonl"
    partial.write_text("".join(json.dumps(r) + "\n" for r in rows[:-5]))
    note = f"partial: {last} has only 3 samples, other problems up to 8: its pass@k stops at k = 3 (pass@5 not shown)"
    with pytest.warns(UserWarning, match=re.escape(note)), \
            pytest.warns(UserWarning, match="diversity is measured on different numbers of samples"):
        build_report(ReportOptions(inputs=[report_inputs["mixed"], partial], out=tmp_path / "r", k="1,5"))
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert [n for n in data["notes"] if "stops at" in n] == [note]  # the full run, which has pass@5, gets none
    assert list(data["passk"]["partial"]["table"]) == ["pass@1"]
    assert list(data["passk"]["mixed"]["table"]) == ["pass@1", "pass@5"]
    assert note in (tmp_path / "r" / "report.html").read_text()
    # with no k asked for lost, the curve still stops at 3: said too (was: nothing)
    with pytest.warns(UserWarning, match="stops at k = 3"):
        build_report(ReportOptions(inputs=[partial], out=tmp_path / "r1", k="1"))
    assert [n for n in json.loads((tmp_path / "r1" / "report.json").read_text())["notes"] if "stops at" in n] == \
        [note.removesuffix(" (pass@5 not shown)")]
    with pytest.warns(UserWarning, match=re.escape("mixed: 8 samples per problem, too few for pass@50")):
        build_report(ReportOptions(inputs=[report_inputs["mixed"]], out=tmp_path / "r2", k="50"))
    # two runs and no k within their samples: no empty line of differences (was "a - b (...): ")
    with pytest.warns(UserWarning, match="too few for pass@50"):
        data = build_report(ReportOptions(inputs=[report_inputs["mixed"], report_inputs["mixed"]],
                                          out=tmp_path / "r3", k="50", labels="a,b"))
    assert data["differences"] == []


def test_a_k_beyond_the_samples_beside_one_within_is_named(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: --k 1,50 on 8 samples per problem gave a table of pass@1 alone, without a word about
    pass@50 (a note came only when no k of --k was left to show)."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    note = "mixed: 8 samples per problem, too few for pass@50 (not shown)"
    with pytest.warns(UserWarning, match=re.escape(note)):
        data = build_report(ReportOptions(inputs=[report_inputs["mixed"]], out=tmp_path / "r", k="1,50"))
    assert list(data["passk"]["mixed"]["table"]) == ["pass@1"] and note in data["notes"]
    # the default k (1, 10, 100) are a wish, not a request: no note for what 8 samples cannot give
    build_report(ReportOptions(inputs=[report_inputs["mixed"]], out=tmp_path / "r1"))
    assert not [n for n in json.loads((tmp_path / "r1" / "report.json").read_text())["notes"] if "too few" in n]


def test_runs_of_different_benchmarks_are_drawn_and_compared_apart(report_inputs: dict[str, Path], shared_data: Path,
                                                                  tmp_path: Path) -> None:
    """Was: HumanEval and HumanEval+ results of one samples file (one task_id set) were paired as
    two models on one benchmark, and every run's curve, MTPB's too, shared one pass@k figure."""
    pytest.importorskip("matplotlib")
    from editseq.cli import main

    samples = report_inputs["mixed"].with_name("mixed.jsonl")
    with pytest.warns(UserWarning, match="have no samples"):
        assert main(["evaluate", str(samples), "--benchmark", "humaneval+", "--data", str(shared_data),
                     "--k", "1", "--out-dir", str(tmp_path / "plus"), "--workers", "1", "--no-progress"]) == 0
    plus = tmp_path / "plus" / "mixed_results.jsonl"
    files = [report_inputs["mixed"], plus, report_inputs["mtpb"]]
    with pytest.warns(UserWarning, match=re.escape(
            "these runs are on different benchmarks (humaneval: mixed; humaneval+: mixed (2); mtpb: mtpb)")):
        assert main(["report", *map(str, files), "--out", str(tmp_path / "r"), "--labels", "mixed,mixed,mtpb"]) == 0
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert [r["benchmark"] for r in data["runs"]] == ["humaneval", "humaneval+", "mtpb"]
    assert {label: v["benchmark"] for label, v in data["passk"].items()} == {
        "mixed": "humaneval", "mixed (2)": "humaneval+", "mtpb (multi-turn)": "mtpb", "mtpb (single-turn)": "mtpb"}
    assert [(d["a"], d["b"]) for d in data["differences"]] == [("mtpb (multi-turn)", "mtpb (single-turn)")]
    assert data["per_problem"]["differences"] == []  # nor "solved on HumanEval, never on HumanEval+"
    assert [name for name in data["figures"] if name.startswith("passk")] == ["passk", "passk_1", "passk_2"]
    html = (tmp_path / "r" / "report.html").read_text()
    assert all(f'id="fig-{name}"' in html for name in ("passk", "passk_1", "passk_2"))
    assert "<th>benchmark</th>" in html.split("<h2>")[0]  # the runs table names each file's
    assert f"<td>mixed (2)</td><td>results</td><td>humaneval+</td><td>32</td><td>{plus}</td>" in html


def _first_samples(results: Path, n: int, out: Path) -> Path:
    """``results`` cut to the first ``n`` samples of each task, written to ``out``."""
    seen: dict[str, int] = {}
    with out.open("w") as fh:
        for r in map(json.loads, results.read_text().splitlines()):
            seen[r["task_id"]] = seen.get(r["task_id"], 0) + 1
            if seen[r["task_id"]] <= n:
                fh.write(json.dumps(r) + "\n")
    return out


def test_never_solved_in_fewer_samples_says_so(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: "solved by mixed, never by first4" read the same whether first4 drew as many samples of
    those problems or half as many (4 of mixed's 8, in which mixed passes 2)."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    first = _first_samples(report_inputs["mixed"], 4, tmp_path / "first4_results.jsonl")
    with pytest.warns(UserWarning, match="diversity is measured on different numbers of samples"):
        build_report(ReportOptions(inputs=[report_inputs["mixed"], first], out=tmp_path / "r", k="1"))
    differences = json.loads((tmp_path / "r" / "report.json").read_text())["per_problem"]["differences"]
    assert differences == [
        {"solved_by": "mixed", "not_by": "first4", "problems": ["HumanEval/1", "HumanEval/3"],
         "fewer_samples": {"HumanEval/1": {"solved_by": 8, "not_by": 4}, "HumanEval/3": {"solved_by": 8, "not_by": 4}}},
        {"solved_by": "first4", "not_by": "mixed", "problems": [], "fewer_samples": {}}]
    assert ('<td><a href="#problem-HumanEval-1">HumanEval/1</a> (never in 4 samples; mixed drew 8), '
            '<a href="#problem-HumanEval-3">HumanEval/3</a> (never in 4 samples; mixed drew 8)</td>'
            in (tmp_path / "r" / "report.html").read_text())


def test_diversity_over_different_sample_counts_is_noted(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: the first 10 of CodeGen's 100 samples per HumanEval task showed 0.82 distinct against
    0.65 for all 100, side by side, as if the samples of one model were two models' diversity."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    first = _first_samples(report_inputs["mixed"], 4, tmp_path / "first4_results.jsonl")
    note = "diversity is measured on different numbers of samples per problem (mixed: 8, first4: 4)"
    with pytest.warns(UserWarning, match=re.escape(note)):
        build_report(ReportOptions(inputs=[report_inputs["mixed"], first], out=tmp_path / "r", k="1"))
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert any(n.startswith(note) for n in data["notes"])
    assert note in (tmp_path / "r" / "report.html").read_text()


def test_a_report_into_an_old_report_folder_leaves_none_of_its_figures(report_inputs: dict[str, Path],
                                                                        tmp_path: Path) -> None:
    """Was: figures/ kept the figures of the report written there before (its LintSeq histograms,
    MTPB bars) beside the new report's, as if they were the new report's."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    out = tmp_path / "r"
    with pytest.warns(UserWarning):
        build_report(ReportOptions(inputs=[report_inputs[name] for name in ("mixed", "mtpb", "lintseq")], out=out))
    assert {p.stem for p in (out / "figures").glob("*.png")} >= {"passk_1", "mtpb", "lintseq_0"}
    (out / "figures" / "mine.png").write_bytes(b"not the report's")
    build_report(ReportOptions(inputs=[report_inputs["mixed"]], out=out))
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "diversity.png", "diversity.svg", "mine.png", "passk.png", "passk.svg", "per_problem.png", "per_problem.svg"]


def test_runs_of_one_file_name_are_told_apart_by_benchmark_or_folder(report_inputs: dict[str, Path],
                                                                      tmp_path: Path) -> None:
    """Was: "s" and "s (2)", so a reader had to match paths to know which run was which."""
    pytest.importorskip("matplotlib")
    import shutil

    from editseq.report.build import ReportOptions, load_runs

    files = []
    for folder, benchmark in (("base", "humaneval"), ("sft", "humaneval"), ("plus", "humaneval+")):
        results = tmp_path / folder / "s_results.jsonl"
        results.parent.mkdir()
        shutil.copy(report_inputs["mixed"], results)
        (tmp_path / folder / "s_summary.json").write_text(json.dumps(
            {"results": str(results), "settings": {"benchmark": benchmark}}))
        files.append(results)
    labels = lambda paths: [r.label for r in load_runs(paths, ReportOptions(inputs=paths))]  # noqa: E731
    assert labels(files[:2]) == ["base/s", "sft/s"]  # one benchmark: by folder
    assert labels([files[0], files[2]]) == ["s [humaneval]", "s [humaneval+]"]  # by benchmark
    assert labels(files) == ["base/s", "sft/s", "plus/s"]  # benchmarks shared: by folder
    assert labels([files[0], files[0]]) == ["s", "s (2)"]  # nothing tells them apart: numbered


def test_the_default_table_gives_each_runs_pass_at_n(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: the default --k 1,10,100 showed a run of 8 samples per problem its pass@1 alone."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    data = build_report(ReportOptions(inputs=[report_inputs["mixed"]], out=tmp_path / "r"))
    table = data["passk"]["mixed"]["table"]
    assert list(table) == ["pass@1", "pass@8"]
    assert table["pass@8"]["value"] == data["passk"]["mixed"]["curve"]["pass@k"][-1]  # k = n, the curve's end
    explicit = build_report(ReportOptions(inputs=[report_inputs["mixed"]], out=tmp_path / "r2", k="1,5"))
    assert list(explicit["passk"]["mixed"]["table"]) == ["pass@1", "pass@5"]  # --k given: those alone


def test_a_run_of_part_of_its_benchmark_is_noted(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: a run of 4 of HumanEval's 164 tasks, alone, showed its pass@k under "humaneval" without
    a word that it is the mean over those 4 (its summary lists the 160 tasks without samples)."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    with pytest.warns(UserWarning, match=re.escape("mixed answers 4 of the 164 humaneval problems (no samples of "
                                                   "HumanEval/4, HumanEval/5, HumanEval/6, HumanEval/7, HumanEval/8 ...)")):
        data = build_report(ReportOptions(inputs=[report_inputs["mixed"]], out=tmp_path / "r"))
    (note,) = data["notes"]
    assert note.endswith("its pass@k is the mean over those 4, not the benchmark's")
    assert escape(note) in (tmp_path / "r" / "report.html").read_text()


def test_the_report_names_its_inputs_by_sha256_and_its_settings(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: the report named its inputs by path alone (a results file rewritten by a later
    evaluate kept its name) and the HTML did not say which --k or --max-pairs it was built with."""
    pytest.importorskip("matplotlib")
    from editseq.io.identity import file_sha256
    from editseq.report.build import ReportOptions, build_report

    files = [report_inputs["mixed"], report_inputs["lintseq"]]
    with pytest.warns(UserWarning, match="answers 4 of the 164"):
        data = build_report(ReportOptions(inputs=files, out=tmp_path / "r", k="1,2", max_pairs=5))
    assert [r["sha256"] for r in data["runs"]] == [file_sha256(f) for f in files]
    head = (tmp_path / "r" / "report.html").read_text().split("<h2>")[0]
    assert all(f"<td>{file_sha256(f)[:16]}</td>" in head for f in files)
    assert "report settings: --max-pairs 5, --viewer 3, --k 1,2;" in head


def test_mtpb_runs_with_and_without_fixed_are_compared_apart(shared_data: Path, tmp_path: Path) -> None:
    """Was: ``mtpb evaluate`` and ``mtpb evaluate --fixed`` of one file (other tests for the
    repaired problems) were both "mtpb": one figure, and their pass rates paired as two models'."""
    pytest.importorskip("matplotlib")
    from editseq.cli import main
    from editseq.mtpb import data

    bench = data.load(shared_data)
    rows = [{"problem_id": pid, "case": case, "mode": "multi",
             "completions": ["pass"] * (len(bench.problems[pid].prompts) - 1)
             + [f"print({bench.problems[pid].cases[case].output!r})" if case % 2 else "print('no')"]}
            for pid in ("1", "57") for case in range(5)]
    runs = tmp_path / "m.jsonl"
    runs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for fixed in ([], ["--fixed"]):
        with pytest.warns(UserWarning, match="problems have no runs"):
            assert main(["mtpb", "evaluate", str(runs), "--data", str(shared_data), "--no-cache", *fixed]) == 0
    files = [tmp_path / "m_results.jsonl", tmp_path / "m_fixed_results.jsonl"]
    with pytest.warns(UserWarning, match=re.escape("different benchmarks (mtpb: m; mtpb (fixed): m_fixed)")):
        assert main(["report", *map(str, files), "--out", str(tmp_path / "r")]) == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert [r["benchmark"] for r in report["runs"]] == ["mtpb", "mtpb (fixed)"]
    assert report["differences"] == []
    assert [name for name in report["figures"] if name.startswith("passk")] == ["passk", "passk_1"]
    # and each answers 2 of its benchmark's problems (fixed mode drops 38 and 46: 113)
    assert report["notes"][1:] == [
        "m answers 2 of the 115 mtpb problems (no samples of 2, 3, 4, 5, 6 ...): its pass@k is the mean over "
        "those 2, not the benchmark's",
        "m_fixed answers 2 of the 113 mtpb (fixed) problems (no samples of 2, 3, 4, 5, 6 ...): its pass@k is the "
        "mean over those 2, not the benchmark's"]


def test_runs_judged_under_different_settings_are_noted(report_inputs: dict[str, Path], shared_data: Path,
                                                        tmp_path: Path) -> None:
    """Was: the same samples judged with ``--stop`` and a 3 s timeout, and again without
    ``--stop`` under 5 s, were reported side by side with nothing saying that their pass@k differ
    by the judging too; the summaries record it, and the report now shows and notes it."""
    pytest.importorskip("matplotlib")
    from editseq.cli import main

    first = report_inputs["mixed"]
    samples = first.with_name("mixed.jsonl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "160 of 164 tasks have no samples"
        assert main(["evaluate", str(samples), "--data", str(shared_data), "--k", "1", "--timeout", "5",
                     "--no-cache", "--no-progress", "--out-dir", str(tmp_path / "again")]) == 0
    second = tmp_path / "again" / first.name
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # besides: each answers 4 of the 164 problems
        assert main(["report", str(first), str(second), "--out", str(tmp_path / "r")]) == 0
    label = f"{first.parent.name}/mixed"
    expected = (f"these humaneval runs were judged under different settings (stop: True ({label}), False (again/mixed); "
                f"timeout: 3.0 ({label}), 5.0 (again/mixed)): their pass@k differ by that")
    assert any(str(w.message).startswith(expected) for w in caught)
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    judged = [r["judged_under"] for r in report["runs"]]
    assert [(j["stop"], j["timeout"]) for j in judged] == [(True, 3.0), (False, 5.0)]
    assert judged[0]["data_sha256"] == judged[1]["data_sha256"] == file_sha256(shared_data / "humaneval" / "HumanEval.jsonl.gz")
    head = (tmp_path / "r" / "report.html").read_text().split("<h2>")[0]
    assert "--stop False" in head and "--timeout 5.0" in head


class _ProblemRows(HTMLParser):
    """The per-problem table's rows, each {"id", "href", "problem" (as shown), "sort" (the rate cells' data-sort)}."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "table":
            self._inside = attr.get("class") == "sortable"
        elif self._inside and tag == "tr" and "id" in attr:
            self.rows.append({"id": attr["id"], "problem": "", "sort": []})
        elif self._inside and self.rows and tag == "a":
            self.rows[-1]["href"] = attr["href"]
        elif self._inside and self.rows and tag == "td" and "data-sort" in attr:
            self.rows[-1]["sort"].append(attr["data-sort"])

    def handle_endtag(self, tag: str) -> None:
        self._inside = self._inside and tag != "table"

    def handle_data(self, data: str) -> None:
        if self._inside and self.rows and not self.rows[-1]["sort"]:
            self.rows[-1]["problem"] += data


def test_problem_rows_can_be_linked_to_and_sorted(tmp_path: Path) -> None:
    """Was: the per-problem table had no ids to link a problem to and could not be sorted; task
    ids with a slash, spaces, quotes or markup, and two that differ only there, each get a valid id."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    tasks = ["HumanEval/0", "HumanEval_0", 'say "hi" twice', "<b>x</b>", "///"]
    files = []
    for name, passing in (("a", tasks[:2]), ("b", tasks[2:])):
        files.append(tmp_path / f"{name}_results.jsonl")
        files[-1].write_text("".join(json.dumps({"task_id": t, "completion": f"    return {s}\n", "passed": t in passing and s == 0})
                                     + "\n" for t in tasks[: 4 if name == "b" else 5] for s in range(2)))
    with pytest.warns(UserWarning, match="these runs answer different problems"):
        build_report(ReportOptions(inputs=files, out=tmp_path / "r"))
    html = (tmp_path / "r" / "report.html").read_text()
    parser = _ProblemRows()
    parser.feed(html)
    assert [(row["id"], row["problem"]) for row in parser.rows] == [
        ("problem-", "///"), ("problem-b-x-b", "<b>x</b>"), ("problem-HumanEval-0", "HumanEval/0"),
        ("problem-HumanEval-0~2", "HumanEval_0"), ("problem-say-hi-twice", 'say "hi" twice')]
    assert all(row["href"] == f"#{row['id']}" for row in parser.rows)
    assert "<b>x</b>" not in html  # shown as text, not markup
    # each rate cell carries its rate for the sort; "" where the run did not attempt the problem
    assert [row["sort"] for row in parser.rows] == [["0.0", ""], ["0.0", "0.5"], ["0.5", "0.0"], ["0.5", "0.0"],
                                                    ["0.0", "0.5"]]
    assert "table.sortable" in html  # the script the table's headers sort with


def test_every_problem_solved_by_one_run_alone_is_on_the_page(tmp_path: Path) -> None:
    """Was: the "solved by A, never by B" table named the first 25 problems and " ...", so the
    rest (and any "never in n samples" among them) were in report.json alone. All are now
    links to their rows, those after the 25th folded."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    tasks = [f"T/{i}" for i in range(30)] + ["<b>x</b>"]
    files = []
    for name in ("a", "b"):
        files.append(tmp_path / f"{name}_results.jsonl")
        files[-1].write_text("".join(json.dumps({"task_id": t, "completion": f"    return {s}\n", "passed": name == "a"})
                                     + "\n" for t in tasks for s in range(2)))
    build_report(ReportOptions(inputs=files, out=tmp_path / "r"))
    html = (tmp_path / "r" / "report.html").read_text()
    which = html.split("<th>which</th>")[1].split("</table>")[0]
    inline, folded = which.split("<details><summary>6 more</summary>")
    link = re.compile(r'<a href="#([^"]+)">([^<]*)</a>')
    assert len(link.findall(inline)) == 25 and len(link.findall(folded)) == 6
    rows = _ProblemRows()
    rows.feed(html)
    ids = {row["problem"]: row["id"] for row in rows.rows}
    assert sorted((name, target) for target, name in link.findall(which)) == sorted((escape(t), ids[t]) for t in tasks)
    assert "<b>x</b>" not in html


def test_the_default_table_gives_every_run_each_others_pass_at_n(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: beside a run of 4 samples per problem, whose pass@4 made a column, a run of 8 left that
    column blank, as if its samples were too few (CodeGen's 50 samples per problem showed no pass@5
    beside a run of 5)."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    first = _first_samples(report_inputs["mixed"], 4, tmp_path / "first4_results.jsonl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # diversity over different sample counts, tested on its own
        data = build_report(ReportOptions(inputs=[report_inputs["mixed"], first], out=tmp_path / "r"))
    mixed = data["passk"]["mixed"]
    assert list(mixed["table"]) == ["pass@1", "pass@4", "pass@8"]
    assert list(data["passk"]["first4"]["table"]) == ["pass@1", "pass@4"]  # no pass@8 of 4 samples
    summary = json.loads(report_inputs["mixed"].with_name("mixed_summary.json").read_text())
    counts = [(t["n"], t["c"]) for t in summary["tasks"].values()]
    assert mixed["table"]["pass@4"]["value"] == pytest.approx(mean_pass_at_k(counts, 4))
    html = (tmp_path / "r" / "report.html").read_text()
    row = re.search(r"<tr><td>mixed</td>.*?</tr>", html).group(0)
    assert "<td></td>" not in row


def test_equal_runs_differ_by_zero_not_minus_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Was: CodeGen's 100 samples per problem against their first 50, of equal pass@1 on the 40
    problems both answer, differed by "-0.0 [-1.1, +1.1]": pass@1 of 4 in 8 and 2 in 4 differ by a
    float error (-1e-16), shown with its sign."""
    pytest.importorskip("matplotlib")
    from editseq.cli import main

    files = []
    for name, n in (("eight", 8), ("four", 4)):
        files.append(tmp_path / f"{name}_results.jsonl")
        files[-1].write_text("".join(json.dumps({"task_id": t, "completion": f"    return {s}\n", "passed": s < n // 2})
                                     + "\n" for t in ("T/0", "T/1") for s in range(n)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # diversity over different sample counts, tested on its own
        assert main(["report", *map(str, files), "--out", str(tmp_path / "r")]) == 0
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert data["differences"][0]["pass@k"]["pass@1"]["difference"] <= 0  # the float error the page hides
    assert "-0.0" not in (tmp_path / "r" / "report.html").read_text()
    assert "eight - four (2 shared problems, points, paired 95% CI): pass@1 +0.0 [+0.0, +0.0]" in capsys.readouterr().out


def test_one_file_given_as_two_runs_is_noted(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: a run's results and its summary (or one file given twice) were shown as two runs that
    agree to the last digit ("mixed - mixed (2): +0.0 [+0.0, +0.0]") without a word."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    summary = report_inputs["mixed"].with_name("mixed_summary.json")
    note = f"mixed, mixed (2) are one file's records (sha256 {file_sha256(report_inputs['mixed'])[:16]})"
    with pytest.warns(UserWarning, match=re.escape(note)):
        data = build_report(ReportOptions(inputs=[summary, report_inputs["mixed"]], out=tmp_path / "r"))
    assert any(n.startswith(note) for n in data["notes"])
    assert escape(note) in (tmp_path / "r" / "report.html").read_text()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_report(ReportOptions(inputs=[report_inputs["mixed"], report_inputs["codegen"]], out=tmp_path / "r2"))
    assert not [w for w in caught if "one file's records" in str(w.message)]  # different records: no such note


def test_one_sample_is_not_said_in_the_plural(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: a greedy run (CodeGen's first sample of each problem) was "1 samples per problem, too few
    for pass@5" and its problems "never in 1 samples"."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    first = _first_samples(report_inputs["mixed"], 1, tmp_path / "first1_results.jsonl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = build_report(ReportOptions(inputs=[report_inputs["mixed"], first], out=tmp_path / "r", k="1,5"))
    assert "first1: 1 sample per problem, too few for pass@5 (not shown)" in data["notes"]
    html = (tmp_path / "r" / "report.html").read_text()
    assert "(never in 1 sample; mixed drew 8)" in html
    assert "1 samples" not in html


def test_the_heatmap_of_a_whole_benchmark_is_shown_at_its_size(tmp_path: Path) -> None:
    """Was: the solve-rate figure of 164 problems was 16 inches (1,760 px) wide, so the page (1,100 px
    wide) scaled it, and its run labels, to 62%."""
    pytest.importorskip("matplotlib")
    import struct

    from editseq.report.build import ReportOptions, build_report

    files = []
    for name in ("base", "lintseq"):
        files.append(tmp_path / f"{name}_results.jsonl")
        files[-1].write_text("".join(json.dumps({"task_id": f"HumanEval/{t}", "completion": f"    return {s}\n",
                                                 "passed": (t * len(name) + s) % 5 == 0}) + "\n" for t in range(164) for s in range(2)))
    build_report(ReportOptions(inputs=files, out=tmp_path / "r"))
    png = (tmp_path / "r" / "figures" / "per_problem.png").read_bytes()
    width, _ = struct.unpack(">II", png[16:24])  # IHDR
    page = int(re.search(r"max-width:(\d+)px", (tmp_path / "r" / "report.html").read_text()).group(1))
    assert width <= page


def test_runs_sharing_one_problem_say_why_they_have_no_difference(report_inputs: dict[str, Path], tmp_path: Path) -> None:
    """Was: two runs of one problem (CodeGen's samples of HumanEval/0, 8 and 4 of them) had no
    "Differences between runs" on the page, and nothing said why."""
    pytest.importorskip("matplotlib")
    from editseq.report.build import ReportOptions, build_report

    rows = [r for r in map(json.loads, report_inputs["codegen"].read_text().splitlines()) if r["task_id"] == "HumanEval/0"]
    files = []
    for name, n in (("eight", 8), ("four", 4)):
        files.append(tmp_path / f"{name}_results.jsonl")
        files[-1].write_text("".join(json.dumps(r) + "\n" for r in rows[:n]))
    why = "None: a paired difference needs two runs of one benchmark that share at least two problems"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert build_report(ReportOptions(inputs=files, out=tmp_path / "r"))["differences"] == []
        build_report(ReportOptions(inputs=files[:1], out=tmp_path / "r1"))
    assert why in (tmp_path / "r" / "report.html").read_text()
    assert "Differences between runs" not in (tmp_path / "r1" / "report.html").read_text()  # one run: nothing to pair
