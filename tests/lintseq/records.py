"""Input and output files of ``editseq lintseq`` runs in tests: raw JSONL lines in, records out."""

from __future__ import annotations

import json
from pathlib import Path

GOOD = "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n"


def write_lines(path: Path, lines: list[bytes]) -> None:
    """Write ``lines`` as they are (broken JSON, stray bytes), one per line."""
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def output_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]
