from hypothesis import given
from hypothesis import strategies as st

from editseq.benchmarks import CODEX_STOPS
from editseq.text import counted, cut_at_stop, unwrap_markdown

CODE_TEXT = st.text(alphabet=st.sampled_from(list("abc def():#\n`x=1 print class if")), max_size=80)


def test_plain_text_is_unchanged():
    assert unwrap_markdown("def f():\n    return 1\n") == "def f():\n    return 1\n"


def test_python_blocks_are_joined_and_prose_dropped():
    text = "Sure:\n```python\nx = 1\n```\nand\n```py\ny = 2\n```\n```bash\nls\n```\nDone."
    assert unwrap_markdown(text) == "x = 1\ny = 2\n"
    assert unwrap_markdown(text, first_only=True) == "x = 1\n"


def test_other_languages_only_when_nothing_else_is_fenced():
    assert unwrap_markdown("```text\nhello\n```") == "hello\n"
    # an untagged block is taken as code, and a tag's case does not matter
    assert unwrap_markdown("```\nx = 1\n```\n```bash\nls\n```\n```Python\ny = 2\n```") == "x = 1\ny = 2\n"


def test_python3_blocks_are_python():
    """Was: a reply's ```python3 block counted as another language, so the untagged output block
    after it became the program ("6")."""
    reply = "Here:\n```python3\ndef f():\n    return 6\n```\nOutput:\n```\n6\n```\n"
    assert unwrap_markdown(reply, first_only=True) == "def f():\n    return 6\n"
    assert unwrap_markdown("```py3\nx = 1\n```\n```bash\nls\n```") == "x = 1\n"


def test_only_fences_at_line_start_count():
    """A program holding a fence that opens no block (inside a line, or indented in a docstring's
    markdown example) comes back whole, not cut there or emptied."""
    inline = 'FENCE = "```"\nprint(FENCE)\n'
    assert unwrap_markdown(inline) == inline
    program = 'def f():\n    """Usage:\n    ```\n    f()\n    ```\n    """\n'
    assert unwrap_markdown(f"```python\n{program}```\n") == program


def test_truncated_output_keeps_the_open_block():
    assert unwrap_markdown("Here you go\n```python\ndef f():\n    return") == "def f():\n    return"
    # joined with an earlier block, it ends in a newline like every joined block
    assert unwrap_markdown("```python\nx = 1\n```\n```python\ny = 2") == "x = 1\ny = 2\n"


@given(st.text(max_size=60).filter(lambda t: "```" not in t))
def test_fence_free_text_is_unchanged(text: str) -> None:
    assert unwrap_markdown(text) == text and unwrap_markdown(text, first_only=True) == text


def test_codegen_stop_sequences_cut_completions() -> None:
    body = "    return 1\n"
    for tail in ("\ndef g():", "\nclass A:", "\n# note", "\nif __name__", "\nprint(f())"):
        assert cut_at_stop(body + tail, CODEX_STOPS) == body
    assert cut_at_stop("x\nclass Y\ndef z", CODEX_STOPS) == "x"  # the earliest stop wins
    assert cut_at_stop("abc", ()) == "abc" and cut_at_stop("abc", ("",)) == "abc"


@given(CODE_TEXT, st.lists(st.sampled_from(["\ndef", "\nclass", "\n#", "print", "`"]), max_size=3))
def test_cut_at_stop_is_the_longest_stop_free_prefix(text: str, stops: list[str]) -> None:
    cut = cut_at_stop(text, tuple(stops))
    assert text.startswith(cut)
    assert not any(s in cut for s in stops)
    assert cut == text or any(text[len(cut):].startswith(s) for s in stops)
    assert cut_at_stop(cut, tuple(stops)) == cut


def test_counted_is_singular_for_one_only() -> None:
    assert [counted(n, "sample") for n in (0, 1, 2)] == ["0 samples", "1 sample", "2 samples"]
    assert counted(1, "new sample") == "1 new sample" and counted(3, "child", "children") == "3 children"


def test_a_block_indented_in_a_list_item_is_unwrapped_and_dedented():
    """Markdown lets a fence stand 1 to 3 spaces in (a chat reply's numbered steps put it so);
    such a reply was left whole, prose and fences, and its program failed as a syntax error."""
    reply = "1. Define it:\n   ```python\n   def f():\n       return 1\n   ```\n2. Call it: `f()`."
    assert unwrap_markdown(reply, first_only=True) == "def f():\n    return 1\n"
    # a line indented less than the fence loses what it has
    assert unwrap_markdown("  ```\n  x = [\n 1]\n  ```") == "x = [\n1]\n"


def test_a_block_closed_with_a_windows_line_end_ends_there():
    """A reply with \\r\\n line ends: its closing fence (```\\r) was not seen, so the block ran on
    to the end, fence and prose included."""
    assert unwrap_markdown("```python\r\nx = 1\r\n```\r\nDone.\r\n") == "x = 1\r\n"
