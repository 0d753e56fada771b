"""The transformers backend on the real SmolLM2-135M (CPU): shapes, seeds, stops, token counts."""

from __future__ import annotations

from editseq.models.backend import GenerationConfig
from editseq.models.transformers_backend import TransformersBackend, cut_at_stop

PROMPTS = ["def add(a, b):\n    return", "# print the numbers 1 to 3\nfor i in"]


def test_n_samples_per_prompt_with_token_counts(smollm2) -> None:
    backend = TransformersBackend(*smollm2, batch_size=3)  # 3 rows per batch: batches mix prompts
    gens = backend.generate(PROMPTS, GenerationConfig(n=2, temperature=1.0, max_new_tokens=6))
    assert [len(g) for g in gens] == [2, 2]
    for g in (g for per in gens for g in per):
        assert 1 <= g.tokens <= 6
        assert isinstance(g.text, str)


def test_same_seed_same_samples_other_seed_differs(smollm2) -> None:
    backend = TransformersBackend(*smollm2)
    config = GenerationConfig(n=3, temperature=1.0, top_p=1.0, max_new_tokens=8, seed=1)
    first = backend.generate(PROMPTS[:1], config)
    assert backend.generate(PROMPTS[:1], config) == first
    other = backend.generate(PROMPTS[:1], GenerationConfig(n=3, temperature=1.0, top_p=1.0,
                                                            max_new_tokens=8, seed=2))
    assert other != first


def test_greedy_and_min_p(smollm2) -> None:
    backend = TransformersBackend(*smollm2)
    greedy = backend.generate(PROMPTS[:1], GenerationConfig(n=2, temperature=0, max_new_tokens=5))
    assert greedy[0][0] == greedy[0][1]
    # min_p close to 1 keeps only the top token: sampling becomes greedy
    sharp = backend.generate(PROMPTS[:1], GenerationConfig(n=2, temperature=1.0, top_p=1.0,
                                                           min_p=0.999, max_new_tokens=5))
    assert sharp[0][0].text == sharp[0][1].text == greedy[0][0].text


def test_stop_sequences_end_generation_and_cut_text(smollm2) -> None:
    backend = TransformersBackend(*smollm2)
    free = backend.generate(PROMPTS[:1], GenerationConfig(n=1, temperature=0, max_new_tokens=24))[0][0]
    assert "\n" in free.text, "greedy output should span lines for this test to mean anything"
    stopped = backend.generate(PROMPTS[:1], GenerationConfig(n=1, temperature=0, max_new_tokens=24,
                                                             stop=("\n",)))[0][0]
    assert stopped.text == free.text.split("\n")[0]
    assert stopped.tokens < free.tokens


def test_cut_at_stop() -> None:
    assert cut_at_stop("a\ndef b", ("\ndef", "\nclass")) == "a"
    assert cut_at_stop("abc", ()) == "abc"
    assert cut_at_stop("x\nclass Y\ndef z", ("\ndef", "\nclass")) == "x"
