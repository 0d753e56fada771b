"""Prompt styles and post-processing: completions, chat markdown, LintSeq edit sequences."""

from __future__ import annotations

from editseq.benchmarks import Problem
from editseq.lintseq.diffs import DIFF_TOKEN, edit_path_from_steps
from editseq.models.prompts import build_prompt, stop_sequences, to_sample

PROBLEM = Problem("T/0", 'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum."""\n',
                  "total", "", "assert total([1, 2]) == 3\n")


def test_completion_style() -> None:
    assert build_prompt(PROBLEM, "completion") == PROBLEM.prompt
    assert "\ndef" in stop_sequences("completion")
    assert to_sample(PROBLEM, "completion", "    return sum(xs)\n") == {"completion": "    return sum(xs)\n"}


def test_chat_style_unwraps_markdown_after_the_prompt(smollm2) -> None:
    _, tok = smollm2
    prompt = build_prompt(PROBLEM, "chat", tok)
    assert "def total" in prompt and prompt.endswith("assistant\n")
    raw = "Here:\n```python\ndef total(xs):\n    return sum(xs)\n```\nIt sums."
    solution = to_sample(PROBLEM, "chat", raw)["solution"]
    namespace: dict = {}
    exec(solution + PROBLEM.test, namespace)  # the prompt's import keeps List defined
    assert "It sums" not in solution and "```" not in solution
    cut_off = to_sample(PROBLEM, "chat", "```python\ndef total(xs):\n    return sum(xs)")["solution"]
    assert "```" not in cut_off


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
