"""Prompt styles and how each style's model output becomes an evaluation sample.

- ``completion``: the benchmark prompt as is (a base model continues it); the output is a
  ``completion`` cut at the benchmark's stop sequences (``Benchmark.completion_stops``: Codex's
  for HumanEval, EvalPlus's for MBPP, whose completions are whole programs).
- ``chat``: EvalPlus's chat prompt in the tokenizer's chat template (instruction-tuned models),
  the reply begun with ``CHAT_RESPONSE_PREFIX``, which opens a python block (the model writes code
  at once, and generation stops at the block's closing fence instead of spending tokens on an
  explanation); the reply's
  first python block (``editseq.text.unwrap_markdown``) becomes a whole-program ``solution``, so
  a usage example in a later block never runs. An HTTP backend, which has no tokenizer, gets the
  messages themselves and its server applies the model's template (no reply can be begun for it:
  the reply is read whole).
- ``instruction``: the instruction alone, as ``editseq train sft --format program`` trains on
  ``instruction + "\\n" + program``; the output is a whole-program ``solution``.
- ``lintseq``: the instruction followed by ``"\\n<|diff|>"``, as LintSeq training text starts
  (``editseq.lintseq.diffs.render_training_text``); the output is an edit sequence, resolved into a
  program with ``editseq.lintseq.diffs.resolve``, keeping what resolution had to skip.

Whole-program solutions are placed after the benchmark prompt: the prompt's imports and helper
functions are then defined (a model that writes only the target function still runs), and a
function the program defines again simply replaces the prompt's stub.
"""

from __future__ import annotations

from typing import Any, Literal

from editseq.benchmarks import Problem
from editseq.config import ConfigError
from editseq.lintseq.diffs import DIFF_TOKEN, resolve
from editseq.models.backend import Prompt
from editseq.text import unwrap_markdown

PromptStyle = Literal["completion", "chat", "instruction", "lintseq"]
STYLES: tuple[str, ...] = ("completion", "chat", "instruction", "lintseq")
FENCE_STOP = "\n```"  # instruction models also close a code fence
# EvalPlus's chat prompt (codegen.py, provider/utility.py make_raw_chat_prompt), so that chat
# models' pass@k is comparable with its leaderboard: the task in a bare fence, and the reply begun
# for the model, inside its python block
CHAT_INSTRUCTION = ("Please provide a self-contained Python script that solves the following problem "
                    "in a markdown code block:\n```\n{prompt}\n```\n")
CHAT_RESPONSE_PREFIX = ("Below is a Python script with a self-contained function that solves the problem "
                        "and passes corresponding tests:\n```python\n")
CUT_OFF = "output cut off at --max-new-tokens: its last edit may be incomplete"
_SPLIT = "<editseq: the reply goes on here>"  # where the templated reply is cut, as EvalPlus cuts it


def build_prompt(problem: Problem, style: PromptStyle, tokenizer: Any = None) -> Prompt:
    """What the model is given for ``problem`` in ``style``: text, or for ``chat`` without a
    tokenizer (an HTTP server) the messages."""
    if style == "completion":
        return problem.prompt
    if style == "instruction":  # SFT's prompt is the instruction; the model writes "\n" + program
        return problem.prompt.rstrip("\n")
    if style == "lintseq":
        return problem.prompt.rstrip("\n") + "\n" + DIFF_TOKEN
    if style == "chat":
        messages = [{"role": "user", "content": CHAT_INSTRUCTION.format(prompt=problem.prompt.strip())}]
        if tokenizer is None:
            return messages
        check_chat(tokenizer)
        # the whole exchange templated, cut where the reply goes on (EvalPlus's way: the template
        # renders the reply's start as it renders any reply)
        reply = {"role": "assistant", "content": f"{CHAT_RESPONSE_PREFIX}{_SPLIT}\n```\n"}
        templated = tokenizer.apply_chat_template([*messages, reply], tokenize=False)
        if _SPLIT in templated:
            return templated.split(_SPLIT)[0]
        # a template that does not render a last reply's text: the reply begun after its header
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + CHAT_RESPONSE_PREFIX
    raise ValueError(f"unknown prompt style {style!r}; choose one of {', '.join(STYLES)}")


def check_chat(tokenizer: Any) -> None:
    """Refuse ``--prompt chat`` for a local model whose tokenizer has no chat template."""
    if tokenizer is not None and not getattr(tokenizer, "chat_template", None):
        raise ConfigError("--prompt chat needs a model whose tokenizer has a chat template; "
                          "use --prompt completion (a base model) or instruction (an SFT checkpoint)")


def response_prefix(style: PromptStyle, tokenizer: Any = None) -> str:
    """The start of the reply that ``build_prompt`` wrote for the model: ``CHAT_RESPONSE_PREFIX``
    for a chat prompt templated here, else nothing."""
    return CHAT_RESPONSE_PREFIX if style == "chat" and tokenizer is not None else ""


def stop_sequences(style: PromptStyle, completion_stops: tuple[str, ...], tokenizer: Any = None) -> tuple[str, ...]:
    """Where generation may stop early: completions at the benchmark's end markers
    (``Benchmark.completion_stops``: a HumanEval function body ends at the next top-level
    ``def``, an MBPP program, which may start with imports and helpers, does not); a chat reply
    begun inside a code block at that block's closing fence. Other outputs have no end marker in
    the text (a server's chat reply may open its block after some prose)."""
    if style == "completion":
        return (*completion_stops, FENCE_STOP)
    return (FENCE_STOP,) if response_prefix(style, tokenizer) else ()


def to_sample(problem: Problem, style: PromptStyle, raw: str, prefix: str = "", cut_off: bool = False) -> dict[str, Any]:
    """Evaluation fields for one output (``prefix``: the reply's start the prompt wrote,
    ``response_prefix``; ``cut_off``: it ran out of ``--max-new-tokens``): ``completion``, or
    ``solution`` (+ resolution details)."""
    raw = prefix + raw
    if style == "completion":
        return {"completion": raw}
    if style in ("chat", "instruction"):
        closed = raw + "\n```" if raw.count("```") % 2 else raw  # cut off inside its code block
        return {"solution": _after_prompt(problem, unwrap_markdown(closed, first_only=True))}
    resolved = resolve(DIFF_TOKEN + raw)  # the prompt ends with the first <|diff|>
    if cut_off:  # its hunks' counts may all hold while its last line was cut mid-way
        resolved.problems.append(CUT_OFF)
    return {"solution": _after_prompt(problem, resolved.program), "program": resolved.program,
            "resolve_problems": resolved.problems, "edits": resolved.edits}


def _after_prompt(problem: Problem, program: str) -> str:
    return problem.prompt.rstrip("\n") + "\n\n\n" + program + "\n"
