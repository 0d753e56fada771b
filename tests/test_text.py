from editseq.text import unwrap_markdown


def test_plain_text_is_unchanged():
    assert unwrap_markdown("def f():\n    return 1\n") == "def f():\n    return 1\n"


def test_python_blocks_are_joined_and_prose_dropped():
    text = "Sure:\n```python\nx = 1\n```\nand\n```py\ny = 2\n```\n```bash\nls\n```\nDone."
    assert unwrap_markdown(text) == "x = 1\ny = 2\n"
    assert unwrap_markdown(text, first_only=True) == "x = 1\n"


def test_other_languages_only_when_nothing_else_is_fenced():
    assert unwrap_markdown("```text\nhello\n```") == "hello\n"


def test_truncated_output_keeps_the_open_block():
    assert unwrap_markdown("Here you go\n```python\ndef f():\n    return") == "def f():\n    return"
