"""Small text utilities shared by every step that reads model or dataset code."""

from __future__ import annotations

import re

# words and single punctuation marks: the token unit of near-duplicate and diversity measures
CODE_TOKEN_RE = re.compile(r"\w+|[^\w\s]")

# a fenced block, its fences up to 3 spaces in (markdown's rule: a list item's); the closing fence
# may be missing when model output was cut off
_FENCE_RE = re.compile(r"^( {0,3})```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^ {0,3}```[ \t]*\r?$|\Z)", re.MULTILINE | re.DOTALL)
_PYTHON_TAGS = ("", "python", "py", "python3", "py3")  # a fence's language tags that mean python (or none)


def unwrap_markdown(text: str, first_only: bool = False) -> str:
    """The code inside markdown fences, or ``text`` unchanged when it has no fenced block.

    Blocks tagged ``python``/``py`` (or ``python3``/``py3``, as models also write; or untagged)
    are kept, in order, so prose around them (a model's explanation) is dropped; blocks in other
    languages count only if nothing else is fenced. ``first_only`` keeps just the first such
    block (evaluation: a usage example in a second block must not become part of the program);
    otherwise they are concatenated, each ending in a newline (the LintSeq reference's rule for
    datasets). Block bodies are kept verbatim, final newline included, so a fenced program and
    the same program unfenced are identical; a fence may stand up to 3 spaces in (a list item's),
    and its block's lines then lose up to as many, as markdown reads them. A final fence left open by truncated output still
    counts.
    """
    if "```" not in text:
        return text
    # as markdown reads an indented fence's block: its lines lose up to the fence's indentation
    blocks = [(tag.lower(), re.sub(f"(?m)^ {{1,{len(indent)}}}", "", body) if indent else body)
              for indent, tag, body in _FENCE_RE.findall(text)]
    if not blocks:
        return text
    wanted = [body for tag, body in blocks if tag in _PYTHON_TAGS]
    chosen = wanted or [body for _, body in blocks]
    if first_only:
        chosen = chosen[:1]
    if len(chosen) == 1:
        return chosen[0]
    return "".join(body if body.endswith("\n") else body + "\n" for body in chosen)


def is_python(text: str) -> bool:
    """Whether ``text`` parses as Python: a program holding a fence (a docstring's example, a
    string) is code, and only text that is not code gets its fences unwrapped."""
    import ast  # here: the sandbox's workers import this module and stay lean

    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def one_line(exc: BaseException | str, limit: int = 300) -> str:
    """An exception's (a library's) message as one line of at most ``limit`` characters, to go
    inside our own error messages."""
    return " ".join(str(exc).split())[:limit]


def cut_at_stop(text: str, stops: tuple[str, ...]) -> str:
    """``text`` up to (not including) the first occurrence of any stop sequence: how sampled
    text ends (backends) and CodeGen/CodeT's post-processing of completions (evaluation)."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i != -1), default=len(text))
    return text[:cut]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 ("1 sample", "0 samples", "3 samples")."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def listing(items: list[str], limit: int = 10) -> str:
    """The first ``limit`` items, comma-separated, with " ..." when there are more (messages)."""
    return ", ".join(items[:limit]) + (" ..." if len(items) > limit else "")
