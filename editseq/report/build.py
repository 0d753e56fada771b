"""results files -> report.html + report.json + CSVs + figures: the ``editseq report`` pipeline.

The numbers are computed once into one JSON-ready dict (``report.json``); the CSVs, figures
and HTML are all views of that dict, so what is plotted is exactly what can be re-plotted.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editseq.config import ConfigError, option, parse_ks, to_dict
from editseq.env import versions
from editseq.io.identity import file_sha256
from editseq.io.lock import writing
from editseq.io.outputs import check_writable, write_atomic, write_json
from editseq.io.records import InputError
from editseq.report import diversity, metrics
from editseq.report.inputs import Run, judged_value, load_run
from editseq.report.lintseq_stats import dataset_stats, viewer_steps
from editseq.text import counted, listing


@dataclass
class ReportOptions:
    """Options of ``editseq report``."""

    inputs: list[Path] = option([], help="evaluation results, MTPB results or LintSeq datasets (JSONL/Parquet)", argument=True)  # noqa: RUF009
    out: Path = option(Path("report"), help="folder for report.html, report.json, CSVs and figures/")  # noqa: RUF009
    labels: str = option("", help="comma-separated run labels in input order (default: file names; files of one name told apart by benchmark, s [humaneval+], or folder, sft/s)", comma=True)
    max_pairs: int = option(64, help="sample pairs per problem for the mean edit distance (caps the cost)")
    viewer: int = option(3, help="LintSeq sequences shown step by step, per dataset")
    k: str = option("", help="comma-separated k of the pass@k tables and paired differences, where the samples allow (default: 1,10,100, and in each table its run's samples per problem, pass@n; the curves show every k)", comma=True)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.inputs = [Path(p) for p in self.inputs]
        if not self.inputs:
            raise ConfigError("give at least one INPUT: results, MTPB results or LintSeq data "
                              "(as arguments, or `inputs:` in --config)")
        if self.out.suffix.lower() in (".html", ".htm") and not self.out.is_dir():  # not one made so before
            raise ConfigError(f"--out {self.out}: the folder the report goes in (report.html, report.json, CSVs "
                              f"and figures/ inside it), not the page's name; pass a folder, such as "
                              f"{self.out.with_suffix('')}")
        if self.max_pairs < 1:
            raise ConfigError(f"--max-pairs must be at least 1, got {self.max_pairs}")
        if self.viewer < 0:
            raise ConfigError(f"--viewer must be 0 or more, got {self.viewer}")
        self.ks = tuple(parse_ks(self.k))

    def label_list(self, n: int) -> list[str | None]:
        """One label (or None for the default) per input; checks the count."""
        if not self.labels:
            return [None] * n
        labels = [x.strip() for x in self.labels.split(",")]
        if len(labels) != n:
            raise ConfigError(f"--labels names {len(labels)} runs but {n} inputs were given; "
                              "give one label per input, in the same order")
        if not all(labels):
            raise ConfigError(f"--labels {self.labels!r} has an empty label; name every run")
        return list(labels)


def load_runs(inputs: list[Path], opts: ReportOptions) -> list[Run]:
    """Read every input, with labels made unique (two files named results.jsonl stay apart)."""
    if not inputs:
        raise InputError("no inputs; pass x_results.jsonl files, MTPB results or LintSeq output")
    given = opts.label_list(len(inputs))
    runs = [load_run(p, label) for p, label in zip(inputs, given, strict=True)]
    _tell_apart([r for r, label in zip(runs, given, strict=True) if label is None])
    taken: set[str] = set()
    for run in runs:
        # a label is taken with its series' names: an MTPB run "m" of both modes and a run
        # labelled "m (multi-turn)" gave two series of one name, and one overwrote the other
        modes = _series_modes(run)
        label, i = run.label, 1
        while taken & (names := _names(label, modes)):  # "a", "a", "a (2)" -> "a", "a (2)", "a (2) (2)"
            i += 1
            label = f"{run.label} ({i})"
        run.label = label
        taken |= names
    return runs


def _tell_apart(runs: list[Run]) -> None:
    """Default labels (file names) that several runs share say which is which: by benchmark where
    each has its own (one samples file evaluated on HumanEval and HumanEval+: "s [humaneval]",
    "s [humaneval+]"), else by folder where each has its own ("base/s", "sft/s"); other clashes
    are numbered by ``load_runs``."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.label, []).append(run)
    for name, group in groups.items():
        if len(group) < 2:
            continue
        if len({r.benchmark for r in group}) == len(group):
            for r in group:
                r.label = f"{name} [{r.benchmark or 'benchmark unknown'}]"
        elif len({r.path.parent.name for r in group}) == len(group):
            for r in group:
                r.label = f"{r.path.parent.name}/{name}"


def _names(label: str, modes: list[str]) -> set[str]:
    """The names a run labelled ``label`` would use: the label and its pass@k series' (``modes``)."""
    return {label, *(_series_label(label, mode) for mode in modes)}


def compute(runs: list[Run], opts: ReportOptions) -> dict[str, Any]:
    """All of the report's numbers, as one JSON-ready dict."""
    scored = [r for r in runs if r.kind != "lintseq"]
    # each input's sha256: the report names the exact files it was built from, not only their paths
    data: dict[str, Any] = {"runs": [{"label": r.label, "path": str(r.path), "kind": r.kind, "benchmark": r.benchmark,
                                      "records": len(r.attempts) or len(r.records), "sha256": file_sha256(r.path),
                                      "judged_under": r.judged}
                                     for r in runs]}
    benchmarks = _compared_within(scored)
    series = [(label, benchmarks[r.label], attempts) for r in scored for label, attempts in _passk_series(r)]
    ks = opts.ks or metrics.TABLE_KS
    # by default the table also gives each run's pass@n (any of the n samples passes), which a run of
    # n = 4 or 50 would otherwise never show, and for every run whose samples allow it: a run of 50
    # beside one of 5 left pass@5 blank, as if its samples were too few
    table_ks = opts.ks or (*ks, *(metrics.fewest_samples(attempts) for _, _, attempts in series))
    curves = {label: metrics.passk_curve(attempts, table_ks) for label, _, attempts in series}
    data["passk"] = {label: {"curve": curve, "table": metrics.passk_table(curve, table_ks), "benchmark": bench}
                     for (label, bench, _), curve in zip(series, curves.values(), strict=True)}
    data["differences"] = metrics.paired_differences(series, ks)
    rates = metrics.solve_rates(scored)
    labels = [r.label for r in scored]
    data["per_problem"] = {"labels": labels, "rates": rates,
                           "differences": metrics.solved_differences(rates, metrics.sample_counts(scored), benchmarks)}
    data["mtpb"] = {r.label: metrics.mtpb_categories(r) for r in scored if r.kind == "mtpb"}
    data["notes"] = (_same_file_notes(data["runs"]) + _task_set_notes(scored, benchmarks) + _judging_notes(scored, benchmarks)
                     + _sample_count_notes(series, ks, asked=bool(opts.ks)))
    data["tokens_notes"] = _tokens_notes(series, curves)  # shown beside the inference-cost figures
    # MTPB samples of one problem answer different cases, so their spread is not diversity
    data["diversity"] = {r.label: _diversity(r, opts.max_pairs) for r in scored if r.kind == "results"}
    data["notes"] += _diversity_notes(data["diversity"])
    for note in [*data["notes"], *data["tokens_notes"]]:  # each said on the page and as a warning
        warnings.warn(note, UserWarning, stacklevel=2)
    data["lintseq"] = {r.label: {"stats": dataset_stats(r.records),
                                 "viewer": [_viewed(rec) for rec in r.records[:opts.viewer]]}
                       for r in runs if r.kind == "lintseq"}
    return data


def _compared_within(scored: list[Run]) -> dict[str, str]:
    """label -> the benchmark a run's pass@k is drawn and compared within: its own (from its
    summary); for results without one, the one benchmark of the other results, if they agree on
    one, else "benchmark unknown". Curves of HumanEval and MBPP shared a figure, and HumanEval
    and HumanEval+ results (one task_id set) were paired as if two models on one benchmark."""
    known = {r.benchmark for r in scored if r.kind == "results" and r.benchmark}
    fallback = next(iter(known)) if len(known) == 1 else "benchmark unknown"
    return {r.label: r.benchmark or fallback for r in scored}


def _passk_series(run: Run) -> list[tuple[str, list[Any]]]:
    """A run's pass@k series: MTPB results holding both modes (one file may) give one per mode,
    since the single-turn control is another condition, not more samples of the multi-turn one."""
    modes = _series_modes(run)
    if not modes:
        return [(run.label, run.attempts)]
    return [(_series_label(run.label, mode), [a for a in run.attempts if a.mode == mode]) for mode in modes]


def _series_modes(run: Run) -> list[str]:
    """The MTPB modes a run is split by, in order; none when it holds one series."""
    modes = sorted({a.mode for a in run.attempts if a.mode is not None}) if run.kind == "mtpb" else []
    return modes if len(modes) > 1 else []


def _series_label(label: str, mode: str) -> str:
    return f"{label} ({mode}-turn)"


def _same_file_notes(runs: list[dict[str, Any]]) -> list[str]:
    """Inputs of one content (a file given twice, a run's results beside its summary, a copy): one
    run's numbers shown as two runs' that agree to the last digit ("a - a (2): +0.0 [+0.0, +0.0]")."""
    by_hash: dict[str, list[str]] = {}
    for r in runs:
        by_hash.setdefault(r["sha256"], []).append(r["label"])
    return [f"{', '.join(labels)} are one file's records (sha256 {sha[:16]}): their numbers are one run's, "
            "not several runs' that agree" for sha, labels in by_hash.items() if len(labels) > 1]


def _task_set_notes(scored: list[Run], benchmarks: dict[str, str]) -> list[str]:
    """Runs of one benchmark that answer different problems: their pass@k are not comparable as
    is; runs of several benchmarks, which are drawn and compared apart; and runs that answer part
    of their benchmark (its summary lists tasks without samples): a run of 30 HumanEval tasks
    showed a pass@100 over those 30 under "humaneval", as if it were the benchmark's.

    Said in the report (and as a warning), not refused: comparing a subset run is sometimes the
    point, and the per-problem table shows the overlap.
    """
    groups = _by_benchmark(scored, benchmarks)
    notes = []
    if len(groups) > 1:
        which = "; ".join(f"{bench}: {', '.join(r.label for r in runs)}" for bench, runs in groups.items())
        notes.append(f"these runs are on different benchmarks ({which}): each benchmark has its own "
                     "pass@k figure, and runs are compared only with runs of their benchmark")
    for runs in groups.values():
        if differ := _different_problems({r.label: {a.task for a in r.attempts} for r in runs}):
            notes.append(f"these runs answer different problems ({differ}): "
                         "their pass@k average over different problem sets")
    for r in scored:
        if r.unanswered:
            answered = len({a.task for a in r.attempts})
            notes.append(f"{r.label} answers {answered} of the {answered + len(r.unanswered)} {r.benchmark} problems "
                         f"(no samples of {listing(sorted(r.unanswered, key=metrics.natural), 5)}): its pass@k is "
                         f"the mean over those {answered}, not the benchmark's")
    return notes


def _different_problems(problems: dict[str, set[str]]) -> str | None:
    """"a: 4, b: 1; 1 in common" for runs (label -> their problems) that answer different problems."""
    if len({frozenset(p) for p in problems.values()}) < 2:
        return None
    counts = ", ".join(f"{label}: {len(p)}" for label, p in problems.items())
    return f"{counts}; {len(set.intersection(*problems.values()))} in common"


def _tokens_notes(series: list[tuple[str, str, list[Any]]], curves: dict[str, dict]) -> list[str]:
    """Runs of one inference-cost figure that answer different problems: a curve's tokens are
    summed over its problems (``metrics.passk_curve``), so a run of 164 problems lay 40 times as
    far right as one of 4 spending as much per problem, and the figure did not say why."""
    by_benchmark: dict[str, dict[str, set[str]]] = {}
    for label, bench, attempts in series:
        if curves[label]["tokens"] is not None:
            by_benchmark.setdefault(bench, {})[label] = {a.unit for a in attempts}
    notes = [f"the {bench} runs of the inference-cost figure answer different problems ({differ}): "
             "each run's tokens are summed over its own problems, so a run of more problems lies further right "
             "for the same tokens per problem" for bench, problems in by_benchmark.items()
             if (differ := _different_problems(problems))]
    return notes


def _judging_notes(scored: list[Run], benchmarks: dict[str, str]) -> list[str]:
    """Runs of one benchmark whose samples were judged under different settings (a 3 s and a 10 s
    timeout, with and without ``--stop``, other benchmark data): their pass@k differ by that as
    well as by the models, which the pass@k table alone does not show. Said, not refused."""
    notes = []
    for bench, runs in _by_benchmark(scored, benchmarks).items():
        names = sorted({name for r in runs for name in r.judged})
        differ = [name for name in names if len({repr(r.judged.get(name)) for r in runs if name in r.judged}) > 1]
        if differ:
            which = "; ".join(f"{name}: " + ", ".join(f"{judged_value(name, r.judged[name])} ({r.label})" for r in runs
                                                      if name in r.judged)
                              for name in differ)
            notes.append(f"these {bench} runs were judged under different settings ({which}): their pass@k "
                         "differ by that as well as by their samples")
    return notes


def _by_benchmark(scored: list[Run], benchmarks: dict[str, str]) -> dict[str, list[Run]]:
    """The runs of each benchmark they are compared within (``benchmarks``: label -> benchmark)."""
    groups: dict[str, list[Run]] = {}
    for r in scored:
        groups.setdefault(benchmarks[r.label], []).append(r)
    return groups


def _sample_count_notes(series: list[tuple[str, str, list[Any]]], ks: tuple[int, ...], asked: bool) -> list[str]:
    """Series cut short: a curve stops at the fewest samples of any problem, so one short problem
    (a partial file) cut every problem's curve, and its pass@100, without a word, and ``--k 200``
    on 100 samples printed an empty table (``--k 1,200`` a table without pass@200). Said in the
    report and as a warning; ``asked``: ``ks`` are --k's, not the default ones a table gives where
    the samples allow."""
    notes = []
    for label, _, attempts in series:
        counts = {unit.replace("#", " case ", 1): n for units in metrics.problem_counts(attempts).values() for unit, (n, _) in units.items()}
        n_min, n_max = min(counts.values()), max(counts.values())
        missing = [f"pass@{k}" for k in ks if k > n_min]
        if n_min < n_max:
            short = sorted((u for u, n in counts.items() if n == n_min), key=metrics.natural)
            cut = f" ({', '.join(missing)} not shown)" if missing else ""
            notes.append(f"{label}: {listing(short, 5)} {'has' if len(short) == 1 else 'have'} only "
                         f"{counted(n_min, 'sample')}, other problems up to {n_max}: its pass@k stops at k = {n_min}{cut}")
        elif missing and asked:
            shown = (": no pass@k of --k to show (the curve shows k up to the samples)" if len(missing) == len(ks)
                     else " (not shown)")
            notes.append(f"{label}: {counted(n_min, 'sample')} per problem, too few for {', '.join(missing)}{shown}")
    return notes


def _diversity(run: Run, max_pairs: int) -> dict[str, Any]:
    """Per-task diversity joined with per-task gains, run means, and their rank correlation;
    a task of one sample, whose diversity is None, is left out of both. ``measured`` counts the
    samples by the field their code was read from: ``executed_program`` (what evaluate ran), or
    in older results the sample's own text, which still holds what a stop sequence cut off."""
    per_task = diversity.run_diversity(run.attempts, max_pairs)
    gains = metrics.per_task_gain(run.attempts)
    for task, row in per_task.items():
        row.update(gains[task])
    mean = {}
    for key in ("distinct_fraction", "mean_edit_distance", "distinct_passing"):
        values = [r[key] for r in per_task.values() if r[key] is not None]
        mean[key] = sum(values) / len(values) if values else None
    rows = [r for r in per_task.values() if r["distinct_fraction"] is not None]
    rho = diversity.spearman([r["distinct_fraction"] for r in rows], [r["gain"] for r in rows])
    measured = Counter(a.program_field for a in run.attempts if a.program is not None)
    return {"tasks": per_task, "mean": mean, "spearman_distinct_vs_gain": rho,
            "measured": dict(sorted(measured.items()))}


def _diversity_notes(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Runs whose diversity is measured on different numbers of samples per problem: the distinct
    fraction falls and pass@n - pass@1 grows with n, so 10 samples of a model looked more diverse
    than 100 samples of the same model (0.82 against 0.65 distinct on CodeGen's HumanEval samples)."""
    counts = {}
    for label, d in runs.items():
        ns = sorted({t["samples"] for t in d["tasks"].values() if t["distinct_fraction"] is not None})
        if ns:
            counts[label] = str(ns[0]) if len(ns) == 1 else f"{ns[0]}-{ns[-1]}"
    if len(set(counts.values())) < 2:
        return []
    sizes = ", ".join(f"{label}: {n}" for label, n in counts.items())
    note = (f"diversity is measured on different numbers of samples per problem ({sizes}): the distinct "
            "fraction falls and pass@n - pass@1 grows with more samples, so these runs' diversity is not comparable")
    return [note]


def _viewed(record: dict[str, Any]) -> dict[str, Any]:
    title = next((str(record[k]) for k in ("task_id", "instruction", "text", "prompt") if k in record), "")
    return {"title": title[:200], "sample": record.get("sample"), "steps": viewer_steps(record)}


def build_report(opts: ReportOptions) -> dict[str, Any]:
    """Write DIR/report.html with its JSON, CSVs and figures; returns the numbers (one report at a
    time per folder: each removes the figures it does not draw)."""
    with writing(opts.out):
        return _build_report(opts)


def _build_report(opts: ReportOptions) -> dict[str, Any]:
    check_writable(opts.out / "report.json", opts.out / "report.html")  # before the inputs' work
    runs = load_runs(opts.inputs, opts)
    data = compute(runs, opts)
    data["settings"] = to_dict(opts)
    data["versions"] = versions("matplotlib")
    data["figures"] = make_figures(data, opts.out / "figures")
    write_json(opts.out / "report.json", data)
    write_csvs(data, opts.out)
    from editseq.report.html import render

    write_atomic(opts.out / "report.html", render(data, opts.out))
    return data


def make_figures(data: dict[str, Any], folder: Path) -> dict[str, str]:
    """Render every figure the data supports; name -> PNG path relative to the report."""
    from editseq.report import figures  # matplotlib: only needed once a report is drawn

    with figures.verbatim():  # every text as it is, also the tick labels made while saving
        made: dict[str, Any] = {}
        groups: dict[str, dict[str, Any]] = {}
        for label, v in data["passk"].items():
            groups.setdefault(v["benchmark"], {})[label] = v["curve"]
        for i, (bench, curves) in enumerate(groups.items()):
            # one figure per benchmark: pass@k of different benchmarks are not comparable
            on, suffix = bench if len(groups) > 1 else None, f"_{i}" if i else ""
            made[f"passk{suffix}"] = figures.passk_figure(curves, on=on)
            with_tokens = {label: c for label, c in curves.items() if c["tokens"] is not None}
            if with_tokens:
                made[f"passk_tokens{suffix}"] = figures.passk_figure(with_tokens, x="tokens", on=on)
        if data["per_problem"]["rates"]:
            made["per_problem"] = figures.heatmap_figure(data["per_problem"]["rates"], data["per_problem"]["labels"])
        if data["mtpb"]:
            made["mtpb"] = figures.mtpb_figure(data["mtpb"])
        points = {label: [(t["distinct_fraction"], t["gain"]) for t in d["tasks"].values()
                          if t["distinct_fraction"] is not None] for label, d in data["diversity"].items()}
        points = {label: xy for label, xy in points.items() if xy}
        if points:
            made["diversity"] = figures.diversity_figure(points)
        for i, (label, d) in enumerate(data["lintseq"].items()):
            made[f"lintseq_{i}"] = figures.lintseq_figure(d["stats"], label)
        saved = {name: str(figures.save(fig, folder, name).relative_to(folder.parent)) for name, fig in made.items()}
    _remove_stale_figures(folder, set(saved))
    return saved


# the names make_figures gives its figures
FIGURE_NAME = re.compile(r"passk(_tokens)?(_\d+)?|per_problem|mtpb|diversity|lintseq_\d+")


def _remove_stale_figures(folder: Path, drawn: set[str]) -> None:
    """Remove the figures an earlier report wrote into ``folder`` that this one does not draw: a
    report over other runs into the same --out left them beside its own (passk_1.png of another
    benchmark, lintseq_0.png of a dataset no longer given), as if they were this report's."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.suffix in (".png", ".svg") and FIGURE_NAME.fullmatch(path.stem) and path.stem not in drawn:
            path.unlink()


def write_csvs(data: dict[str, Any], out: Path) -> None:
    """The report's tables as CSV files, for spreadsheets and re-plotting."""
    rows = [(label, k, v, *(ci or (None, None)), (c["tokens"] or [None] * len(c["k"]))[i])
            for label, p in data["passk"].items() for c in [p["curve"]]
            for i, (k, v, ci) in enumerate(zip(c["k"], c["pass@k"], c["ci95"], strict=True))]
    _write_csv(out / "passk.csv", ["run", "k", "pass@k", "ci95_low", "ci95_high", "tokens"], rows)
    _write_csv(out / "differences.csv", ["a", "b", "problems", "k", "difference", "ci95_low", "ci95_high"],
               [(d["a"], d["b"], d["problems"], k.removeprefix("pass@"), c["difference"], *(c["ci95"] or (None, None)))
                for d in data["differences"] for k, c in d["pass@k"].items()])
    labels = data["per_problem"]["labels"]
    _write_csv(out / "per_problem.csv", ["problem", *labels],
               [(p, *(r.get(label, "") for label in labels)) for p, r in data["per_problem"]["rates"].items()])
    keys = ["samples", "distinct", "distinct_fraction", "mean_edit_distance", "distinct_passing",
            "pass@1", "pass@n", "gain"]
    _write_csv(out / "diversity.csv", ["run", "task", *keys],
               [(label, task, *(t[k] for k in keys)) for label, d in data["diversity"].items()
                for task, t in d["tasks"].items()])
    _write_csv(out / "mtpb.csv", ["run", "category", "mode", "pass_rate", "n"],
               [(label, cat, mode, cell["pass_rate"], cell["n"]) for label, table in data["mtpb"].items()
                for cat, modes in table.items() for mode, cell in modes.items()])
    _write_csv(out / "lintseq.csv", ["dataset", "metric", "value", "count"],
               [(label, metric, v, c) for label, d in data["lintseq"].items()
                for metric in ("edits_per_sequence", "lines_per_edit")
                for v, c in d["stats"][metric]["histogram"].items()])


def _write_csv(path: Path, header: list[str], rows: list) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(path, buffer.getvalue())
