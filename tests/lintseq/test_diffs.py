import difflib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from editseq.lintseq.diffs import (
    DiffError,
    apply_edit,
    apply_edit_path,
    edit_path_from_steps,
    render_insertion,
    render_training_text,
    resolve,
    split_lines,
)

LINES = st.lists(
    st.text(alphabet=st.sampled_from(list("ab +-@ \t#x:()'")), max_size=8), min_size=1, max_size=25
)


@st.composite
def steps_for(draw, n: int) -> list[list[int]]:
    """Deletion steps over ``n`` lines, leaving up to half of them to no step (as a program of
    comments only leaves all): the edit path writes those first."""
    order = draw(st.permutations(range(n)))
    prev = draw(st.integers(0, n // 2))  # order[:prev] stays
    cuts = sorted(draw(st.sets(st.integers(1, max(1, n - 1)), max_size=n)))
    groups = []
    for c in [*cuts, n]:
        if c > prev:
            groups.append(sorted(order[prev:c]))
            prev = c
    return groups


@given(LINES, st.data())
def test_round_trip_is_lossless(lines, data):
    steps = data.draw(steps_for(len(lines)))
    path = edit_path_from_steps(lines, steps)
    assert apply_edit_path(path) == lines
    cut = data.draw(st.integers(0, len(path)))  # from an intermediate state, as the report replays them
    assert apply_edit_path(path[cut:], apply_edit_path(path[:cut])) == lines
    for edit in path:  # insert-only, never empty
        rows = edit.split("\n")
        assert rows[0].startswith("@@ -")
        assert all(r.startswith(("+", "@@ -")) for r in rows)
        assert any(r.startswith("+") for r in rows)


@given(LINES, st.data())
def test_training_text_resolves_to_the_program(lines, data):
    """What a model trained on the text would write, parsed back: the program, no problems."""
    steps = data.draw(steps_for(len(lines)))
    path = edit_path_from_steps(lines, steps)
    resolved = resolve(render_training_text("", path) + "<|endoftext|>")
    assert resolved.program == "\n".join(lines)
    assert resolved.problems == []


@given(LINES, st.data())
def test_matches_difflib_when_lines_are_unique(lines, data):
    lines = [f"{i}:{line}" for i, line in enumerate(lines)]  # unique, so difflib's alignment is ours
    old = sorted(data.draw(st.sets(st.sampled_from(range(len(lines))))))
    inserted = [i for i in range(len(lines)) if i not in old]
    if not inserted:
        return
    expected = "\n".join(
        list(difflib.unified_diff([lines[i] for i in old], lines, n=0, lineterm=""))[2:]
    )
    assert render_insertion(lines, old, inserted) == expected


def test_special_lines_survive():
    lines = ["@@ -1 +1 @@", "+x", "-y", "", "\tz = 1  ", "    ", "# @@"]
    path = edit_path_from_steps(lines, [[0, 1], [2, 3, 4], [5, 6]])
    assert apply_edit_path(path) == lines
    assert resolve(render_training_text("", path)).program == "\n".join(lines)


def test_strict_apply_rejects_bad_edits():
    with pytest.raises(DiffError):
        apply_edit(["a"], "@@ -5,0 +6 @@\n+x")  # beyond the end
    with pytest.raises(DiffError):
        apply_edit([], "@@ -0,0 +1,2 @@\n+x")  # truncated
    with pytest.raises(DiffError):
        apply_edit([], "+x")  # no header
    with pytest.raises(DiffError, match="out of order"):
        apply_edit(["a", "b"], "@@ -2,0 +3 @@\n+x\n@@ -0,0 +1 @@\n+y")
    # context rows must name the line they stand on, and count on both sides
    assert apply_edit(["a", "b"], "@@ -2 +2,2 @@\n b\n+x") == ["a", "b", "x"]
    with pytest.raises(DiffError, match="unexpected line"):
        apply_edit(["a", "b"], "@@ -2 +2,2 @@\n a\n+x")
    with pytest.raises(DiffError, match=r"^edit 1: line 1 .*not a hunk header"):  # which edit failed
        apply_edit_path(["@@ -0,0 +1 @@\n+x", "garbage"])
    with pytest.raises(DiffError, match="new-side position"):
        apply_edit(["a"], "@@ -1,0 +5 @@\n+x")  # resolve places it at new line 5: the end
    with pytest.raises(DiffError, match="new-side position"):
        apply_edit(["a", "b"], "@@ -1,0 +2 @@\n+x\n@@ -2,0 +3 @@\n+y")  # the first hunk's line not counted


def test_training_text_and_resolve_round_trip():
    lines = ["def f():", "    return 1", "", "print(f())"]
    path = edit_path_from_steps(lines, [[3], [0, 1, 2]])
    text = render_training_text("Write f.", path)
    assert text == f"Write f.\n<|diff|>{path[0]}\n<|diff|>{path[1]}"  # the reference's layout, exactly
    resolved = resolve(text[len("Write f.") :] + "<|endoftext|>")
    assert resolved.program == "\n".join(lines)
    assert resolved.problems == []
    assert resolved.edits == 2


def test_resolve_truncated_and_malformed_output():
    text = "\n<|diff|>@@ -0,0 +1,2 @@\n+def f():\n+    return 1\n<|diff|>@@ -2,0 +3,3 @@\n+print(f())\n+pri"
    r = resolve(text)
    assert r.program == "def f():\n    return 1\nprint(f())\npri"
    assert any("truncated" in p for p in r.problems)
    r = resolve("\n<|diff|>garbage\n@@ -0,0 +1 @@\n+x = 1")
    assert r.program == "x = 1" and any("stray" in p for p in r.problems)
    r = resolve("\n<|diff|>@@ -9,0 +10 @@\n+y = 2")
    assert r.program == "y = 2" and any("beyond" in p for p in r.problems)
    r = resolve("\n<|diff|>@@ -0,0 +1,2 @@\n+a\n+b\n<|diff|>@@ -0,0 +0 @@\n+c")  # before the first line
    assert r.program == "a\nb\nc" and r.problems == ["edit 1: hunk '@@ -0,0 +0 @@' beyond the end; appended"]
    # an edit without a hunk adds nothing and is not counted; removing a line that is not there
    # is skipped, named
    r = resolve("\n<|diff|>@@ -0,0 +1,2 @@\n+a\n-b\n+c\n<|diff|>no hunk here")
    assert (r.program, r.edits) == ("a\nc", 1)
    assert r.problems == ["edit 0: hunk '@@ -0,0 +1,2 @@' removes a line that is not there: '-b'",
                          "edit 1: stray line skipped: 'no hunk here'", "edit 1: no hunk"]


def test_resolve_cuts_eos_as_a_token_not_a_character_set():
    # the reference's rstrip("<|endoftext|>") would eat the trailing "t>" and "x" characters
    for eos in ("<|endoftext|>", "</s>", "<|im_end|>", "<|eot_id|>"):  # each model family's own
        r = resolve(f"\n<|diff|>@@ -0,0 +1,2 @@\n+s = '<t>'\n+-x + 1{eos}\n<|diff|>@@ -2,0 +3 @@\n+ignored")
        assert r.program == "s = '<t>'\n-x + 1"


def _completion(path: list[str]) -> str:
    """What a model writes after a prompt that ends with the first ``<|diff|>``."""
    return render_training_text("", path)[len("\n<|diff|>") :]


@given(LINES, st.data())
def test_a_completion_keeps_its_first_edit(lines, data):
    """`evaluate --resolve-edits` resolves a completion: the text before its first <|diff|> is edit 0."""
    path = edit_path_from_steps(lines, data.draw(steps_for(len(lines))))
    resolved = resolve(_completion(path) + "<|endoftext|>")
    assert resolved.program == "\n".join(lines)
    assert resolved.problems == []
    assert resolved.edits == len(path)


def test_text_before_the_first_diff_without_a_hunk_is_the_prompt():
    r = resolve("Write x.\n<|diff|>@@ -0,0 +1 @@\n+x = 1")
    assert r.program == "x = 1" and r.problems == ["text before the first <|diff|> ignored"]


@given(LINES, st.data())
def test_the_references_trailing_empty_edits_are_ignored(lines, data):
    """The reference's finetune script ends the training text with two empty edits before EOS."""
    path = edit_path_from_steps(lines, data.draw(steps_for(len(lines))))
    resolved = resolve(render_training_text("", path) + "\n<|diff|>\n<|diff|><|endoftext|>")
    assert resolved.program == "\n".join(lines)
    assert resolved.problems == []


def test_context_rows_move_the_insertion_point():
    r = resolve("\n<|diff|>@@ -0,0 +1,2 @@\n+def f():\n+    return 1\n<|diff|>@@ -1,1 +1,2 @@\n def f():\n+    x = 2")
    assert r.program == "def f():\n    x = 2\n    return 1"
    assert r.problems == []


@given(LINES, st.data(), st.integers(1, 3))
def test_difflib_hunks_with_context_resolve(lines, data, context):
    """An insertion rendered by difflib with context lines resolves to the new program."""
    lines = [f"{i}:{line}" for i, line in enumerate(lines)]  # unique, so difflib inserts only
    old = sorted(data.draw(st.sets(st.sampled_from(range(len(lines))))))
    old_lines = [lines[i] for i in old]
    edit = "\n".join(list(difflib.unified_diff(old_lines, lines, n=context, lineterm=""))[2:])
    text = "\n<|diff|>".join(([render_insertion(lines, [], old)] if old else []) + ([edit] if edit else []))
    resolved = resolve(text)
    assert resolved.program == "\n".join(lines)
    assert resolved.problems == []


@given(LINES, LINES, st.integers(0, 3))
def test_any_difflib_diff_resolves(old, new, context):
    """The reference diffs ``strip()``ped states, so its edits hold ``-`` rows (a line whose trailing
    whitespace came back is removed and inserted again; 145 of MBPP's and HumanEval's 1,141
    sequences): they were skipped, leaving the old line beside the new one. Any unified diff of
    old to new now resolves to new."""
    edit = "\n".join(list(difflib.unified_diff(old, new, n=context, lineterm=""))[2:])
    text = "\n<|diff|>".join([render_insertion(old, [], list(range(len(old)))), *([edit] if edit else [])])
    resolved = resolve(text)
    assert resolved.program == "\n".join(new)
    assert resolved.problems == []
    assert apply_edit_path([edit] if edit else [], old) == new  # and the strict applier takes it


def test_the_references_own_edits_resolve():
    """Edits as pylintseq 0.0.2 writes them: its second edit removes and re-inserts line 2."""
    edits = ["@@ -0,0 +1,2 @@\n+def f(x): \n+    return x",
             "@@ -2 +2,3 @@\n-    return x\n+    return x \n+def g(a):\n+    return f(a)"]
    resolved = resolve("Write g.\n<|diff|>" + "\n<|diff|>".join(edits) + "<|endoftext|>")
    assert resolved.program == "def f(x): \n    return x \ndef g(a):\n    return f(a)"
    assert resolved.problems == ["text before the first <|diff|> ignored"]
    assert apply_edit_path(edits) == resolved.program.split("\n")  # the strict applier agrees


def test_a_removed_row_that_names_another_line_removes_nothing():
    r = resolve("\n<|diff|>@@ -0,0 +1 @@\n+x = 1\n<|diff|>@@ -1 +1 @@\n-y = 2\n+z = 3")
    assert r.program == "z = 3\nx = 1"
    assert r.problems == ["edit 1: hunk '@@ -1 +1 @@' removes a line that is not there: '-y = 2'"]


def test_rows_beyond_an_undercounting_header_are_kept():
    r = resolve("\n<|diff|>@@ -0,0 +1 @@\n+def f(x):\n+    return x")
    assert r.program == "def f(x):\n    return x"
    assert any("declares 1 lines but has 2" in p for p in r.problems)
    # "+2,0" (no new lines) stands after line 2, where its rows go
    r = resolve("\n<|diff|>@@ -0,0 +1,2 @@\n+a\n+b\n<|diff|>@@ -2,0 +2,0 @@\n+c")
    assert r.program == "a\nb\nc" and any("declares 0 lines but has 1" in p for p in r.problems)


@given(LINES, st.data())
def test_hunks_of_one_edit_out_of_order_are_placed_by_position(lines, data):
    steps = data.draw(steps_for(len(lines)))
    path = edit_path_from_steps(lines, steps)
    n = data.draw(st.integers(0, len(path) - 1))
    rows = path[n].split("\n")
    starts = [i for i, row in enumerate(rows) if row.startswith("@@ -")]
    hunks = ["\n".join(rows[a:b]) for a, b in zip(starts, [*starts[1:], len(rows)], strict=True)]
    shuffled = data.draw(st.permutations(hunks))
    path[n] = "\n".join(shuffled)
    resolved = resolve(render_training_text("", path))
    assert resolved.program == "\n".join(lines)
    assert resolved.problems == ([] if shuffled == hunks else [f"edit {n}: hunks out of order; placed by their new-file positions"])


# characters str.splitlines breaks at but Python does not end a line at, and Python's own line ends
ODD_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
ODD_TEXT = st.text(alphabet=st.sampled_from(list(ODD_BREAKS + "\r\nab #")), max_size=40)


@given(ODD_TEXT)
def test_split_lines_breaks_only_where_python_does(text):
    lines = split_lines(text)
    assert not any("\r" in line or "\n" in line for line in lines)
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    assert "\n".join(lines) == normalized.removesuffix("\n")  # every odd character kept in its line
    if not any(c in text for c in ODD_BREAKS):
        assert lines == text.splitlines()


@given(ODD_TEXT, st.data())
def test_lines_with_odd_breaks_round_trip(text, data):
    lines = split_lines(text)
    if not lines:
        return
    path = edit_path_from_steps(lines, data.draw(steps_for(len(lines))))
    assert apply_edit_path(path) == lines
    assert resolve(render_training_text("", path)).program == "\n".join(lines)


def test_a_line_separator_in_a_comment_stays_in_the_comment():
    program = 'x = 1  # a\u2028print("pwned")'
    assert split_lines(program) == [program]  # splitlines() gives two lines: the print becomes code
