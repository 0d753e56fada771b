"""vLLM backend (sampling opt-in: needs vLLM and a CUDA GPU; run with ``pytest -m gpu``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from editseq.models.backend import GenerationConfig


def test_without_vllm_the_error_names_the_extra(tmp_path: Path, shared_data: Path,
                                                monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """The issue's "optional extra": pyproject had none, and the error said `pip install vllm`."""
    from editseq.cli import main

    monkeypatch.setitem(sys.modules, "vllm", None)  # not installed, as the import system sees it
    assert main(["sample", "--backend", "vllm", "--model", "smollm2-135m", "--data", str(shared_data),
                 "--limit", "1", "--out", str(tmp_path / "s.jsonl"), "--no-progress"]) == 2
    assert "needs vLLM and a CUDA GPU: pip install 'editseq[vllm]'" in capsys.readouterr().err
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(r.startswith("vllm") for r in pyproject["project"]["optional-dependencies"]["vllm"])


@pytest.fixture(scope="module")
def vllm_backend():
    pytest.importorskip("vllm")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU")
    from editseq.models.vllm_backend import VLLMBackend

    return VLLMBackend("smollm2-135m", gpu_memory_utilization=0.3)


@pytest.mark.gpu
def test_n_samples_seeded_and_cut_at_stop(vllm_backend) -> None:
    config = GenerationConfig(n=3, temperature=1.0, max_new_tokens=16, stop=("\n\n",), seed=1)
    gens = vllm_backend.generate(["def add(a, b):\n", "# count to 3\n"], config)
    assert [len(g) for g in gens] == [3, 3]
    assert all(1 <= g.tokens <= 16 and "\n\n" not in g.text for per in gens for g in per)
    assert vllm_backend.generate(["def add(a, b):\n"], config)[0] == gens[0]


@pytest.mark.gpu
def test_greedy_n_copies_one_decode(vllm_backend) -> None:
    """vLLM refuses n > 1 at temperature 0: the backend decodes once and copies."""
    gens = vllm_backend.generate(["def add(a, b):\n"], GenerationConfig(n=3, temperature=0, max_new_tokens=8))
    assert len(gens[0]) == 3 and len(set(gens[0])) == 1


def test_prompts_reach_vllm_with_one_bos(tmp_path: Path) -> None:
    """Given text, vLLM adds BOS to every prompt, so a chat template's text (which starts with
    BOS) had two; the prompts now go as token ids, with BOS added only where the text lacks it."""
    from tokenizers.processors import TemplateProcessing

    from editseq.models.loading import load_tokenizer
    from editseq.models.vllm_backend import token_prompts
    from tests.train.tiny import tiny_model

    tok = load_tokenizer(str(tiny_model(tmp_path)))
    tok.add_special_tokens({"bos_token": "<bos>"})
    tok._tokenizer.post_processor = TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", tok.bos_token_id)])
    raw, chat = token_prompts(tok, ["def f(x):\n", "<bos>user: hi\nassistant:"])
    assert raw["prompt_token_ids"] == tok("def f(x):\n")["input_ids"]
    assert raw["prompt_token_ids"][0] == tok.bos_token_id
    assert chat["prompt_token_ids"].count(tok.bos_token_id) == 1
    assert chat["prompt_token_ids"] == tok("<bos>user: hi\nassistant:", add_special_tokens=False)["input_ids"]
