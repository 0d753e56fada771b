"""What identifies an input: a folder's fingerprint follows its content, not where it lies."""

from __future__ import annotations

import shutil
from pathlib import Path

from editseq.io.identity import dataset_files, files_sha256


def _folder(root: Path) -> list[Path]:
    (root / "pkg").mkdir(parents=True)
    files = [root / "a.py", root / "pkg" / "b.py"]
    files[0].write_text("x = 1\n")
    files[1].write_text("y = 2\n")
    return files


def test_a_folder_is_known_by_its_files_content_and_names_not_its_place(tmp_path: Path) -> None:
    here = tmp_path / "here"
    files = _folder(here)
    before = files_sha256(here, files)
    moved = tmp_path / "moved"
    shutil.copytree(here, moved)
    assert files_sha256(moved, [moved / f.relative_to(here) for f in files]) == before
    assert files_sha256(here, reversed(files)) == before  # the order they were found in is no part of it
    files[1].write_text("y = 3\n")
    assert files_sha256(here, files) != before
    files[1].write_text("y = 2\n")
    renamed = here / "pkg" / "c.py"
    files[1].rename(renamed)
    assert files_sha256(here, [files[0], renamed]) != before
    assert files_sha256(here, files[:1]) != before  # a file removed


def test_a_file_or_an_unreadable_folder_has_no_dataset_files(tmp_path: Path) -> None:
    """Files are known by their own sha256 (``run_settings``); a folder ``datasets`` cannot read
    reports its own error when it is read."""
    (tmp_path / "corpus.jsonl").write_text('{"text": "x"}\n')
    assert dataset_files(tmp_path / "corpus.jsonl") is None
