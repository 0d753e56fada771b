"""Prompt styles and post-processing: completions, chat markdown, LintSeq edit sequences."""

from __future__ import annotations

import pytest

from editseq.benchmarks import CODEX_STOPS, Problem, load_benchmark
from editseq.config import ConfigError
from editseq.lintseq.diffs import DIFF_TOKEN, edit_path_from_steps
from editseq.models.prompts import (
    CHAT_RESPONSE_PREFIX,
    FENCE_STOP,
    build_prompt,
    check_chat,
    response_prefix,
    stop_sequences,
    to_sample,
)

PROBLEM = Problem("T/0", 'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum."""\n',
                  "total", "", "assert total([1, 2]) == 3\n")


def test_completion_style() -> None:
    assert build_prompt(PROBLEM, "completion") == PROBLEM.prompt
    assert "\ndef" in stop_sequences("completion", CODEX_STOPS)
    assert to_sample(PROBLEM, "completion", "    return sum(xs)\n") == {"completion": "    return sum(xs)\n"}


def test_completion_stops_are_the_benchmarks(shared_data) -> None:
    """An MBPP completion is a whole program (imports, comments, helpers): sampling it must not
    stop at the HumanEval stops, which cut it at its first ``def``."""
    for name in ("mbpp", "mbpp-sanitized", "mbpp+"):
        stops = stop_sequences("completion", load_benchmark(name, shared_data).completion_stops)
        assert '\n"""' in stops and "\nassert" in stops
        assert not {"\ndef", "\n#", "\nclass", "\nif"} & set(stops), name
    assert "\ndef" in stop_sequences("completion", load_benchmark("humaneval+", shared_data).completion_stops)


def test_chat_style_unwraps_markdown_after_the_prompt(smollm2) -> None:
    _, tok = smollm2
    prompt = build_prompt(PROBLEM, "chat", tok)
    assert "def total" in prompt and prompt.endswith("assistant\n" + CHAT_RESPONSE_PREFIX)
    raw = "Here:\n```python\ndef total(xs):\n    return sum(xs)\n```\nIt sums."
    solution = to_sample(PROBLEM, "chat", raw)["solution"]
    namespace: dict = {}
    exec(solution + PROBLEM.test, namespace)  # the prompt's import keeps List defined
    assert "It sums" not in solution and "```" not in solution
    cut_off = to_sample(PROBLEM, "chat", "```python\ndef total(xs):\n    return sum(xs)")["solution"]
    assert "```" not in cut_off


def test_chat_prompt_is_evalplus_s(smollm2) -> None:
    """EvalPlus's chat prompt (evalplus 0.3.1 codegen.py and provider/utility.py
    make_raw_chat_prompt), so that a chat model's pass@k compares with its leaderboard: the task
    stripped in a bare fence after its instruction, the whole exchange templated and cut where
    the reply's python block opens."""
    _, tok = smollm2
    user = ("Please provide a self-contained Python script that solves the following problem in a "
            f"markdown code block:\n```\n{PROBLEM.prompt.strip()}\n```\n")
    reply = ("Below is a Python script with a self-contained function that solves the problem and "
             "passes corresponding tests:\n```python\n")
    assert build_prompt(PROBLEM, "chat") == [{"role": "user", "content": user}]
    whole = tok.apply_chat_template([{"role": "user", "content": user},
                                     {"role": "assistant", "content": reply + "@@SPLIT@@\n```\n"}], tokenize=False)
    assert build_prompt(PROBLEM, "chat", tok) == whole.split("@@SPLIT@@")[0]
    assert response_prefix("chat", tok) == reply


def test_chat_reply_begins_inside_a_code_block_and_stops_at_its_fence(smollm2) -> None:
    """The prompt writes the reply's opening fence, so the model writes code at once and its
    closing fence ends generation: no tokens are spent on an explanation after it."""
    _, tok = smollm2
    prefix = response_prefix("chat", tok)
    assert build_prompt(PROBLEM, "chat", tok).endswith(prefix) and prefix == CHAT_RESPONSE_PREFIX
    assert stop_sequences("chat", CODEX_STOPS, tok) == (FENCE_STOP,)
    # generation stopped at the fence: the text is the block's body, which runs
    solution = to_sample(PROBLEM, "chat", "def total(xs):\n    return sum(xs)", prefix)["solution"]
    exec(solution + PROBLEM.test, {})
    # a reply that closed the block at once and went on in prose yields no program, not the prose
    empty = to_sample(PROBLEM, "chat", "```\nI cannot help with that.\n", prefix)["solution"]
    assert "cannot" not in empty and empty.startswith(PROBLEM.prompt.rstrip("\n"))
    # a server templates the messages itself: no reply can be begun, and none is stopped early
    assert response_prefix("chat") == "" and stop_sequences("chat", CODEX_STOPS) == ()


def test_chat_keeps_the_first_block_only() -> None:
    """A usage example in a later block (here a wrong assert) must not become part of the program."""
    raw = ("```python\ndef total(xs):\n    return sum(xs)\n```\nExample usage:\n"
           "```python\nassert total([1]) == 2\n```")
    solution = to_sample(PROBLEM, "chat", raw)["solution"]
    assert "assert total([1])" not in solution
    exec(solution + PROBLEM.test, {})


def test_chat_messages_go_to_a_server_and_need_a_template_locally(tmp_path) -> None:
    messages = build_prompt(PROBLEM, "chat")  # no tokenizer: an HTTP server templates them
    assert isinstance(messages, list) and messages[0]["role"] == "user"
    assert "def total" in messages[0]["content"]

    class NoTemplate:
        chat_template = None

    with pytest.raises(ConfigError, match="--prompt chat needs a model whose tokenizer has a chat template"):
        check_chat(NoTemplate())


def test_instruction_style_matches_sft_program_text() -> None:
    """``train sft --format program`` learns ``instruction + "\\n" + program``: the prompt is the
    instruction and the output a whole program."""
    prompt = build_prompt(PROBLEM, "instruction")
    assert prompt == PROBLEM.prompt.rstrip("\n")
    assert stop_sequences("instruction", CODEX_STOPS) == ()
    solution = to_sample(PROBLEM, "instruction", "\ndef total(xs):\n    return sum(xs)\n")["solution"]
    exec(solution + PROBLEM.test, {})


def test_lintseq_style_resolves_edit_sequences() -> None:
    assert build_prompt(PROBLEM, "lintseq") == PROBLEM.prompt.rstrip("\n") + "\n" + DIFF_TOKEN
    lines = ["def total(xs):", "    s = 0", "    for x in xs:", "        s += x", "    return s"]
    edits = edit_path_from_steps(lines, [[2, 3], [1, 4], [0]])
    raw = f"\n{DIFF_TOKEN}".join(edits) + "<|im_end|>junk"  # the prompt already holds the first token
    sample = to_sample(PROBLEM, "lintseq", raw)
    assert sample["program"] == "\n".join(lines)
    assert sample["resolve_problems"] == [] and sample["edits"] == 3
    namespace: dict = {}
    exec(sample["solution"] + PROBLEM.test, namespace)
    truncated = to_sample(PROBLEM, "lintseq", edits[0] + f"\n{DIFF_TOKEN}@@ -1,0 +2,2 @@\n+    s = 0")
    assert "truncated" in " ".join(truncated["resolve_problems"])
