"""Fixtures for model tests: the embedded SmolLM2-135M, loaded once per test session."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU (and vLLM where named); skipped elsewhere")


@pytest.fixture(scope="session")
def smollm2() -> tuple[Any, Any]:
    """(model, tokenizer) of ``--model smollm2-135m`` on the CPU."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from editseq.models.loading import ModelError, load_model

    try:
        return load_model("smollm2-135m", device="cpu")
    except ModelError as exc:
        pytest.skip(str(exc))
