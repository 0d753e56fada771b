"""vLLM backend (opt-in: needs vLLM and a CUDA GPU; run with ``pytest -m gpu``)."""

from __future__ import annotations

import pytest

from editseq.models.backend import GenerationConfig

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def vllm_backend():
    pytest.importorskip("vllm")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU")
    from editseq.models.vllm_backend import VLLMBackend

    return VLLMBackend("smollm2-135m", gpu_memory_utilization=0.3)


def test_n_samples_seeded_and_cut_at_stop(vllm_backend) -> None:
    config = GenerationConfig(n=3, temperature=1.0, max_new_tokens=16, stop=("\n\n",), seed=1)
    gens = vllm_backend.generate(["def add(a, b):\n", "# count to 3\n"], config)
    assert [len(g) for g in gens] == [3, 3]
    assert all(1 <= g.tokens <= 16 and "\n\n" not in g.text for per in gens for g in per)
    assert vllm_backend.generate(["def add(a, b):\n"], config)[0] == gens[0]


def test_greedy_n_copies_one_decode(vllm_backend) -> None:
    """vLLM refuses n > 1 at temperature 0: the backend decodes once and copies."""
    gens = vllm_backend.generate(["def add(a, b):\n"], GenerationConfig(n=3, temperature=0, max_new_tokens=8))
    assert len(gens[0]) == 3 and len(set(gens[0])) == 1
