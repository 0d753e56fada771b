"""The report's figures (matplotlib), each written as PNG (embedded in the HTML) and SVG.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot: no global
state, no display backend, so reports can be made from worker threads and headless machines.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

STYLE = {"marker": "o", "markersize": 3, "linewidth": 1.6}


def verbatim() -> Any:
    """A context in which figures are built and saved with every text shown as it is: ``$`` would
    start mathtext, so a run label, task id, MTPB category or dataset name like ``m_$1_$2`` ended
    the report with a parse error. Tick labels are made while saving, so saving happens inside too."""
    return matplotlib.rc_context({"text.parse_math": False})


def save(fig: Figure, folder: Path, name: str) -> Path:
    """Write ``name.png`` and ``name.svg`` into ``folder``; returns the PNG path."""
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / f"{name}.png"
    fig.savefig(png, dpi=110, bbox_inches="tight")
    fig.savefig(folder / f"{name}.svg", bbox_inches="tight")
    return png


def _text(label: str) -> str:
    """A legend entry shown as it is: a legend leaves out labels starting with ``_``."""
    return "\u200b" + label if label.startswith("_") else label


def passk_figure(curves: dict[str, dict[str, Any]], x: str = "k", on: str | None = None) -> Figure:
    """pass@k against k (or total sampled tokens), log-x, one line per run, as in the paper,
    shaded by its 95% bootstrap interval over problems (a bar where a run has one k); ``on``
    names the benchmark in the title (where a report has several)."""
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    drawn: set[float] = set()
    for n, (label, curve) in enumerate(curves.items()):
        xs = curve["k"] if x == "k" else curve["tokens"]
        drawn.update(xs)
        (line,) = ax.plot(xs, [100 * v for v in curve["pass@k"]], label=_text(label), **STYLE,
                          linestyle=("-", "--", ":", "-.")[_colour_round(n)])
        if all(curve["ci95"]) and len(xs) > 1:
            ax.fill_between(xs, *([100 * ci[i] for ci in curve["ci95"]] for i in (0, 1)),
                            color=line.get_color(), alpha=0.15, linewidth=0)
        elif all(curve["ci95"]):  # one k (one sample per problem): a band of no width is not seen
            y, (low, high) = 100 * curve["pass@k"][0], curve["ci95"][0]
            ax.errorbar(xs, [y], yerr=[[y - 100 * low], [100 * high - y]], color=line.get_color(), capsize=4)
    ax.set_xscale("log")
    _plain_log_ticks(ax)
    if all(len(curve["k"]) == 1 for curve in curves.values()):
        # one k (one sample per problem): the log axis ticked the decades around k = 1, a stray
        # 0.1 and 10 that are no k drawn; the one tick is that k (or its tokens)
        ax.set_xticks(sorted(drawn))
        ax.set_xticks([], minor=True)
    ax.set_xlabel("k (samples per problem)" if x == "k" else "total sampled tokens (FLOPs proxy)")
    ax.set_ylabel("pass@k (%)")
    # at least 0-5%: a run at 0% everywhere (the README's 135M model) got an axis of 0.00-0.05%;
    # 0 a little above the axis line, on which such a run lay hidden, its markers cut in half
    top = max(ax.get_ylim()[1], 5)
    ax.set_ylim(-0.02 * top, top)
    ax.grid(True, which="both", alpha=0.3)
    _legend_beside(ax)
    # a run of one problem has no interval over problems: the title claimed one all the same
    shaded = any(all(curve["ci95"]) for curve in curves.values())
    ax.set_title("pass@k" + (f" on {on}" if on else "") + (" vs inference cost" if x == "tokens" else "")
                 + (" (95% bootstrap CI over problems)" if shaded else " (one problem: no interval)"))
    return fig


def _colour_round(n: int) -> int:
    """How often the colour cycle has come round by the ``n``-th run: its 10 colours come round
    again, and the 11th run's curve or points were the 1st's (a dozen checkpoints), so each round
    gets its own line style or marker."""
    return n // len(matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]) % 4


def _legend_beside(ax: Any) -> None:
    """The legend to the right of the plot: matplotlib's "best" place inside it put the handle on a
    pass@k curve at 100% (one easy problem), and on the diversity scatter, whose corners are seldom
    empty, over its points."""
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)


def _plain_log_ticks(ax: Any) -> None:
    """Label a log axis 1, 2, 5, 10, ... rather than 2x10^0 (k is a count); minor ticks get
    labels only where they cannot crowd the decades (2 to 8 within a decade, 2 and 5 within
    a few)."""
    from matplotlib.ticker import FuncFormatter

    low, high = ax.get_xlim()
    span = high / max(low, 1e-9)
    keep = set(range(2, 9)) if span <= 12 else {2, 5} if span < 120 else set()

    def minor(value: float, _: int) -> str:
        lead = round(value / 10 ** math.floor(math.log10(value))) if value > 0 else 0
        return f"{value:g}" if lead in keep else ""

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(minor))


def heatmap_figure(rates: dict[str, dict[str, float]], labels: list[str]) -> Figure:
    """Solve rate per problem (columns) and run (rows); grey where a run did not attempt it."""
    import numpy as np

    problems = list(rates)
    grid = np.full((len(labels), len(problems)), np.nan)
    for j, p in enumerate(problems):
        for i, label in enumerate(labels):
            grid[i, j] = rates[p].get(label, np.nan)
    # at most 9.5 inches, labels inside (1,067 px with save's margins; the page is 1,100 px wide): a
    # wider figure (16 inches for HumanEval's 164 problems) was scaled down with its run labels
    width = min(9.5, max(5.0, 0.12 * len(problems) + 2.5))
    fig = Figure(figsize=(width, 1.0 + 0.45 * len(labels)), layout="constrained")
    ax = fig.add_subplot()
    ax.set_facecolor("#dddddd")
    image = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap="viridis", vmin=0, vmax=1,
                      interpolation="nearest")
    ax.set_yticks(range(len(labels)), labels)
    if len(problems) <= 40:
        ax.set_xticks(range(len(problems)), problems, rotation=90, fontsize=7)
    else:
        ax.set_xlabel(f"{len(problems)} problems (in id order)")
        ax.set_xticks([])
    fig.colorbar(image, ax=ax, label="solve rate", fraction=0.03)
    ax.set_title("solve rate per problem")
    return fig


def mtpb_figure(tables: dict[str, dict[str, dict[str, dict[str, float]]]]) -> Figure:
    """MTPB pass rate by category, one bar per (run, mode): CodeGen's multi- vs single-turn table."""
    categories = sorted({c for table in tables.values() for c in table})
    series = [(label, mode) for label, table in tables.items()
              for mode in sorted({m for cells in table.values() for m in cells})]
    fig = Figure(figsize=(max(6.0, 0.9 * len(categories) + 2), 4.0))
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(series))
    for s, (label, mode) in enumerate(series):
        # no bar, rather than a 0% one, where a run has no problem of the category in this mode
        ys = [100 * tables[label].get(c, {}).get(mode, {}).get("pass_rate", math.nan) for c in categories]
        # the hatch tells the mode apart, and past 10 series (the colours come round) the round too
        hatch = ("", "..", "oo", "++") if mode == "multi" else ("//", "\\\\", "xx", "--")
        ax.bar([i + s * width for i in range(len(categories))], ys, width, label=_text(f"{label} ({mode})"),
               hatch=hatch[_colour_round(s)])
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(categories))], categories, rotation=30, ha="right")
    ax.set_ylabel("pass rate (%)")
    ax.set_ylim(0, 100)
    _legend_beside(ax)
    ax.set_title("MTPB pass rate by category")
    return fig


def diversity_figure(points: dict[str, list[tuple[float, float]]]) -> Figure:
    """Per problem: distinct-program fraction against pass@n - pass@1, one colour per run."""
    fig = Figure(figsize=(6.0, 4.2))
    ax = fig.add_subplot()
    for n, (label, xy) in enumerate(points.items()):
        ax.scatter([x for x, _ in xy], [100 * y for _, y in xy], s=14, alpha=0.7, label=_text(label),
                   marker="os^D"[_colour_round(n)])
    ax.set_xlabel("distinct programs / samples (normalized)")
    ax.set_ylabel("pass@n - pass@1 (points)")
    ax.set_xlim(-0.02, 1.02)
    ax.grid(True, alpha=0.3)
    _legend_beside(ax)
    ax.set_title("what repeated sampling gains vs diversity")
    return fig


def lintseq_figure(stats: dict[str, Any], label: str) -> Figure:
    """Histograms of edits per sequence and lines per edit."""
    fig = Figure(figsize=(8.0, 3.2))
    for i, (key, title) in enumerate((("edits_per_sequence", "edits per sequence"),
                                      ("lines_per_edit", "lines per edit"))):
        ax = fig.add_subplot(1, 2, i + 1)
        hist = stats[key]["histogram"]
        ax.bar([int(v) for v in hist], list(hist.values()), width=0.8, color="#4c72b0")
        ax.set_xlabel(title)
        ax.set_ylabel("count")
        ax.set_title(f"{label}: {title} (mean {stats[key]['mean']:.2f})", fontsize=9)
    fig.tight_layout()
    return fig
