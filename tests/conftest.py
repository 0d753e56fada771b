"""Shared fixtures: the benchmark data folder (``../shared/data`` or ``$EDITSEQ_DATA_DIR``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from editseq.env import data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = data_dir()
    if path is None:
        pytest.skip("benchmark data folder ../shared/data not found; set EDITSEQ_DATA_DIR")
    return path
