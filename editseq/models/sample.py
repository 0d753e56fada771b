"""Benchmark problems -> samples JSONL for ``editseq evaluate``: resumable, with throughput.

Each record is ``task_id``, ``sample`` and ``completion`` or ``solution`` (see
``editseq.models.prompts``), plus the model's ``raw`` output and its ``tokens``; edit-sequence
records also keep the resolved ``program`` and ``resolve_problems`` (among them ``prompts.CUT_OFF``
where the output used all of ``--max-new-tokens``, as ``tokens`` counts them: a server that does not
count them is never judged cut off). ``raw`` is what the model
generated: a chat reply's start that the prompt wrote (``prompts.CHAT_RESPONSE_PREFIX``) is not in it. A task's samples are
appended together once generated, so a rerun after an interruption skips finished tasks (a task
cut off mid-write is drawn again). ``OUT_sampling.json`` holds the settings, versions, the prompt
style and tokens per second (a rerun that draws nothing leaves the drawing run's summary there).
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from editseq.benchmarks import CODEX_STOPS, Benchmark, Problem, load_benchmark
from editseq.config import ConfigError, jsonl_out, option, run_settings
from editseq.env import versions
from editseq.io.lock import writing
from editseq.io.outputs import (
    JsonlAppender,
    check_writable,
    claim_output,
    read_jsonl_records,
    truncate_torn_tail,
    write_json,
    write_jsonl,
)
from editseq.io.records import InputError, recorded
from editseq.lintseq.diffs import DIFF_TOKEN
from editseq.models.backend import Backend, GenerationConfig, check_sampling
from editseq.models.loading import (
    BackendOptions,
    ModelError,
    PromptRefused,
    check_cached,
    is_server_url,
    model_identity,
    open_backend,
    trained_format,
)
from editseq.models.prompts import (
    CHAT_INSTRUCTION,
    CHAT_RESPONSE_PREFIX,
    PromptStyle,
    build_prompt,
    check_chat,
    response_prefix,
    stop_sequences,
    to_sample,
)

# Settings that may differ between a run and its resumption (they do not change what is drawn).
_RESUMABLE = ("out", "limit", "task_ids", "batch_size", "device", "threads", "overwrite", "progress")
# Benchmarks whose prompts changed before editseq recorded them (MBPP's stripped its first test,
# MBPP+'s ended in a blank line): a run of them begun then is not resumed under these prompts.
_PROMPTS_CHANGED = ("mbpp", "mbpp+")


@dataclass
class SampleOptions(BackendOptions):
    """Options of ``editseq sample``."""

    model: str = option("smollm2-135m", help="alias (smollm2-135m), local checkpoint folder or .gguf file, cached hub name, or http(s):// URL of an OpenAI-compatible server", path=True)
    benchmark: Literal["humaneval", "humaneval+", "mbpp", "mbpp-sanitized", "mbpp+"] = option("humaneval", help="benchmark whose prompts are sampled")
    data: Path | None = option(None, help="benchmark data folder (default: $EDITSEQ_DATA_DIR or ../shared/data, else the canonical release, downloaded once to ~/.cache/editseq)")  # noqa: RUF009
    limit: int | None = option(None, help="sample only the first K tasks (default: all)")
    task_ids: list[str] = option([], help="sample only these task ids (comma-separated, or repeat the flag; default: all)", flag="--task-ids")  # noqa: RUF009
    n: int = option(1, help="samples per task")
    temperature: float = option(0.8, help="sampling temperature (0 = greedy)")
    top_p: float = option(0.95, help="nucleus sampling: keep the smallest token set with this much probability")
    min_p: float | None = option(None, help="drop tokens below this fraction of the top token's probability (default: off)")
    max_new_tokens: int = option(512, help="tokens generated at most per sample")
    seed: int = option(0, help="sampling seed")
    format: Literal["program", "editseq"] = option("program", help="what the model writes: a program, or a LintSeq edit sequence (resolved into a program)")
    prompt: Literal["auto", "completion", "chat", "instruction", "lintseq"] = option("auto", help="prompt style (auto: lintseq for --format editseq; instruction for a checkpoint `editseq train sft --format program` wrote, as it was trained; else chat when the model has a chat template, else completion; a server gets completion unless --prompt chat)")
    out: Path = option(None, help="samples JSONL to write (appended to when resuming)", required=True)  # noqa: RUF009
    overwrite: bool = option(False, help="start over instead of resuming an existing OUT")
    progress: bool = option(True, help="show a progress bar")

    def __post_init__(self) -> None:
        if self.out is None:
            raise ConfigError("--out is required: the samples JSONL to write")
        self.out = jsonl_out(self.out)
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"--limit must be at least 1, got {self.limit}")
        given, self.task_ids = self.task_ids, [t.strip() for item in self.task_ids for t in item.split(",")
                                               if t.strip()]  # no id has a comma, or spaces at its ends
        if given and not self.task_ids:  # an empty shell variable: sampling every task instead was hours
            raise ConfigError(f"--task-ids names no task (got {', '.join(map(repr, given))}); "
                              "give task ids, or leave --task-ids out to sample every task")
        if self.limit is not None and self.task_ids:
            raise ConfigError("give --limit or --task-ids, not both")
        super().__post_init__()
        check_sampling(self.n, self.temperature, self.top_p, self.min_p, self.max_new_tokens)
        if self.prompt != "auto" and (self.format == "editseq") != (self.prompt == "lintseq"):
            fix = ("edit sequences use --prompt lintseq (or auto)" if self.format == "editseq" else
                   "programs use --prompt completion, chat or instruction (or auto); --prompt lintseq "
                   "asks for an edit sequence, which --format editseq reads")
            raise ConfigError(f"--prompt {self.prompt} does not go with --format {self.format}; {fix}")
        self._trained = trained = trained_format(self.model)  # read once: style() needs it too
        if trained is not None and trained != self.format:
            raise ConfigError(f"--model {self.model} was fine-tuned on --format {trained} data "
                              f"(its editseq_train_settings.json); sample it with --format {trained}")

    def style(self, tokenizer: Any = None) -> PromptStyle:
        """The prompt style, ``auto`` resolved: the one an SFT checkpoint was trained with, else
        by the model's tokenizer."""
        if self.prompt != "auto":
            return self.prompt
        if self.format == "editseq":
            return "lintseq"
        if self._trained == "program":
            return "instruction"
        return "chat" if getattr(tokenizer, "chat_template", None) else "completion"

    def generation(self, style: PromptStyle, bench: Benchmark, tokenizer: Any = None) -> GenerationConfig:
        return GenerationConfig(n=self.n, temperature=self.temperature, top_p=self.top_p,
                                min_p=self.min_p, max_new_tokens=self.max_new_tokens,
                                stop=stop_sequences(style, bench.completion_stops, tokenizer),
                                seed=self.seed, special_tokens=style == "lintseq")

    def may_chat(self) -> bool:
        """Whether ``style`` can resolve to ``chat`` (it needs the model's tokenizer to tell)."""
        return self.prompt == "chat" or (self.prompt == "auto" and self.format == "program"
                                         and self._trained != "program")

    def manifest_path(self) -> Path:
        return self.out.with_name(self.out.name.removesuffix(".jsonl") + "_sampling.json")


def select_problems(bench: Benchmark, opts: SampleOptions) -> list[Problem]:
    """The tasks to sample: the benchmark's, in its order, or ``--task-ids``'s in the order given
    (each checked against the benchmark; repeats once)."""
    if opts.task_ids:
        unknown = [t for t in opts.task_ids if t not in bench.problems]
        if unknown:
            example = next(iter(bench.problems))
            raise InputError(f"--task-ids: {', '.join(unknown)} not in {bench.name} "
                             f"(ids look like {example!r})")
        return [bench.problems[t] for t in dict.fromkeys(opts.task_ids)]
    problems = list(bench.problems.values())
    return problems[:opts.limit] if opts.limit else problems


def sample(opts: SampleOptions, backend: Backend | None = None) -> dict[str, Any]:
    """Draw the samples ``opts`` asks for (resuming ``opts.out``); returns the run summary.

    ``backend`` overrides loading ``opts.model`` (a caller sampling several benchmarks reuses it).
    """
    with writing(opts.out):
        return _sample(opts, backend)


def _sample(opts: SampleOptions, backend: Backend | None) -> dict[str, Any]:
    bench = load_benchmark(opts.benchmark, opts.data)
    problems = select_problems(bench, opts)
    # the stops are the benchmark's rule, not an option: recorded so that samples cut at other
    # stops (MBPP's were Codex's in earlier versions) are not appended to a file
    # chat replies are not mixed with older ones drawn under another instruction or reply start
    chat = ({"chat_instruction": CHAT_INSTRUCTION,
             "chat_response_prefix": "" if is_server_url(opts.model) else CHAT_RESPONSE_PREFIX}
            if opts.may_chat() else {})
    # what a server serves at the URL may change (restarted with the next checkpoint): its name is
    # recorded, so that a rerun does not append another model's samples
    if backend is None and is_server_url(opts.model):
        backend = open_backend(opts.model, opts, progress=opts.progress)
    elif backend is None:  # loaded only if a task is left: a name it cannot load leaves no settings file
        check_cached(opts.model)
    served = getattr(backend, "served_model", None)
    settings = run_settings(opts, _RESUMABLE, data=f"sha256:{bench.fingerprint}",
                            prompts=f"sha256:{bench.prompts_fingerprint}",
                            completion_stops=list(bench.completion_stops), **chat, **model_identity(opts.model),
                            **({"served_model": served} if served else {}))
    earlier = _earlier_summary(opts)  # before _prepare claims OUT and rewrites the manifest
    done = _prepare(opts, settings, chatted=bool(earlier) and earlier.get("prompt_style") == "chat")
    todo = [p for p in problems if p.task_id not in done]
    stats = Counter(tasks=0, samples=0, tokens=0)
    seconds, style = 0.0, None
    if todo:
        backend = backend or open_backend(opts.model, opts, progress=opts.progress)
        seconds, style = _run(todo, opts, backend, bench, stats)
    summary = {"tasks": len(problems), "resumed": len(problems) - len(todo), "prompt_style": style,
               "new_tasks": stats["tasks"], "new_samples": stats["samples"],
               "tokens": stats["tokens"], "seconds": round(seconds, 3),
               "tokens_per_s": round(stats["tokens"] / seconds, 2) if seconds else None,
               "out": str(opts.out)}
    # a rerun that drew nothing measured nothing: the manifest keeps what the run that drew
    # the samples recorded (its prompt style, as --prompt auto resolved it, and its tokens/s)
    kept = earlier if not todo and earlier and not opts.overwrite else summary
    manifest = {"settings": settings, "summary": kept, "versions": versions("torch", "transformers", "vllm"),
                "data": {"benchmark": bench.name, "version": bench.version,
                         "sha256": bench.fingerprint, "file": str(bench.source)}}
    write_json(opts.manifest_path(), manifest)
    return summary



def _run(todo: list[Problem], opts: SampleOptions, backend: Backend, bench: Benchmark,
         stats: Counter) -> tuple[float, str]:
    """Generate and append task by task group; returns the seconds spent generating and the
    prompt style (``--prompt auto`` resolved)."""
    from tqdm import tqdm

    tokenizer = getattr(backend, "tokenizer", None)
    style = opts.style(tokenizer)
    if style == "chat":
        check_chat(tokenizer)
    if style == "lintseq" and tokenizer is not None and DIFF_TOKEN not in tokenizer.get_vocab():
        warnings.warn(f"--model {opts.model} has no {DIFF_TOKEN} token (not fine-tuned on edit "
                      "sequences by `editseq train sft --format editseq`?); its outputs will "
                      "rarely resolve into programs", stacklevel=2)
    config = opts.generation(style, bench, tokenizer)
    prefix = response_prefix(style, tokenizer)
    per_call = max(1, opts.batch_size // config.draws)
    seconds = 0.0
    bar = tqdm(total=len(todo), unit="task", desc=f"sample {opts.benchmark}", disable=not opts.progress)
    with JsonlAppender(opts.out) as out:
        for start in range(0, len(todo), per_call):
            group = todo[start:start + per_call]
            prompts = [build_prompt(p, style, tokenizer) for p in group]
            began = time.perf_counter()
            try:
                generations = backend.generate(prompts, config)
            except PromptRefused as exc:
                raise ModelError(f"{group[exc.index].task_id}: {exc}") from exc
            except ModelError as exc:  # not one prompt's fault (a server gone down mid-run)
                raise ModelError(f"{', '.join(p.task_id for p in group)}: {exc}") from exc
            seconds += time.perf_counter() - began
            for problem, gens in zip(group, generations, strict=True):
                out.write_many([{"task_id": problem.task_id, "sample": k,
                                 **to_sample(problem, style, g.text, prefix, g.tokens >= config.max_new_tokens),
                                 "raw": g.text, "tokens": g.tokens} for k, g in enumerate(gens)])
                # greedy: one decode, copied
                stats.update(tasks=1, samples=len(gens), tokens=sum(g.tokens for g in gens[:config.draws]))
            bar.update(len(group))
            bar.set_postfix(tok_s=f"{stats['tokens'] / seconds:.1f}" if seconds else "-")
    bar.close()
    return seconds, style


def _earlier_summary(opts: SampleOptions) -> dict[str, Any] | None:
    """The summary an earlier run left in OUT's manifest, if any (None when unreadable)."""
    summary = recorded(opts.manifest_path(), "summary")
    return summary if isinstance(summary, dict) else None


def _prepare(opts: SampleOptions, settings: dict[str, Any], chatted: bool) -> set[str]:
    """Task ids already complete in ``opts.out``; refuses to resume under other settings.

    Settings an older editseq did not record count as they were then: every benchmark's stops
    were Codex's, a chat reply began with nothing under another instruction (``chatted``: the run
    that drew OUT's samples resolved its prompt style to chat; a run that did not never chatted),
    and the prompts were these but for the benchmarks in ``_PROMPTS_CHANGED``."""
    check_writable(opts.out)  # a folder there: refused before its manifest is written
    earlier_prompts = "(before editseq recorded them)" if opts.benchmark in _PROMPTS_CHANGED else settings["prompts"]
    assumed = {"completion_stops": list(CODEX_STOPS), "prompts": earlier_prompts,
               "chat_response_prefix": "" if chatted else settings.get("chat_response_prefix"),
               "chat_instruction": "(before editseq recorded it)" if chatted else settings.get("chat_instruction")}
    claim_output(opts.out, opts.manifest_path(), settings, opts.overwrite, options=opts, assumed=assumed,
                 located={"model": "model_files"})
    truncate_torn_tail(opts.out)
    records = list(read_jsonl_records(opts.out, required=("task_id", "sample")))
    counts = Counter(str(r["task_id"]) for r in records)
    complete = {t for t, c in counts.items() if c == opts.n}
    if len(complete) < len(counts):  # a task cut off mid-write: drop its samples, draw it again
        write_jsonl(opts.out, (r for r in records if str(r["task_id"]) in complete))
    return complete
