"""report.json's numbers -> one self-contained report.html (figures embedded, no network).

Figures are embedded as PNG data URIs, so the single file can be mailed or attached to an
issue; the CSS and the few lines of JavaScript (the step viewer, click-to-sort on the per-problem
table) are inline for the same reason; the page sets no Content-Security-Policy that would stop
them. Everything taken from the inputs is HTML-escaped (samples are untrusted model output).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from editseq.report.inputs import judged_value
from editseq.text import counted

CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right;white-space:nowrap}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
""" + ",".join(f".l{j} td:nth-child({j}),.l{j} th:nth-child({j})" for j in range(2, 13)) + """{text-align:left;white-space:normal}
img{max-width:100%;display:block;margin:.6em 0}
pre{background:#f8f8f8;border:1px solid #e4e4e4;padding:.5em;overflow:auto;font-size:.85em}
.add{background:#dff5df;display:block}.note{color:#666;font-size:.9em}
.seq{border:1px solid #ddd;padding:.6em;margin:.8em 0}.step{display:none}.step.on{display:block}
.sortable th{cursor:pointer}th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}tr:target{background:#fff3b0}
"""

# the step viewer, click-to-sort on the per-problem table, and a link to a row opening its table
SCRIPT = """
document.querySelectorAll('.seq').forEach(function (seq) {
  var steps = seq.querySelectorAll('.step'), label = seq.querySelector('.pos'), i = 0;
  function show(j) {
    i = Math.max(0, Math.min(steps.length - 1, j));
    steps.forEach(function (s, k) { s.classList.toggle('on', k === i); });
    label.textContent = 'edit ' + (i + 1) + ' of ' + steps.length;
  }
  seq.querySelector('.prev').addEventListener('click', function () { show(i - 1); });
  seq.querySelector('.next').addEventListener('click', function () { show(i + 1); });
  show(0);
});
document.querySelectorAll('table.sortable').forEach(function (table) {
  var heads = table.querySelectorAll('th');
  heads.forEach(function (th, col) {
    th.addEventListener('click', function () {
      var sign = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', sign > 0 ? 'ascending' : 'descending');
      var rows = Array.from(table.querySelectorAll('tr[id]'));
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
        if (x === '' || y === '') { return (x === '') - (y === ''); }  // not attempted: last either way
        return sign * (x === undefined ? a.cells[col].textContent.localeCompare(b.cells[col].textContent, undefined, {numeric: true})
                                       : x - y);
      });
      rows.forEach(function (row) { row.parentNode.appendChild(row); });
    });
  });
});
function openTarget() {  // a link to a problem's row opens the folded table it is in
  var row = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  var folded = row && row.closest('details');
  if (folded && !folded.open) { folded.open = true; row.scrollIntoView(); }
}
window.addEventListener('hashchange', openTarget);
openTarget();
"""


def render(data: dict[str, Any], out: Path) -> str:
    """The whole page; ``out`` is the report folder the figure paths are relative to."""
    figs = {name: _img(out / rel, name) for name, rel in data["figures"].items()}
    body = [_header(data)]
    body.extend(f'<p class="note"><strong>Note:</strong> {escape(note)}</p>' for note in data.get("notes", []))
    if data["passk"]:
        body.append(_passk(data, figs))
    if data["per_problem"]["rates"]:
        body.append(_per_problem(data, figs))
    if data["mtpb"]:
        body.append(_mtpb(data, figs))
    if data["diversity"]:
        body.append(_diversity(data, figs))
    if data["lintseq"]:
        body.append(_lintseq(data, figs))
    body.append('<p class="note">Numbers: report.json, passk.csv, differences.csv, per_problem.csv, diversity.csv, '
                "mtpb.csv, lintseq.csv; figures as PNG and SVG in figures/.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>editseq report</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + f"\n<script>{SCRIPT}</script></body></html>\n")


def _img(path: Path, name: str) -> str:
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img id="fig-{escape(name)}" alt="{escape(name)}" src="data:image/png;base64,{encoded}">'


class _Markup(str):
    """A table cell made HTML already, the text taken from the inputs in it escaped: ``_table`` keeps it."""


# a cell that opens with a number: a count, a rate, "22.1% [20.0%, 24.0%]" (not a hash's hex digits)
_NUMBER = re.compile(r"[-+]?\d[\d,.]*(%|\s|$)")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    """Numbers right-aligned and kept on one line (an interval wrapped mid-way); a column holding
    text (a file, a list of problems, the settings a run was judged under) left-aligned and
    wrapped, by its column's class ``lJ`` (``CSS``; the first column is always text)."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    texts = [[v if isinstance(v, _Markup) else escape(_fmt(v)) for v in row] for row in rows]

    def worded(j: int) -> bool:
        return any(isinstance(row[j], _Markup) or (text[j] and not _NUMBER.match(text[j]))
                   for row, text in zip(rows, texts, strict=True) if j < len(row))

    columns = [j + 1 for j in range(1, min(len(header), 12)) if worded(j)]  # nth-child counts from 1
    classes = f' class="{" ".join(f"l{j}" for j in columns)}"' if columns else ""
    body = "".join("<tr>" + "".join(f"<td>{text}</td>" for text in row) + "</tr>" for row in texts)
    return f"<table{classes}><tr>{head}</tr>{body}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _interval(ci: list[float] | None, fmt: Callable[[float], str] = _pct) -> str:
    return f" [{fmt(ci[0])}, {fmt(ci[1])}]" if ci else " (one problem: no interval)"


def _by_k(keys: set[str]) -> list[str]:
    """``pass@k`` keys in order of k (pass@10 after pass@2)."""
    return sorted(keys, key=lambda key: int(key.removeprefix("pass@")))


def _header(data: dict[str, Any]) -> str:
    """The inputs (file and sha256, in full in report.json), the report's settings and versions."""
    rows = [[r["label"], r["kind"], r.get("benchmark") or "", r["records"], r["path"], r["sha256"][:16],
             _judged(r.get("judged_under") or {})] for r in data["runs"]]
    settings = ", ".join(f"--{key.replace('_', '-')} {value if value != '' else '(default)'}"
                         for key, value in data["settings"].items()
                         if key not in ("inputs", "out", "labels"))
    return ("<h1>editseq report</h1>" + _table(["run", "kind", "benchmark", "records", "file", "sha256", "judged under"], rows)
            + f'<p class="note">report settings: {escape(settings)}; editseq {escape(data["versions"]["editseq"])}, '
              f'Python {escape(data["versions"]["python"])}</p>')


def _judged(settings: dict[str, Any]) -> str:
    """A results file's verdict settings as the evaluating command took them, and its data's sha256."""
    shown = [f"{'--' + key.replace('_', '-') if key != 'data_sha256' else 'data'} {judged_value(key, value)}"
             for key, value in settings.items()]
    return ", ".join(shown)


def _passk(data: dict[str, Any], figs: dict[str, str]) -> str:
    ks = _by_k({k for v in data["passk"].values() for k in v["table"]})
    rows = []
    for label, v in data["passk"].items():
        cells = [_pct(c["value"]) + _interval(c["ci95"]) if (c := v["table"].get(k)) else "" for k in ks]
        rows.append([label, v["benchmark"], v["curve"]["problems"], v["curve"]["n_min"], *cells])
    notes = (data["tokens_notes"] if any(name.startswith("passk_tokens") for name in figs) else
             ['No token counts in the inputs (field "tokens"), so no inference-cost axis.'])
    note = "".join(f'<p class="note">{escape(text)}</p>' for text in notes)
    return ("<h2>pass@k</h2>" + "".join(fig for name, fig in figs.items() if name.startswith("passk")) + note
            + _table(["run", "benchmark", "problems", "samples each (min)", *[f"{k} (95% CI)" for k in ks]], rows)
            + _differences(data["differences"], [v["benchmark"] for v in data["passk"].values()]))


def _differences(differences: list[dict[str, Any]], benchmarks: list[str]) -> str:
    """Run A minus run B on the problems both answered, with paired intervals. Where two runs of one
    benchmark (``benchmarks``: each series') have none, the page says why: two runs of one problem
    had no such section, and nothing said so."""
    if not differences:
        if len(set(benchmarks)) == len(benchmarks):
            return ""
        return ("<h3>Differences between runs (paired)</h3><p class=\"note\">None: a paired difference needs "
                "two runs of one benchmark that share at least two problems, at a k within both runs' samples.</p>")
    ks = _by_k({k for d in differences for k in d["pass@k"]})
    rows = [[f"{d['a']} - {d['b']}", d["problems"],
             *(points(c["difference"]) + _interval(c["ci95"], points) if (c := d["pass@k"].get(k)) else "" for k in ks)]
            for d in differences]
    return ("<h3>Differences between runs (paired)</h3>"
            + _table(["A - B", "shared problems", *[f"{k} (95% CI)" for k in ks]], rows)
            + '<p class="note">Percentage points, over the problems both runs answered. The interval '
              "resamples those problems jointly for both runs (a paired bootstrap), so an interval "
              "that excludes 0 means the difference holds across the benchmark's problems; it does "
              "not cover the finite number of samples drawn per problem.</p>")


def points(value: float) -> str:
    """A difference in percentage points, signed; one that rounds to 0 is +0.0: pass@1 of 4 in 8
    and of 2 in 4 differ by a float error (-1e-16), and equal runs read "-0.0" apart."""
    return f"{round(100 * value, 1) + 0.0:+.1f}"


def _per_problem(data: dict[str, Any], figs: dict[str, str]) -> str:
    pp = data["per_problem"]
    ids = dict(zip(pp["rates"], row_ids(list(pp["rates"])), strict=True))
    diffs = [[d["solved_by"], d["not_by"], len(d["problems"]), _which(d, ids)] for d in pp["differences"]]
    return ("<h2>Per-problem solve rate</h2>" + figs.get("per_problem", "")
            + (_table(["solved by", "never by", "problems", "which"], diffs) if diffs else "")
            + f"<details><summary>all {len(pp['rates'])} problems (click a column to sort; "
              "a problem's name links to its row)</summary>" + _problem_table(pp, ids) + "</details>")


def _which(difference: dict[str, Any], ids: dict[str, str], inline: int = 25) -> _Markup:
    """The problems solved by one run and never by another, each a link to its row: the first
    ``inline`` in the cell and the rest folded below them, so a row of a hundred stays readable
    and none is named in report.json alone."""
    links = [f'<a href="#{ids[p]}">{escape(p)}</a>{escape(_never(p, difference))}' for p in difference["problems"]]
    rest = links[inline:]
    return _Markup(", ".join(links[:inline])
                   + (f"<details><summary>{len(rest)} more</summary>{', '.join(rest)}</details>" if rest else ""))


def _never(problem: str, difference: dict[str, Any]) -> str:
    """After a problem solved by one run and never by another, both sample counts where the other
    drew fewer (``fewer_samples``): never in 5 samples is weaker evidence than in 100."""
    counts = difference["fewer_samples"].get(problem)
    if not counts:
        return ""
    n = counts["not_by"]
    return f" (never in {counted(n, 'sample')}; {difference['solved_by']} drew {counts['solved_by']})"


def _problem_table(pp: dict[str, Any], ids: dict[str, str]) -> str:
    """One row per problem, its ``id`` (``ids``, by ``row_ids``) to link to; a rate cell's
    ``data-sort`` holds the rate itself (empty where the run did not attempt the problem) for the
    sort script."""
    head = "".join(f"<th>{escape(h)}</th>" for h in ["problem", *pp["labels"]])
    rows = []
    for problem, rates in pp["rates"].items():
        row_id = ids[problem]
        cells = "".join(f'<td data-sort="{rates[label]!r}">{_pct(rates[label])}</td>' if label in rates
                        else '<td data-sort="">-</td>' for label in pp["labels"])
        rows.append(f'<tr id="{row_id}"><td><a href="#{row_id}">{escape(problem)}</a></td>{cells}</tr>')
    return f'<table class="sortable"><tr>{head}</tr>{"".join(rows)}</table>'


def row_ids(problems: list[str]) -> list[str]:
    """An ``id`` per problem row, for links to ``report.html#problem-HumanEval-0``: the name with
    each run of other characters than ASCII letters and digits made one ``-`` (a task id holds
    ``/``, spaces, quotes; these are not all valid in an id, nor all safe in a link), and ``~2``,
    ``~3`` after one that an earlier name already gave (``HumanEval/0`` and ``HumanEval_0``), which
    no name's own can end in. A problem is a row across runs (HumanEval and HumanEval+ runs share
    their task ids), so its benchmark is not part of it; an MTPB row's mode is, as in its name."""
    ids: list[str] = []
    taken: set[str] = set()
    for problem in problems:
        base = "problem-" + re.sub(r"[^A-Za-z0-9]+", "-", problem).strip("-")
        row_id, i = base, 1
        while row_id in taken:
            i += 1
            row_id = f"{base}~{i}"
        ids.append(row_id)
        taken.add(row_id)
    return ids


def _mtpb(data: dict[str, Any], figs: dict[str, str]) -> str:
    rows = [[cat, f"{label} ({mode})", _pct(cell["pass_rate"]), cell["n"]]
            for label, table in data["mtpb"].items() for cat, modes in table.items()
            for mode, cell in modes.items()]
    return ("<h2>MTPB: pass rate by category, multi- vs single-turn</h2>" + figs.get("mtpb", "")
            + _table(["category", "run (mode)", "pass rate", "runs"], rows))


def _diversity(data: dict[str, Any], figs: dict[str, str]) -> str:
    rows = [[label, len(d["tasks"]), d["mean"]["distinct_fraction"], d["mean"]["mean_edit_distance"],
             d["mean"]["distinct_passing"], d["spearman_distinct_vs_gain"], ", ".join(d["measured"])]
            for label, d in data["diversity"].items()]
    return ("<h2>Diversity of samples</h2>" + figs.get("diversity", "")
            + _table(["run", "problems", "distinct fraction", "mean edit distance",
                      "distinct passing", "Spearman(distinct, gain)", "measured on"], rows)
            + '<p class="note">Programs are compared after normalization (AST with docstrings dropped and '
              "the names a program binds renamed; formatting and comments ignored). Measured on: "
              "executed_program is the code editseq evaluate ran (after --stop, fence stripping and "
              "--resolve-edits); results written before it recorded that are measured on the sample's "
              "text (completion, solution, or the resolved program). Distinct fraction: distinct programs / "
              "samples of a problem. Edit distance: token Levenshtein over the longer length, mean over sampled "
              "pairs. Distinct passing: distinct programs among a problem's passing samples (a count, which "
              "grows with the samples). Gain: pass@n - pass@1 of the problem. Each column is the mean over "
              "problems. A problem with a single sample has no distinct fraction or edit distance: it is left "
              "out of those two means and the correlation (its distinct passing, 0 or 1, is counted).</p>")


def _lintseq(data: dict[str, Any], figs: dict[str, str]) -> str:
    parts = ["<h2>LintSeq datasets</h2>"]
    for i, (label, d) in enumerate(data["lintseq"].items()):
        s = d["stats"]
        parts.append(f"<h3>{escape(label)}</h3>" + figs.get(f"lintseq_{i}", "") + _table(
            ["sequences", "edits per sequence (mean)", "max", "lines per edit (mean)", "max"],
            [[s["sequences"], s["edits_per_sequence"]["mean"], s["edits_per_sequence"]["max"],
              s["lines_per_edit"]["mean"], s["lines_per_edit"]["max"]]]))
        parts.extend(_sequence(seq) for seq in d["viewer"])
    return "\n".join(parts)


def _sequence(seq: dict[str, Any]) -> str:
    """One sequence, one edit at a time: the state after the edit, its added lines highlighted."""
    steps = []
    for step in seq["steps"]:
        added = set(step["added"])
        lines = "".join(f'<span class="add">{escape(line) or " "}</span>' if j in added else escape(line) + "\n"
                        for j, line in enumerate(step["program"]))
        steps.append(f'<div class="step"><pre>{lines}</pre><details><summary>diff</summary>'
                     f'<pre>{escape(step["diff"])}</pre></details></div>')
    return (f'<div class="seq"><b>{escape(seq["title"])}</b> (sample {escape(str(seq["sample"]))}) '
            '<button class="prev">&larr; prev</button> <span class="pos"></span> '
            '<button class="next">next &rarr;</button>' + "".join(steps) + "</div>")
