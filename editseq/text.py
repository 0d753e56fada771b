"""Small text utilities shared by every step that reads model or dataset code."""

from __future__ import annotations

import re

_FENCE_RE = re.compile(r"^```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def unwrap_markdown(text: str, language: str = "python") -> str:
    """The code inside markdown fences, or ``text`` unchanged when it has no fenced block.

    Blocks tagged with ``language`` (or untagged) are kept and joined with a newline, in order,
    so prose around them (a model's explanation) is dropped. Blocks in other languages are ignored
    unless nothing else is fenced.
    """
    blocks = [(tag.lower(), body) for tag, body in _FENCE_RE.findall(text)]
    if not blocks:
        return text
    wanted = [body for tag, body in blocks if tag in ("", language, language[:2])]
    chosen = wanted or [body for _, body in blocks]
    return "\n".join(body[:-1] if body.endswith("\n") else body for body in chosen)
