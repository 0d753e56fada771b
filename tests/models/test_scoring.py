"""continuation_nll on the real SmolLM2: likely text scores better than unlikely text."""

from __future__ import annotations

import math
from itertools import pairwise

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


def test_a_token_straddling_the_boundary_is_context_whatever_its_offsets(tmp_path) -> None:
    """Was: a tokenizer that trims offsets (a ByteLevel post-processor with trim_offsets, as
    RoBERTa's) gives " foo" the offsets of "foo", so after a context ending in a space the token
    that holds that space counted as the target's, and the score differed from an untrimmed
    tokenizer's on the same tokens."""
    from tokenizers import processors

    from editseq.models.loading import load_model
    from tests.train.tiny import tiny_model

    model, tok = load_model(str(tiny_model(tmp_path)), device="cpu")
    context, target = "def total(xs):\n    return ", "sum(xs) + total\n"
    plain = continuation_nll(model, tok, context, target)
    tok._tokenizer.post_processor = processors.ByteLevel(trim_offsets=True)
    offsets = tok(context + target, return_offsets_mapping=True, add_special_tokens=False)["offset_mapping"]
    assert any(start > end for (_, end), (start, _) in pairwise(offsets)), "offsets are trimmed"
    assert continuation_nll(model, tok, context, target) == plain
