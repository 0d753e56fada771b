"""Prompt perplexity, multi-turn vs single-turn (CodeGen Tables 2 and 5).

Multi-turn: for each turn, the negative log-likelihood of its prompt text ``"# " + prompt +
"\\n"`` given the history before it (PREFIX, earlier prompts and earlier completions; the
completions come from the first run of each case in ``--results``; without results the
earlier turns contribute their prompts only, which makes the multi-turn text identical to the
single-turn one, so the comparison needs results). Single-turn: the joined specification given PREFIX. A run's
perplexity is exp(total NLL / total prompt tokens); a problem's is the mean over its cases;
the reported figure is the mean over problems (without ``--problems``: all 115, or with results
the problems they have runs for). With results, problems that some run solved
and problems no run solved are averaged separately (Table 5).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editseq.config import ConfigError, option, to_dict
from editseq.env import versions
from editseq.io.outputs import check_writable
from editseq.io.records import InputError
from editseq.models.loading import is_server_url
from editseq.models.scoring import ContextTooLong
from editseq.mtpb import data, prompts
from editseq.mtpb.runs import read_runs
from editseq.text import listing

Scorer = Callable[[str, str], tuple[float, int]]  # (context, target) -> (sum NLL, tokens)


@dataclass
class MTPBPerplexityOptions:
    """Options of ``editseq mtpb perplexity``."""

    model: str = option(None, help="alias (smollm2-135m), local checkpoint folder or .gguf file, or cached hub name (a local model: perplexity needs its token probabilities)", path=True, required=True)
    results: Path | None = option(None, help="MTPB results (or runs) JSONL: completions for multi-turn histories, passed for the solved/unsolved split (default: none; histories of prompts only)")  # noqa: RUF009
    problems: str = option("", help="comma-separated problem ids or ranges, e.g. 1-20,41 (default: all 115; with --results, the problems it has runs for)", comma=True)
    data: Path | None = option(None, help="folder holding mtpb/mtpb.jsonl, or the file (default: $EDITSEQ_DATA_DIR or ../shared/data, else the canonical release, downloaded once to ~/.cache/editseq)")  # noqa: RUF009
    threads: int | None = option(None, help="CPU threads for torch (default: torch's choice, all cores; 1 is far faster when other jobs share the cores)")
    json_out: Path | None = option(None, help="also write the figures to this JSON file (default: printed only)")  # noqa: RUF009
    progress: bool = option(True, help="show the model's loading bars")

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("--model is required (a backend name such as smollm2-135m)")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"--threads must be at least 1, got {self.threads}")
        if is_server_url(self.model):
            raise ConfigError(f"--model {self.model}: perplexity needs the token probabilities of a local "
                              "model (an alias, a checkpoint folder or a .gguf file), not a server")
        self.ids = data.problem_ids(self.problems)


def _ppl(parts: list[tuple[float, int]]) -> float:
    nll, tokens = sum(p[0] for p in parts), sum(p[1] for p in parts)
    return math.exp(nll / tokens) if tokens else float("nan")


def run_perplexity(problem: data.Problem, case: int, completions: list[str] | None,
                   score: Scorer) -> dict[str, float]:
    """Multi-turn and single-turn prompt perplexity of one case."""
    turn_prompts = problem.turn_prompts(case)
    parts = []
    for i, prompt in enumerate(turn_prompts):
        done = (completions or [])[:i]
        context = prompts.history(turn_prompts[:i], done) if done else \
            prompts.PREFIX + "".join(prompts.turn_comment(p) for p in turn_prompts[:i])
        parts.append(score(context, prompts.turn_comment(prompt)))
    spec = prompts.single_turn_prompt(turn_prompts)[len(prompts.PREFIX):]
    return {"multi": _ppl(parts), "single": _ppl([score(prompts.PREFIX, spec)])}


def read_results(path: Path, bench: data.Benchmark) -> tuple[dict[tuple[str, int], list[str]], dict[str, bool | None]]:
    """First multi-turn run's completions per (problem, case), and whether any run solved each
    problem (None where ``mtpb evaluate --fixed`` excluded its runs, status ``excluded``: never
    run, neither solved nor unsolved); runs are validated as ``mtpb evaluate`` validates them
    (InputError names the line)."""
    first: dict[tuple[str, int], list[str]] = {}
    solved: dict[str, bool | None] = {}
    runs = read_runs(path, bench)
    if all(run.mode != "multi" for run in runs):  # ignored, they would leave all 115 prompts-only
        raise InputError(f"{path}: no multi-turn runs (all {len(runs)} are single-turn); --results needs "
                         "the runs of a multi-turn sample (mtpb sample without --single-turn)")
    for run in runs:
        if run.mode != "multi":
            continue
        if not run.error:
            first.setdefault((run.problem_id, run.case), run.completions)
        passed = run.record.get("passed")
        if run.record.get("status") == "excluded":  # --fixed left it unrun
            solved.setdefault(run.problem_id, None)
        elif passed is not None:
            if not isinstance(passed, bool):
                raise InputError(f"{run.where}: 'passed' must be true or false, got {passed!r}")
            solved[run.problem_id] = solved.get(run.problem_id) or passed
    return first, solved


@dataclass
class Inputs:
    """What ``perplexity`` scores, read and checked before any model loads."""

    bench: data.Benchmark
    completions: dict[tuple[str, int], list[str]]
    solved: dict[str, bool | None]


def prepare(opts: MTPBPerplexityOptions) -> Inputs:
    """Load the data, check ``--problems``, read ``--results`` and check that ``--json-out`` can be
    written (its folder made): all that can fail before a model loads and scores every problem."""
    if opts.json_out is not None:
        check_writable(opts.json_out)
    bench = data.load(opts.data)
    data.check_ids(bench, opts.ids)
    completions, solved = read_results(opts.results, bench) if opts.results else ({}, {})
    return Inputs(bench, completions, solved)


def perplexity(opts: MTPBPerplexityOptions, score: Scorer, inputs: Inputs | None = None) -> dict[str, Any]:
    """Mean prompt perplexity over problems, multi vs single, and solved vs unsolved."""
    inputs = inputs or prepare(opts)
    bench, completions, solved = inputs.bench, inputs.completions, inputs.solved
    covered = {pid for pid, _ in completions} | set(solved)
    # without --problems: with results, the problems they have runs for (a problem without
    # completions would score prompts only, multi = single, diluting the comparison)
    ids = opts.ids or [pid for pid in bench.problems if not covered or pid in covered]
    _warn_prompts_only(bench, ids, completions)
    per_problem: dict[str, dict[str, float]] = {}
    for pid in ids:
        problem = bench.problems[pid]
        cases = [_case_perplexity(problem, c, completions.get((pid, c)), score)
                 for c in range(len(problem.cases))]
        per_problem[pid] = {m: sum(c[m] for c in cases) / len(cases) for m in ("multi", "single")}
    out: dict[str, Any] = {m: _mean([p[m] for p in per_problem.values()]) for m in ("multi", "single")}
    out["history"] = "prompts and completions" if completions else "prompts only"
    if solved:
        _warn_unjudged([pid for pid in per_problem if pid not in solved])
        for label, want in (("solved", True), ("unsolved", False)):
            group = [p for pid, p in per_problem.items() if solved.get(pid) is want]
            out[label] = {"problems": len(group), **{m: _mean([p[m] for p in group]) for m in ("multi", "single")}}
    out["problems"] = per_problem
    # what produced the figures, as evaluate's summary records it: a saved file names its model
    out.update(settings=to_dict(opts), data={"file": str(bench.source), "sha256": bench.sha256},
               versions=versions("torch", "transformers"))
    return out


def _warn_prompts_only(bench: data.Benchmark, ids: list[str],
                       completions: dict[tuple[str, int], list[str]]) -> None:
    """With completions, a case without any (not in --results, or only errored runs) has a
    prompts-only history, multi = single: averaged in silently it would dilute the comparison."""
    if not completions:
        return
    bare = [f"{pid}/{c}" for pid in ids for c in range(len(bench.problems[pid].cases))
            if (pid, c) not in completions]
    if bare:
        some = f"{len(bare)} cases (problem/case) have" if len(bare) > 1 else "1 case (problem/case) has"
        warnings.warn(f"{some} no multi-turn completions in --results, scored with prompts-only "
                      f"histories: {listing(bare)}; leave those problems out of --problems to compare "
                      "only histories with completions", stacklevel=3)


def _warn_unjudged(pids: list[str]) -> None:
    """Problems whose runs in --results carry no verdict (``passed``: a runs file, not results)
    fall in neither group: said, or the solved and unsolved counts silently miss the total."""
    if pids:
        warnings.warn(f"{len(pids)} problems have no verdict ('passed') in --results and are in neither the "
                      f"solved nor the unsolved group: {listing(pids)}; give the results of `mtpb evaluate` "
                      "for them, or leave them out of --problems", stacklevel=3)


def _case_perplexity(problem: data.Problem, case: int, completions: list[str] | None,
                     score: Scorer) -> dict[str, float]:
    """``run_perplexity``, with a history the model cannot read refused by problem and case."""
    try:
        return run_perplexity(problem, case, completions, score)
    except ContextTooLong as exc:
        raise InputError(f"problem {problem.id}, case {case}: {exc}; its multi-turn history (the first "
                         "run of the case in --results) is too long for this model: drop that run from "
                         "--results (the case's next run is used) or score with a longer-context model") from exc


def _mean(values: list[float]) -> float | None:
    """None for an empty group (no problem solved, say): JSON has no NaN."""
    return sum(values) / len(values) if values else None


def backend_scorer(backend: Any) -> Scorer:
    """(context, target) -> (sum NLL, tokens) with a causal LM backend's model and tokenizer."""
    from editseq.models.scoring import continuation_nll

    model, tokenizer = getattr(backend, "model", None), getattr(backend, "tokenizer", None)
    if model is None or tokenizer is None:
        raise ConfigError(f"backend {getattr(backend, 'name', backend)!r} exposes no causal LM "
                          "(model, tokenizer); perplexity needs a local transformers model")
    return lambda context, target: continuation_nll(model, tokenizer, context, target)
