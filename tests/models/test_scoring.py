"""continuation_nll on the real SmolLM2: likely text scores better than unlikely text."""

from __future__ import annotations

import math

from editseq.models.scoring import continuation_nll


def test_likely_continuation_scores_lower(smollm2) -> None:
    model, tok = smollm2
    context = "def add(a, b):\n    return a"
    likely, n_likely = continuation_nll(model, tok, context, " + b\n")
    unlikely, n_unlikely = continuation_nll(model, tok, context, " zebra banana\n")
    assert n_likely >= 1 and n_unlikely >= 1
    assert likely / n_likely < unlikely / n_unlikely
    assert math.isfinite(likely) and likely > 0


def test_counts_add_up_and_empty_target(smollm2) -> None:
    model, tok = smollm2
    assert continuation_nll(model, tok, "x = 1\n", "") == (0.0, 0)
    nll, count = continuation_nll(model, tok, "", "print('hello world')\n")
    assert count == len(tok("print('hello world')\n", add_special_tokens=False)["input_ids"])
    assert nll > 0


def test_text_opens_with_the_bos_the_tokenizer_adds(tmp_path) -> None:
    """Scored as sampling feeds a prompt and training tokenized it: after the BOS a Llama-style
    tokenizer puts before a text. Was: without it, a model that never saw a text start so."""
    import torch
    from tokenizers.processors import TemplateProcessing

    from editseq.models.loading import load_model
    from tests.train.tiny import tiny_model

    model, tok = load_model(str(tiny_model(tmp_path)), device="cpu")
    tok.add_special_tokens({"bos_token": "<bos>"})
    model.resize_token_embeddings(len(tok))
    tok._tokenizer.post_processor = TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", tok.bos_token_id)])
    context, target = "def total(xs):\n", "    return sum(xs)\n"
    ids = tok(context + target)["input_ids"]  # what sampling feeds: <bos> first
    assert ids[0] == tok.bos_token_id
    first = len(tok(context)["input_ids"])  # the context's tokens end at the boundary here
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([ids])).logits[0].float()
    expected = torch.nn.functional.cross_entropy(logits[first - 1:-1], torch.tensor(ids[first:]), reduction="sum")
    nll, count = continuation_nll(model, tok, context, target)
    assert count == len(ids) - first
    assert math.isclose(nll, float(expected), rel_tol=1e-5)
