"""The settings every backend takes: one check for library callers and both sampling commands."""

from __future__ import annotations

import pytest

from editseq.config import ConfigError
from editseq.models.backend import GenerationConfig


@pytest.mark.parametrize(("fields", "message"), [
    ({"n": 0}, "--n must be at least 1, got 0"),
    ({"temperature": -0.5}, "--temperature must be >= 0"),
    ({"temperature": float("nan")}, "--temperature must be >= 0"),
    ({"top_p": 0.0}, r"--top-p must be in \(0, 1\]"),
    ({"min_p": 1.0}, r"--min-p must be in \[0, 1\), got 1.0"),
    ({"max_new_tokens": 0}, "--max-new-tokens must be at least 1, got 0"),
])
def test_a_bad_setting_is_named(fields: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GenerationConfig(**fields)


def test_limits_are_accepted() -> None:
    config = GenerationConfig(n=1, temperature=0, top_p=1.0, min_p=0.0, max_new_tokens=1)
    assert (config.temperature, config.top_p, config.min_p) == (0, 1.0, 0.0)
