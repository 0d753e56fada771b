"""The real ``editseq lintseq`` command on small inputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from editseq.cli import main


def test_printed_reasons_account_for_every_failed_record(tmp_path: Path, capsys) -> None:
    """Was: the run printed the 5 commonest failure reasons only, so 7 failed records of 7 reasons
    showed 5 lines counting 5, and nothing said where the other 2 were."""
    lines = ["{bad json", json.dumps({"prog": "x = 1\n"}), json.dumps({"program": ""}),
             json.dumps({"program": "def f(:\n"}), json.dumps({"program": "x = '<|diff|>'\n"}),
             json.dumps({"program": "x = 1\n", "edit_path": []}), json.dumps({"program": 5}),
             json.dumps({"program": "def f():\n    return 1\n"})]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    assert main(["lintseq", str(source), str(tmp_path / "out.jsonl"), "--workers", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "8 records: 1 converted, 7 failed" in out
    counts = [int(n) for n in re.findall(r"^ +(\d+)  ", out, re.MULTILINE)]
    assert sum(counts) == 7 and len(counts) == 6  # the 5 commonest, then the rest on one line
    assert f"2 other reasons: see {tmp_path / 'out.errors.jsonl'}" in out


def test_help_lists_the_linters_and_line_choices_and_a_wrong_one_is_refused(tmp_path: Path, capsys) -> None:
    """Was: --linter and --choice showed as TEXT in --help (checked only once the run began)."""
    assert main(["lintseq", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "--linter [fast|pylint|none]" in shown and "--choice [indent|uniform]" in shown
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"program": "x = 1\n"}) + "\n")
    assert main(["lintseq", str(source), str(tmp_path / "out.jsonl"), "--linter", "flake8"]) == 2
    assert "'flake8' is not one of 'fast', 'pylint', 'none'" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()
