"""What the figures draw, read back from the matplotlib objects."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("matplotlib", reason="editseq report needs matplotlib: pip install 'editseq[report]'")

from editseq.report import figures


def test_a_category_a_run_did_not_answer_has_no_bar() -> None:
    """Was: a 0% bar, which reads as every run of that category failing."""
    fig = figures.mtpb_figure({"a": {"math": {"multi": {"pass_rate": 0.5, "n": 2}}},
                               "b": {"string": {"multi": {"pass_rate": 1.0, "n": 1}}}})
    a, b = fig.axes[0].containers
    assert a[0].get_height() == 50.0 and math.isnan(a[1].get_height())
    assert math.isnan(b[0].get_height()) and b[1].get_height() == 100.0


def test_the_interval_of_a_single_k_is_drawn_as_a_bar() -> None:
    """Was: a band over one k has no width, so the interval the title announces was not seen."""
    curve = {"k": [1], "pass@k": [0.5], "ci95": [[0.25, 0.75]], "tokens": None}
    (bar,) = figures.passk_figure({"a": curve}).axes[0].containers
    (segments,) = bar.lines[2]
    assert segments.get_segments()[0].tolist() == [[1.0, 25.0], [1.0, 75.0]]


def test_a_run_that_never_passes_is_not_drawn_at_hundredths_of_a_percent() -> None:
    """Was: pass@k 0 at every k drew a y axis of 0.00-0.05%, as if there were something to resolve."""
    curve = {"k": [1, 2, 4], "pass@k": [0.0, 0.0, 0.0], "ci95": [[0.0, 0.0]] * 3, "tokens": None}
    assert figures.passk_figure({"a": curve}).axes[0].get_ylim()[1] == 5
    high = {"k": [1, 2], "pass@k": [0.5, 0.8], "ci95": [[0.4, 0.6], [0.7, 0.9]], "tokens": None}
    low, top = figures.passk_figure({"b": high}).axes[0].get_ylim()
    assert -2 < low < 0 and 90 <= top < 100  # a scored run keeps its own range


def _shown(ticks: list[float], lim: tuple[float, float]) -> list[float]:
    return [t for t in ticks if lim[0] <= t <= lim[1]]


@pytest.mark.parametrize(("x", "at"), [("k", 1.0), ("tokens", 250.0)])
def test_a_single_k_is_the_one_tick(x: str, at: float) -> None:
    """Was: a run of one sample per problem (k = 1 alone) had the log axis's 0.1 and 10 ticked
    beside it, as if pass@0.1 were drawn."""
    curve = {"k": [1], "pass@k": [0.5], "ci95": [[0.25, 0.75]], "tokens": [250.0]}
    ax = figures.passk_figure({"a": curve, "b": {**curve, "pass@k": [0.3]}}, x=x).axes[0]
    assert _shown(ax.get_xticks(), ax.get_xlim()) == [at]
    assert _shown(ax.get_xticks(minor=True), ax.get_xlim()) == []
    assert ax.xaxis.get_major_formatter()(at, 0) == f"{at:g}"
    many = {"k": [1, 2, 4, 8, 16], "pass@k": [0.5] * 5, "ci95": [[0.25, 0.75]] * 5, "tokens": None}
    ax = figures.passk_figure({"a": many}).axes[0]
    assert _shown(ax.get_xticks(), ax.get_xlim()) == [1.0, 10.0]  # more k: the decades, as before


def test_a_run_of_one_problem_is_not_titled_with_an_interval(report_inputs: dict, tmp_path) -> None:
    """Was: the figure of a run of one problem, which has no interval over problems, was titled
    "(95% bootstrap CI over problems)" all the same."""
    import json

    from editseq.report.build import ReportOptions, build_report

    one = tmp_path / "one_results.jsonl"
    rows = [r for r in map(json.loads, report_inputs["mixed"].read_text().splitlines()) if r["task_id"] == "HumanEval/0"]
    one.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = build_report(ReportOptions(inputs=[one], out=tmp_path / "r"))
    curves = {label: v["curve"] for label, v in data["passk"].items()}
    title = figures.passk_figure(curves).axes[0].get_title()
    assert "CI" not in title and "one problem: no interval" in title
    with_ci = figures.passk_figure({**curves, "all": {**curves["one"], "ci95": [[0.1, 0.9]] * len(curves["one"]["k"])}})
    assert with_ci.axes[0].get_title().endswith("(95% bootstrap CI over problems)")  # where any run has one


@pytest.mark.filterwarnings("ignore:.* problems \\(no samples of .*its pass@k is the mean over those")
def test_the_legend_covers_no_curve(report_inputs: dict, tmp_path) -> None:
    """Was: matplotlib's "best" place put the legend of a run at 100% from k = 4 on (CodeGen's 10
    samples of HumanEval/0) over that line, its handle drawn on the curve; the legend is now beside
    the plot, where no curve or band can be."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from editseq.report.build import ReportOptions, build_report

    data = build_report(ReportOptions(inputs=[report_inputs["codegen"], report_inputs["mixed"]], out=tmp_path / "r"))
    fig = figures.passk_figure({label: v["curve"] for label, v in data["passk"].items()})
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    assert not ax.get_legend().get_window_extent().overlaps(ax.get_window_extent())


@pytest.mark.filterwarnings("ignore:.* problems \\(no samples of .*its pass@k is the mean over those")
def test_the_diversity_legend_covers_no_point(report_inputs: dict, tmp_path) -> None:
    """Was: matplotlib's "best" place put the legend of the diversity scatter over its points
    (CodeGen's 164 HumanEval problems, where no corner is empty); it is now beside the plot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from editseq.report.build import ReportOptions, build_report

    data = build_report(ReportOptions(inputs=[report_inputs["codegen"], report_inputs["mixed"]], out=tmp_path / "r"))
    points = {label: [(t["distinct_fraction"], t["gain"]) for t in d["tasks"].values()]
              for label, d in data["diversity"].items()}
    fig = figures.diversity_figure(points)
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    assert not ax.get_legend().get_window_extent().overlaps(ax.get_window_extent())


@pytest.mark.filterwarnings("ignore:.* problems \\(no samples of .*its pass@k is the mean over those")
def test_a_run_at_zero_is_drawn_above_the_axis(report_inputs: dict, tmp_path) -> None:
    """Was: the y axis began at 0, so a run that never passes (the README's 135M model; CodeGen's
    prompts answered with ``raise ValueError``) lay on the x axis, its markers cut in half and its
    line hidden under the axis line."""
    import json

    from editseq.report.build import ReportOptions, build_report

    never = tmp_path / "never_results.jsonl"
    rows = [{**r, "passed": False, "status": "failed"} for r in map(json.loads, report_inputs["mixed"].read_text().splitlines())]
    never.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = build_report(ReportOptions(inputs=[report_inputs["mixed"], never], out=tmp_path / "r"))
    assert set(data["passk"]["never"]["curve"]["pass@k"]) == {0.0}
    for curves in ({label: v["curve"] for label, v in data["passk"].items()}, {"never": data["passk"]["never"]["curve"]}):
        low, top = figures.passk_figure(curves).axes[0].get_ylim()
        assert low < 0 and -low < 0.05 * top  # 0 a little above the axis line, not below much of the plot


@pytest.mark.filterwarnings("ignore:.* problems \\(no samples of .*its pass@k is the mean over those")
def test_more_runs_than_colours_are_told_apart(report_inputs: dict, tmp_path) -> None:
    """Was: matplotlib's 10 colours came round again, so the 11th run's curve and legend entry were
    the 1st's (a dozen checkpoints; 6 MTPB runs, two modes each)."""
    from editseq.report.build import ReportOptions, build_report

    curve = build_report(ReportOptions(inputs=[report_inputs["mixed"]], out=tmp_path / "r"))["passk"]["mixed"]["curve"]
    ax = figures.passk_figure({f"checkpoint {i}": curve for i in range(12)}).axes[0]
    styles = [(line.get_color(), line.get_linestyle(), line.get_marker()) for line in ax.get_legend().get_lines()]
    assert len(set(styles)) == 12


@pytest.mark.filterwarnings("ignore:.* problems \\(no samples of .*its pass@k is the mean over those")
def test_more_runs_than_colours_are_told_apart_in_the_diversity_scatter(report_inputs: dict, tmp_path) -> None:
    """Was: as on the pass@k figure, the 11th run's points and legend entry were the 1st's."""
    from editseq.report.build import ReportOptions, build_report

    tasks = build_report(ReportOptions(inputs=[report_inputs["mixed"]], out=tmp_path / "r"))["diversity"]["mixed"]["tasks"]
    points = [(t["distinct_fraction"], t["gain"]) for t in tasks.values()]
    ax = figures.diversity_figure({f"checkpoint {i}": points for i in range(12)}).axes[0]
    styles = {(tuple(c.get_facecolor()[0]), c.get_paths()[0].vertices.tobytes()) for c in ax.collections}
    assert len(styles) == 12


def test_more_mtpb_series_than_colours_are_told_apart() -> None:
    """Was: 6 runs' bars, multi- and single-turn each (12 series), came round to the 1st colours and
    hatches, so the 11th series' bars and legend entry were the 1st's; and the legend stood inside
    the plot, over bars reaching 100%."""
    tables = {f"checkpoint {i}": {"math": {"multi": {"pass_rate": 1.0, "n": 1}, "single": {"pass_rate": 0.5, "n": 1}}}
              for i in range(6)}
    ax = figures.mtpb_figure(tables).axes[0]
    handles = ax.get_legend().legend_handles
    assert len({(tuple(h.get_facecolor()), h.get_hatch()) for h in handles}) == 12
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.bbox.x1 - 1  # beside the plot
