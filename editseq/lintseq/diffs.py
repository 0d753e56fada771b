"""The one diff engine: render insert-only edits, apply them, and resolve model output into programs.

Format (the reference's, so its data and tools interoperate): an edit is the text of
``difflib.unified_diff(old, new, n=0)`` without the ``---``/``+++`` header lines: one or more hunks
``@@ -a,0 +c,k @@`` each followed by its ``+`` lines, joined with ``"\\n"``. The training text is
the instruction followed by ``"\\n<|diff|>" + edit`` for each edit.

Unlike the reference, edits are rendered from the exact line sets (never ``strip()``ped text and no
sequence matching), so applying them reproduces ``split_lines(program)`` exactly, and parsing is
driven by the hunk counts, so code lines containing ``@@`` or starting with ``+``/``-`` survive.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

DIFF_TOKEN = "<|diff|>"
EOS_TEXTS = ("<|endoftext|>", "</s>", "<|im_end|>", "<|eot_id|>")  # each model family's own: resolve stops at them
HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")  # Python's own line ends, and only those


def split_lines(program: str) -> list[str]:
    """The program's lines, split where Python ends a line: ``\\r\\n``, ``\\r`` or ``\\n``.

    Unlike ``str.splitlines`` it keeps ``\\x0b``, ``\\x0c``, ``\\x1c``-``\\x1e``, ``\\x85``,
    ``\\u2028`` and ``\\u2029`` inside their line: Python does not end a line there, so splitting
    would turn a comment's tail into live code. A final line end ends the last line (no empty line
    follows), as with ``splitlines``.
    """
    lines = LINE_BREAK_RE.split(program)
    if lines[-1] == "":
        lines.pop()
    return lines


def join_lines(lines: Iterable[str]) -> str:
    """The program file of ``lines``: every line ended by ``\\n``, the last one too, as
    ``split_lines`` read it. Python needs that last line end when a backslash continues a line onto
    an empty last line (``"x = 1 \\\\\\n\\n"``, valid): ``"\\n".join`` ends that program in
    the backslash, a syntax error. So programs and their states are parsed and linted in this form."""
    return "".join(line + "\n" for line in lines)


class DiffError(ValueError):
    """An edit that does not apply; the message says which hunk and why."""


def _range(start: int, length: int) -> str:
    """difflib's unified range format (``_format_range_unified``) for 0-based ``start``."""
    if length == 1:
        return str(start + 1)
    if length == 0:
        return f"{start},0"
    return f"{start + 1},{length}"


def render_insertion(lines: list[str], old: list[int], inserted: list[int]) -> str:
    """The edit that inserts line indices ``inserted`` into a state holding ``old`` (both sorted).

    Costs O(k log n) for k inserted lines: a hunk is a run of inserted lines that fall between the
    same two old lines, so its position comes from a bisection, not a walk over the state.
    """
    hunks: list[str] = []
    run_start = 0
    for rank, line in enumerate(inserted):
        before = bisect.bisect_left(old, line)  # old lines in front of this one
        if rank + 1 < len(inserted) and bisect.bisect_left(old, inserted[rank + 1]) == before:
            continue  # the next inserted line joins this hunk
        count = rank + 1 - run_start
        hunks.append(f"@@ -{_range(before, 0)} +{_range(before + run_start, count)} @@")
        hunks.extend("+" + lines[i] for i in inserted[run_start : rank + 1])
        run_start = rank + 1
    return "\n".join(hunks)


def edit_path_from_steps(lines: list[str], steps: list[list[int]]) -> list[str]:
    """Insert-only edits that rebuild the program, from deletion steps (in deletion order)."""
    deleted = {i for step in steps for i in step}
    state = [i for i in range(len(lines)) if i not in deleted]
    edits: list[str] = []
    if state:  # lines no step deleted (a program of comments only) come first
        edits.append(render_insertion(lines, [], state))
    for step in reversed(steps):
        edits.append(render_insertion(lines, state, step))
        state = sorted([*state, *step])
    return edits


def apply_edit(state: list[str], edit: str) -> list[str]:
    """Apply one edit strictly: counts, positions and removed/context lines must match."""
    out: list[str] = []
    pos = 0  # next old line to copy
    rows = edit.split("\n")
    i = 0
    if not rows or not edit:
        raise DiffError("empty edit")
    while i < len(rows):
        m = HUNK_RE.match(rows[i])
        if not m:
            raise DiffError(f"line {i + 1} of the edit is not a hunk header: {rows[i][:60]!r}")
        a, alen, c, clen = (int(g) if g is not None else 1 for g in m.groups())
        start = a if alen == 0 else a - 1
        if start < pos or start > len(state):
            raise DiffError(f"hunk {m.group(0)!r} is out of order or beyond the end ({len(state)} lines)")
        out.extend(state[pos:start])
        if c != (len(out) + 1 if clen else len(out)):  # the new side's position, as difflib writes it
            raise DiffError(f"hunk {m.group(0)!r}: its new-side position does not follow from its old one")
        pos = start
        i += 1
        need_old, need_new = alen, clen
        while need_old or need_new:
            if i >= len(rows):
                raise DiffError(f"hunk {m.group(0)!r} is truncated")
            tag, text = rows[i][:1], rows[i][1:]
            if tag == "+" and need_new:
                out.append(text)
                need_new -= 1
            elif tag in ("-", " ") and need_old and pos < len(state) and state[pos] == text:
                if tag == " ":
                    out.append(text)
                    need_new -= 1
                need_old -= 1
                pos += 1
            else:
                raise DiffError(f"hunk {m.group(0)!r}: unexpected line {rows[i][:60]!r}")
            i += 1
    out.extend(state[pos:])
    return out


def apply_edit_path(edit_path: list[str], start: list[str] | None = None) -> list[str]:
    """Apply edits in order (strict) to ``start`` (default: the empty program)."""
    state = list(start or [])
    for n, edit in enumerate(edit_path):
        try:
            state = apply_edit(state, edit)
        except DiffError as exc:
            raise DiffError(f"edit {n}: {exc}") from None
    return state


def render_training_text(instruction: str, edit_path: list[str]) -> str:
    """Training text in the reference's format: the instruction, then ``"\\n<|diff|>" + edit`` per
    edit (its fine-tuning script also appends two empty edits, which add nothing)."""
    return instruction + "".join(f"\n{DIFF_TOKEN}{edit}" for edit in edit_path)


@dataclass
class Resolved:
    """A program recovered from model output, with what was wrong on the way."""

    program: str
    problems: list[str] = field(default_factory=list)
    edits: int = 0  # edits that contributed at least one line


def resolve(text: str) -> Resolved:
    """Turn a (possibly truncated or malformed) edit sequence into the best program it describes.

    Edits are split on ``<|diff|>``. Text before the first ``<|diff|>`` is edit 0 when it holds a
    hunk header (a ``completion`` after a prompt ending in ``<|diff|>``), else it is the prompt and
    ignored. Empty edits (the reference trains on two before end-of-sequence) change nothing and
    are skipped silently. Each edit's hunks are placed in order of their new-file positions; a
    hunk's ``+`` rows are inserted, its context rows move the insertion point past the line they
    name, and its ``-`` rows remove the line there when it is the one they name (the reference's
    own edits hold such rows: it diffs ``strip()``ped states, so a line whose trailing whitespace
    came back is removed and inserted again). Hunks whose line counts are wrong keep every ``+``
    row up to the next header (as the reference does). Text after an end-of-sequence token is dropped as a whole token, never
    as a character set. Anything skipped or repaired is reported in ``problems``.
    """
    problems: list[str] = []
    for token in EOS_TEXTS:
        cut = text.find(token)
        if cut != -1:
            text = text[:cut]
    chunks = text.split(DIFF_TOKEN)
    if not chunks[0].strip():
        chunks = chunks[1:]
    elif len(chunks) > 1 and not any(HUNK_RE.match(row) for row in chunks[0].split("\n")):
        problems.append("text before the first <|diff|> ignored")
        chunks = chunks[1:]
    lines: list[str] = []
    used = 0
    for n, chunk in enumerate(chunks):
        if not chunk.strip():
            continue  # an empty edit, as the reference's training text ends with
        before = len(lines)
        lines = _apply_lenient(lines, chunk.rstrip("\n"), n, problems)
        used += len(lines) != before
    return Resolved("\n".join(lines), problems, used)


@dataclass
class _Hunk:
    header: str
    new_start: int  # 0-based index in the new file where the hunk begins
    declared: int  # new-side line count in the header
    rows: list[str]  # "+", "-" and " " rows, in order


def _parse_hunks(chunk: str, n: int, problems: list[str]) -> list[_Hunk]:
    """The edit's hunks; every row up to the next header belongs to the hunk above it."""
    hunks: list[_Hunk] = []
    for row in chunk.split("\n"):
        m = HUNK_RE.match(row)
        if m:
            c = int(m.group(3))
            count = int(m.group(4)) if m.group(4) is not None else 1
            hunks.append(_Hunk(m.group(0), c - 1 if count else c, count, []))
        elif not hunks:
            if row.strip():
                problems.append(f"edit {n}: stray line skipped: {row[:60]!r}")
        elif row.startswith(("+", "-", " ")):
            hunks[-1].rows.append(row)
        else:
            problems.append(f"edit {n}: line with no +, - or space skipped: {row[:60]!r}")
    for h in hunks:
        new = sum(not row.startswith("-") for row in h.rows)  # the rows the header's new count counts
        if new < h.declared:
            problems.append(f"edit {n}: hunk {h.header!r} has {new} of {h.declared} lines (truncated?)")
        elif new > h.declared:
            problems.append(f"edit {n}: hunk {h.header!r} declares {h.declared} lines but has {new}; all kept")
    return hunks


def _apply_lenient(lines: list[str], chunk: str, n: int, problems: list[str]) -> list[str]:
    hunks = _parse_hunks(chunk, n, problems)
    if not hunks:
        problems.append(f"edit {n}: no hunk")
        return lines
    placed = sorted(hunks, key=lambda h: h.new_start)  # stable: equal positions keep their order
    if placed != hunks:
        problems.append(f"edit {n}: hunks out of order; placed by their new-file positions")
    lines = list(lines)
    for h in placed:
        at = h.new_start
        if at > len(lines) or at < 0:
            problems.append(f"edit {n}: hunk {h.header!r} beyond the end; appended")
            at = len(lines)
        for row in h.rows:
            if row.startswith("-"):
                if at < len(lines) and lines[at] == row[1:]:
                    del lines[at]
                else:
                    problems.append(f"edit {n}: hunk {h.header!r} removes a line that is not there: {row[:60]!r}")
                continue
            if row.startswith("+"):
                lines.insert(at, row[1:])
            at = min(at + 1, len(lines))  # a context row: its line stays, the next row goes after it
    return lines
