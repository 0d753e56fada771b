"""Shared fixtures: the benchmark data folder (``../shared/data`` or ``$EDITSEQ_DATA_DIR``); hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from editseq.env import data_dir

# CI (.ci/run) draws the same examples on every run and sets no per-example deadline, so whether a
# submission lands does not hang on which examples a run drew or on the shared machine's load;
# other runs draw fresh examples (failures are kept in .hypothesis/ and replayed first)
settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = data_dir()
    if path is None:
        pytest.skip("benchmark data folder ../shared/data not found; set EDITSEQ_DATA_DIR")
    return path
