"""Tiny fixtures for training tests: LintSeq data from the shipped examples and a random model.

The model is a 2-layer LLaMA with hidden size 64 whose tokenizer is a byte-level BPE trained on
the examples themselves, so nothing is downloaded and a training step takes milliseconds.
"""

from __future__ import annotations

import json
from pathlib import Path

from editseq.cli import main
from editseq.data import EXAMPLES


def lintseq_data(folder: Path) -> Path:
    """``editseq lintseq`` on the shipped examples, two sequences per program (24 records)."""
    out = folder / "lintseq.jsonl"
    assert main(["lintseq", str(EXAMPLES), str(out), "--samples", "2", "--no-progress"]) == 0
    return out


def tiny_model(folder: Path) -> Path:
    """A random-init causal LM folder that ``--model`` takes (tokenizer saved beside it)."""
    import torch
    import transformers

    from editseq.train.pretrain import train_bpe

    records = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line]
    texts = [r["instruction"] + "\n" + r["program"] for r in records]
    tokenizer = train_bpe(texts, vocab_size=400)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config)
    path = folder / "tiny-model"
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return path


def perturb(folder: Path) -> None:
    """Save the model in ``folder`` over with other weights, as a training resumed into it would."""
    import torch
    import transformers

    weights = transformers.AutoModelForCausalLM.from_pretrained(str(folder))
    with torch.no_grad():
        for parameter in weights.parameters():
            parameter.add_(0.01)
    weights.save_pretrained(str(folder))
