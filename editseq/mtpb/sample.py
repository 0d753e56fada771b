"""Drive a model backend through MTPB turn by turn and write runs (the samples format).

Per problem, every case is its own multi-turn run, ``n`` runs per case. Runs whose history is
the same text (a case's ``n`` runs at turn 1, and later ones whose turns came out alike) send it
as one prompt with one generation each, so each run draws its own sample; other runs send one
prompt each. Each turn's continuation is cut with ``prompts.truncate`` (single-turn:
``prompts.truncate_single``) before it joins the history.

The settings go to ``OUT.settings.json``. Resumable: runs are appended to ``OUT`` as each problem
finishes; a rerun with the same settings (``--problems`` may differ) skips the runs already there
(by mode, problem, case, sample; a problem with some of its runs there is sampled whole again and
only the missing runs are written, so they are the runs an uninterrupted run writes), and one with other settings is refused unless ``--overwrite``. A history whose length reaches ``max_length``
tokens (the reference's 2048-token context, checked when the backend offers ``count_tokens``),
or that the backend refuses as filling the model's own shorter context, ends its run with an
``error`` field: a counted failure, not an assert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from editseq.config import ConfigError, jsonl_out, option, run_settings
from editseq.io.lock import writing
from editseq.io.outputs import (
    JsonlAppender,
    check_writable,
    claim_output,
    read_jsonl_records,
    truncate_torn_tail,
)
from editseq.models.backend import Backend, Generation, GenerationConfig, adds_bos, check_sampling
from editseq.models.loading import BackendOptions, PromptTooLong, model_identity
from editseq.mtpb import data, prompts

# may change between a run and its resumption (each run records its mode: one file can hold both)
_RESUMABLE = ("out", "problems", "single_turn", "threads", "batch_size", "device", "overwrite", "progress")


@dataclass
class MTPBSampleOptions(BackendOptions):
    """Options of ``editseq mtpb sample``."""

    model: str = option(None, help="alias (smollm2-135m), local checkpoint folder or .gguf file, cached hub name, or http(s):// URL of an OpenAI-compatible server", path=True, required=True)
    out: Path | None = option(None, help="runs JSONL to append to (default: runs/mtpb_<model>_<mode>.jsonl)")  # noqa: RUF009
    n: int = option(1, help="runs per test case")
    temperature: float = option(0.2, help="sampling temperature (CodeGen: 0.2)")
    top_p: float = option(0.95, help="nucleus sampling top-p (CodeGen: 0.95)")
    single_turn: bool = option(False, help="single-turn control: one generation for the joined prompts")
    problems: str = option("", help="comma-separated problem ids or ranges, e.g. 1-20,41 (default: all 115)", comma=True)
    max_new_tokens: int | None = option(None, help="cap on new tokens per turn; --single-turn's one generation gets it once per turn, as a multi-turn run does (default: each problem's max_gen_length, as the reference; a cap is for quick smoke runs)")
    max_length: int = option(2048, help="context length in tokens; longer histories are counted failures")
    seed: int = option(0, help="base sampling seed (each problem and turn derives its own)")
    data: Path | None = option(None, help="folder holding mtpb/mtpb.jsonl, or the file (default: $EDITSEQ_DATA_DIR or ../shared/data, else the canonical release, downloaded once to ~/.cache/editseq)")  # noqa: RUF009
    overwrite: bool = option(False, help="start over instead of resuming an existing OUT")
    progress: bool = option(True, help="show progress: a line per problem, and the model's loading bars")

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("--model is required (a backend name such as smollm2-135m)")
        super().__post_init__()
        if self.max_length < 1:
            raise ConfigError(f"--max-length must be at least 1, got {self.max_length}")
        check_sampling(self.n, self.temperature, self.top_p, max_new_tokens=self.max_new_tokens)
        mode = "single" if self.single_turn else "multi"
        if self.out is None:
            self.out = Path("runs") / f"mtpb_{self.model.replace('/', '_')}_{mode}.jsonl"
        self.out = jsonl_out(self.out)
        self.ids = data.problem_ids(self.problems)

    @property
    def mode(self) -> str:
        return "single" if self.single_turn else "multi"


@dataclass
class _Slot:
    """One run being sampled."""

    case: int
    sample: int
    turn_prompts: list[str]
    completions: list[str]
    error: str = ""


# 2: runs sharing a history share its prompt and draw apart; --single-turn's --max-new-tokens is
# per turn. Files sampled before (1) are not resumed under it: their runs would mix two schemes.
SAMPLER_VERSION = 2


def done_runs(path: Path) -> set[tuple]:
    """(mode, problem_id, case, sample) of the runs already in ``path``."""
    truncate_torn_tail(path)  # a run killed mid-write left half a line: that run is redone
    return {(r.get("mode", "multi"), str(r["problem_id"]), r["case"], r.get("sample", 0))
            for r in read_jsonl_records(path, required=("problem_id", "case", "completions"))}


def prepare(opts: MTPBSampleOptions) -> data.Benchmark:
    """Load the data, check ``--problems`` and claim ``--out``: all that can fail before a model loads."""
    bench = data.load(opts.data)
    data.check_ids(bench, opts.ids)
    settings = run_settings(opts, _RESUMABLE, data=f"sha256:{bench.sha256}", sampler_version=SAMPLER_VERSION,
                            **model_identity(opts.model))
    check_writable(opts.out)  # a folder there: refused before its settings file is written
    # a folder's model files, not recorded before, are taken as they are now; moved, it resumes
    claim_output(opts.out, opts.out.with_name(opts.out.name + ".settings.json"), settings, opts.overwrite,
                 options=opts, assumed={"sampler_version": 1}, located={"model": "model_files"})
    return bench


def sample(opts: MTPBSampleOptions, backend: Backend,
           progress: Callable[[str], None] = lambda _: None, bench: data.Benchmark | None = None) -> int:
    """Sample every missing run; returns how many runs were written (``bench``: from ``prepare``,
    called under the same ``io.lock.writing(opts.out)``: one run at a time appends to OUT)."""
    with writing(opts.out):
        return _sample_missing(opts, backend, progress, bench or prepare(opts))


def missing_runs(opts: MTPBSampleOptions, bench: data.Benchmark) -> int:
    """How many runs OUT still lacks (``bench``: from ``prepare``): none, and there is no model
    to load."""
    return sum(len(missing) for *_, missing in _todo(opts, bench))


def _todo(opts: MTPBSampleOptions, bench: data.Benchmark) -> Iterator[tuple[str, data.Problem, list[_Slot], list[_Slot]]]:
    """Each problem with runs OUT lacks: (id, problem, all its slots, the missing ones)."""
    done = done_runs(opts.out)
    for pid in opts.ids or list(bench.problems):
        problem = bench.problems[pid]
        slots = [_Slot(c, s, problem.turn_prompts(c), []) for c in range(len(problem.cases))
                 for s in range(opts.n)]
        missing = [s for s in slots if (opts.mode, pid, s.case, s.sample) not in done]
        if missing:
            yield pid, problem, slots, missing


def _sample_missing(opts: MTPBSampleOptions, backend: Backend, progress: Callable[[str], None],
                    bench: data.Benchmark) -> int:
    written = 0
    for pid, problem, slots, missing in _todo(opts, bench):
        # sampled whole even when some of its runs are on disk (a write cut short): a run's draws
        # depend on which runs share its prompts, so only then is it the uninterrupted run's
        _sample_problem(problem, slots, backend, opts)
        with JsonlAppender(opts.out) as out:
            out.write_many(_record(pid, slot, opts) for slot in missing)
        written += len(missing)
        progress(f"problem {pid}: {len(missing)} runs")
    return written


def _record(pid: str, slot: _Slot, opts: MTPBSampleOptions) -> dict:
    rec = {"problem_id": pid, "case": slot.case, "sample": slot.sample, "mode": opts.mode,
           "completions": slot.completions, "model": opts.model}
    if slot.error:
        rec["error"] = slot.error
    return rec


def _sample_problem(problem: data.Problem, slots: list[_Slot], backend: Backend,
                    opts: MTPBSampleOptions) -> None:
    """Fill every slot's completions turn by turn (one turn in single-turn mode)."""
    turns = 1 if opts.single_turn else len(problem.prompts)
    budget = prompts.max_new_tokens(problem, opts.mode, opts.max_new_tokens)
    stop = prompts.EARLY_STOP[opts.mode]
    cut = prompts.truncate_single if opts.single_turn else prompts.truncate
    for turn in range(turns):
        live = [s for s in slots if not s.error]
        for s in live:
            text = _context(s, turn, opts.single_turn)
            if _too_long(backend, text, opts.max_length):
                s.error = f"context overflow at turn {turn + 1}: history reaches {opts.max_length} tokens"
        live = [s for s in live if not s.error]
        if not live:
            return
        seed = opts.seed + 1000 * int(problem.id) + turn
        config = GenerationConfig(n=1, temperature=opts.temperature, top_p=opts.top_p,
                                  max_new_tokens=budget, stop=stop, seed=seed)
        _generate_turn(live, turn, backend, config, cut, opts.single_turn)


def _context(slot: _Slot, turn: int, single: bool) -> str:
    if single:
        return prompts.single_turn_prompt(slot.turn_prompts)
    return prompts.history(slot.turn_prompts[:turn + 1], slot.completions)


def _generate_turn(live: list[_Slot], turn: int, backend: Backend, config: GenerationConfig,
                   cut: Callable[[str], str], single: bool) -> None:
    """The turn's backend calls: runs whose histories are the same text (a case's runs at turn 1,
    and later wherever their earlier turns came out alike) share one prompt with one generation
    each, so each draws its own sample; backends seed by (prompt, sample index), and runs sent
    as separate copies of one prompt would all draw sample 0, the same text. One call per group
    size (usually one call)."""
    by_text: dict[str, list[_Slot]] = {}
    for s in live:
        by_text.setdefault(_context(s, turn, single), []).append(s)
    by_size: dict[int, list[tuple[str, list[_Slot]]]] = {}
    for text, group in by_text.items():
        by_size.setdefault(len(group), []).append((text, group))
    for size, groups in sorted(by_size.items()):
        for group, gens in _generate_fitting(backend, groups, replace(config, n=size), turn):
            for s, g in zip(group, gens, strict=True):
                s.completions.append(cut(g.text))


def _generate_fitting(backend: Backend, groups: list[tuple[str, list[_Slot]]], config: GenerationConfig,
                      turn: int) -> list[tuple[list[_Slot], list[Generation]]]:
    """(runs, generations) of each history the model can continue; one that fills the model's own
    context (shorter than ``--max-length``, which ``_too_long`` checks) ends its runs as an overflow,
    a counted failure, where the backend's refusal would stop the whole sampling at that problem."""
    groups = list(groups)
    while groups:
        try:
            outs = backend.generate([text for text, _ in groups], config)
        except PromptTooLong as exc:
            for s in groups.pop(exc.index)[1]:
                s.error = f"context overflow at turn {turn + 1}: {exc}"
            continue
        return [(group, gens) for (_, group), gens in zip(groups, outs, strict=True)]
    return []


def _too_long(backend: Backend, text: str, max_length: int) -> bool:
    """The reference asserts ``prompt tokens < max_length``; here it is a counted failure.

    Tokens are counted with the backend's ``count_tokens`` or its ``tokenizer`` when it has one,
    as the backends tokenize the prompt (with the BOS the tokenizer adds: tokens the model reads);
    backends with neither (HTTP servers) are not checked here.
    """
    count = getattr(backend, "count_tokens", None)
    tokenizer = getattr(backend, "tokenizer", None)
    if count is None and tokenizer is not None:
        return len(tokenizer(text, add_special_tokens=adds_bos(tokenizer, [text]))["input_ids"]) >= max_length
    return count is not None and count(text) >= max_length

