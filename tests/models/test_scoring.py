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
