"""Histories and truncation, against hand-worked examples of the reference's rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from editseq.mtpb import prompts
from editseq.mtpb.data import Case, Problem
from editseq.text import cut_at_stop


def test_truncate_reference_example() -> None:
    text = "\nif len_a > len_b:\n    result = a\nelse:\n    result = b\n\n\n\n#"
    assert prompts.truncate(text) == "\nif len_a > len_b:\n    result = a\nelse:\n    result = b"


def test_truncate_order() -> None:
    assert prompts.truncate("x = 1\nprint(x)\nprint(x + 1)\n") == "x = 1\nprint(x)\n"
    assert prompts.truncate("def f():\n    return 1\ndef g():\n    pass") == "def f():\n    return 1\n"
    assert prompts.truncate("a = 1\n    # inner comment\nb = 2\n# next turn\nc") == "a = 1\n    # inner comment\nb = 2\n"
    assert prompts.truncate("a = 1<|endoftext|>junk") == "a = 1"
    assert prompts.truncate('a = 1\n"""doc\n') == prompts.truncate("a = 1\n'''doc\n") == "a = 1\n"
    assert prompts.truncate("a = 1\n\n\nb = 2") == "a = 1"
    # the print cut comes first, then the def cut applies to what is left
    assert prompts.truncate("def f(): pass\nprint(1)\ndef g(): pass\nprint(2)\n") == \
        "def f(): pass\nprint(1)\n"


def test_truncate_single_keeps_a_whole_program() -> None:
    text = "def f():\n    return 1\n\n\ndef g():\n    return 2\n# comment\nprint(f())\nprint(g())<|endoftext|>x"
    assert prompts.truncate_single(text) == text.split("<|endoftext|>")[0]
    assert prompts.truncate_single("a = 1\n\n\n\nb = 2") == "a = 1"
    assert prompts.truncate_single('a = 1\n"""doc\n') == prompts.truncate_single("a = 1\n'''doc\n") == "a = 1\n"


PIECES = st.sampled_from(["\n", "\n\n", "\n\n\n", "a", " ", "#", "print(1)", "def f():", "'''", '"""', "<|endoftext|>"])


@given(st.lists(PIECES, max_size=30).map("".join), st.sampled_from(["multi", "single"]))
def test_early_stops_cut_nothing_that_truncation_keeps(text: str, mode: str) -> None:
    """A backend stopping at EARLY_STOP yields the same truncated completion as a full generation."""
    truncate = prompts.truncate if mode == "multi" else prompts.truncate_single
    assert truncate(cut_at_stop(text, prompts.EARLY_STOP[mode])) == truncate(text)


PROBLEM = Problem("0", "toy", "math", ("Set x to {a}.", "Print x."), (Case({"a": 3}, 3),), 128)


def test_history_and_program() -> None:
    assert prompts.history(PROBLEM.turn_prompts(0)[:1], []) == \
        "# Import libraries.\n\nimport numpy as np\n\n# Set x to 3.\n"
    program = prompts.program(PROBLEM, 0, ["x = 3", "print(x)"])
    assert program == ("# Import libraries.\n\nimport numpy as np\n\n# Set x to 3.\nx = 3\n\n"
                       "# Print x.\nprint(x)\n\n")


def test_single_turn_joining() -> None:
    spec = prompts.single_turn_prompt(PROBLEM.turn_prompts(0))
    assert spec == "# Import libraries.\n\nimport numpy as np\n\n# Set x to 3.\n# Print x.\n"
    assert prompts.program(PROBLEM, 0, ["x = 3\nprint(x)"], "single") == spec + "x = 3\nprint(x)\n\n"
    assert prompts.max_new_tokens(PROBLEM, "single") == 256
    assert prompts.max_new_tokens(PROBLEM) == 128
    # --max-new-tokens bounds the per-turn budget (single-turn: once per turn)
    assert prompts.max_new_tokens(PROBLEM, cap=64) == 64 and prompts.max_new_tokens(PROBLEM, "single", 64) == 128
