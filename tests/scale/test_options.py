"""The options every command that spreads work shares (``editseq.scale.ScaleOptions``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from editseq.cli import main


@pytest.mark.parametrize("command", [["lintseq", "in.jsonl", "out.jsonl"], ["evaluate", "s.jsonl"],
                                     ["mtpb", "evaluate", "r.jsonl"]])
def test_an_address_without_the_ray_backend_is_refused(command: list[str], tmp_path: Path, capsys,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: ``--address`` without ``--backend ray`` ran everything on this machine, in silence,
    while the cluster named sat idle."""
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--address", "auto"]) == 2
    assert "--address auto is a Ray cluster's: add --backend ray" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
