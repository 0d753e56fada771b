"""The transformers backend on the real SmolLM2-135M (CPU): shapes, seeds, stops, token counts."""

from __future__ import annotations

import pytest

from editseq.models.backend import Generation, GenerationConfig, adds_bos
from editseq.models.transformers_backend import TransformersBackend

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


def test_a_prompts_samples_do_not_depend_on_the_other_prompts(smollm2) -> None:
    """What makes a resumed or sharded run draw what a whole run draws."""
    config = GenerationConfig(n=3, temperature=1.0, top_p=0.95, max_new_tokens=8, seed=1)
    alone = TransformersBackend(*smollm2, batch_size=3).generate(PROMPTS[:1], config)
    mixed = TransformersBackend(*smollm2, batch_size=2).generate([PROMPTS[1], PROMPTS[0]], config)
    assert mixed[1] == alone[0]
    assert len({g.text for g in alone[0]}) > 1  # the rows draw apart, not one stream copied


def test_greedy_and_min_p(smollm2) -> None:
    backend = TransformersBackend(*smollm2)
    greedy = backend.generate(PROMPTS[:1], GenerationConfig(n=2, temperature=0, max_new_tokens=5))
    assert greedy[0][0] == greedy[0][1]
    # min_p close to 1 keeps only the top token: sampling becomes greedy
    sharp = backend.generate(PROMPTS[:1], GenerationConfig(n=2, temperature=1.0, top_p=1.0,
                                                           min_p=0.999, max_new_tokens=5))
    assert sharp[0][0].text == sharp[0][1].text == greedy[0][0].text
    narrow = backend.generate(PROMPTS[:1], GenerationConfig(n=2, temperature=1.0, top_p=1e-6, max_new_tokens=5))
    assert narrow[0][0].text == narrow[0][1].text == greedy[0][0].text  # top-p keeps the top token only


def test_stop_sequences_end_generation_and_cut_text(smollm2) -> None:
    backend = TransformersBackend(*smollm2)
    free = backend.generate(PROMPTS[:1], GenerationConfig(n=1, temperature=0, max_new_tokens=24))[0][0]
    assert "\n" in free.text, "greedy output should span lines for this test to mean anything"
    stopped = backend.generate(PROMPTS[:1], GenerationConfig(n=1, temperature=0, max_new_tokens=24,
                                                             stop=("\n",)))[0][0]
    assert stopped.text == free.text.split("\n")[0]
    assert stopped.tokens < free.tokens


def test_row_sampler_draws_from_the_warped_distribution() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from editseq.models.transformers_backend import _row_sampler

    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, float("-inf")]])
    rows = [("p", k) for k in range(20000)]
    for top_p, temperature in ((1.0, 1.0), (0.8, 0.5)):
        config = GenerationConfig(n=1, temperature=temperature, top_p=top_p, max_new_tokens=1, seed=3)
        out = _row_sampler(rows, config, "cpu")(None, logits.expand(len(rows), -1))
        chosen = out.argmax(dim=-1)
        assert bool((out.isfinite().sum(dim=-1) == 1).all())  # exactly one token left per row
        expected = torch.softmax(logits[0] / temperature, dim=-1)
        if top_p < 1.0:  # the smallest top set reaching top_p, renormalised
            keep = expected.cumsum(0) - expected < top_p
            expected = torch.where(keep, expected, 0.0) / expected[keep].sum()
        freq = torch.bincount(chosen, minlength=5).double() / len(rows)
        sigma = (expected * (1 - expected) / len(rows)).sqrt()
        assert bool(((freq - expected).abs() <= 4 * sigma + 1e-12).all()), (freq, expected)


@pytest.mark.parametrize(("temperature", "top_p", "min_p"), [
    (1.0, 0.95, None), (0.2, 0.95, None), (1.5, 0.95, None), (1.0, 0.5, None), (0.8, 1.0, 0.1),
    (1.5, 0.9, 0.05), (1.0, 1e-6, None)])
def test_warping_is_transformers_own(temperature: float, top_p: float, min_p: float | None) -> None:
    """Same kept tokens, same probabilities as transformers' warpers, on a 49k vocabulary whose
    float32 softmax does not sum to exactly 1 (where a top-p cut is easy to get one token off)."""
    torch = pytest.importorskip("torch")
    from transformers.generation.logits_process import (
        LogitsProcessorList,
        MinPLogitsWarper,
        TemperatureLogitsWarper,
        TopPLogitsWarper,
    )

    from editseq.models.transformers_backend import warped_probs

    scores = torch.randn(16, 49152, generator=torch.Generator().manual_seed(0)) * 3
    warpers = LogitsProcessorList([TemperatureLogitsWarper(temperature)]
                                  + ([TopPLogitsWarper(top_p)] if top_p < 1 else [])
                                  + ([MinPLogitsWarper(min_p)] if min_p else []))
    expected = torch.softmax(warpers(None, scores.clone()), dim=-1)
    ours = warped_probs(scores, GenerationConfig(temperature=temperature, top_p=top_p, min_p=min_p))
    assert torch.equal(expected > 0, ours > 0), (expected > 0).sum(-1) - (ours > 0).sum(-1)
    assert torch.allclose(ours / ours.sum(-1, keepdim=True), expected, atol=1e-6)  # the sampler normalises


def test_stopped_rows_count_no_padding(smollm2) -> None:
    """Padding after a stop is often the end-of-sequence token; a row that drew its EOS counts it."""
    model, tok = smollm2
    backend = TransformersBackend(model, tok)
    ids = tok("x = 1\ny = 2", add_special_tokens=False)["input_ids"]
    pad = tok.pad_token_id
    assert pad in backend._ends
    assert backend._decode([*ids, pad, pad], stop=("\ny",)).tokens == len(ids)  # padded after the stop
    assert backend._decode([*ids, tok.eos_token_id, pad], stop=()).tokens == len(ids) + 1  # drew EOS
    assert backend._decode(ids, stop=()).tokens == len(ids)  # ran to max_new_tokens


def test_prompts_are_tokenized_as_sft_tokenizes_them(tmp_path) -> None:
    """With the BOS a tokenizer adds (``editseq train sft`` tokenizes prompts so), except after a
    chat template's own BOS."""
    import torch
    from tokenizers.processors import TemplateProcessing

    from editseq.models.loading import load_model
    from tests.train.tiny import tiny_model

    model, tok = load_model(str(tiny_model(tmp_path)), device="cpu")
    tok.add_special_tokens({"bos_token": "<bos>"})
    model.resize_token_embeddings(len(tok))
    tok._tokenizer.post_processor = TemplateProcessing(
        single="<bos> $A", special_tokens=[("<bos>", tok.bos_token_id)])
    prompt = "def total(xs):\n"
    enc = tok(prompt, return_tensors="pt")  # what tokenize_pair does: add_special_tokens=True
    assert enc["input_ids"][0, 0] == tok.bos_token_id
    with torch.inference_mode():
        expected = model.generate(**enc, do_sample=False, max_new_tokens=6, pad_token_id=tok.pad_token_id)
    backend = TransformersBackend(model, tok)
    [[gen]] = backend.generate([prompt], GenerationConfig(n=1, temperature=0, max_new_tokens=6))
    new = expected[0, enc["input_ids"].shape[1]:].tolist()
    assert gen.text == backend._decode(new, ()).text
    assert adds_bos(tok, [prompt]) and not adds_bos(tok, ["<bos>user: hi"])


def test_rows_stop_where_the_models_context_ends(tmp_path) -> None:
    """transformers generates past ``max_position_embeddings`` (its warning silenced), into
    positions the model never saw: a tiny pretrained model's samples (256 or 2048 positions) ran
    on as noise. Each row now stops where its own context ends, as vLLM caps it, whatever else
    its batch holds; a prompt that fills the context is refused, as vLLM and servers refuse it."""
    from editseq.models.loading import ModelError, load_model
    from tests.train.tiny import tiny_model

    model, tok = load_model(str(tiny_model(tmp_path)), device="cpu")
    context = model.config.max_position_embeddings  # 512
    long, short = "x = 1\n" * 120, "x = 1\n" * 115
    rooms = [context - len(tok(p)["input_ids"]) for p in (long, short)]
    assert 0 < rooms[0] < rooms[1] < 64
    backend = TransformersBackend(model, tok)
    for temperature in (0, 1.0):
        config = GenerationConfig(n=2, temperature=temperature, max_new_tokens=64)
        both = backend.generate([long, short], config)
        assert [[g.tokens for g in per] for per in both] == [[room] * 2 for room in rooms]
        assert backend.generate([short], config) == both[1:]  # not cut at the long prompt's room
    with pytest.raises(ModelError, match=f"prompt of 5.. tokens fills the model's context of {context} tokens"):
        backend.generate(["x = 1\n" * 130], GenerationConfig(max_new_tokens=4))



def test_a_model_with_learned_positions_samples_a_prompt_near_its_context(tmp_path) -> None:
    """A batch ran as long as its roomiest row, so a prompt near the context went on past it
    (its tokens cut afterwards): a model whose positions are a learned table (GPT-2, StarCoder's
    gpt_bigcode, OPT) failed with IndexError, on a GPU a device-side assert. Rows now go in
    batches of the same room."""
    import transformers

    from editseq.models.loading import load_model
    from tests.train.tiny import tiny_model

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tiny_model(tmp_path)))
    config = transformers.GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=2, n_positions=64,
                                     bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                                     pad_token_id=tokenizer.pad_token_id)
    transformers.set_seed(0)
    transformers.AutoModelForCausalLM.from_config(config).save_pretrained(str(tmp_path / "gpt2"))
    tokenizer.save_pretrained(str(tmp_path / "gpt2"))
    backend = TransformersBackend(*load_model(str(tmp_path / "gpt2"), device="cpu"))
    long, short = "x = 1\n" * 15, "x = 1\n" * 2  # 60 and 8 of 64 positions
    for temperature in (0, 1.0):
        config = GenerationConfig(n=2, temperature=temperature, max_new_tokens=12)
        both = backend.generate([long, short], config)
        assert max(g.tokens for g in both[0]) == 4 and max(g.tokens for g in both[1]) == 12  # 4: the room left
        assert backend.generate([short], config) == both[1:] and backend.generate([long], config) == both[:1]


def test_a_models_shipped_sampling_defaults_do_not_apply(tmp_path) -> None:
    """Samples follow --temperature, --top-p and --min-p alone, as vLLM's and the settings
    recorded say. Was: the penalties of a model's generation_config.json (Qwen2.5-Coder-Instruct
    ships repetition_penalty 1.05) applied under them unrecorded, and changed what was drawn."""
    import json
    import shutil

    from editseq.models.loading import load_model
    from tests.train.tiny import tiny_model

    plain = tiny_model(tmp_path)
    shipped = shutil.copytree(plain, tmp_path / "shipped")
    config = json.loads((shipped / "generation_config.json").read_text())
    config.update(repetition_penalty=1.3, no_repeat_ngram_size=2, min_new_tokens=20, num_beams=2, do_sample=True,
                  temperature=0.7, top_k=20, top_p=0.8)
    (shipped / "generation_config.json").write_text(json.dumps(config))
    for temperature in (0, 1.0):
        sampling = GenerationConfig(n=2, temperature=temperature, max_new_tokens=24)
        expected, got = (TransformersBackend(*load_model(str(folder), device="cpu")).generate(PROMPTS, sampling)
                         for folder in (plain, shipped))
        assert got == expected


def test_a_tokenizer_with_token_type_ids_samples(tmp_path) -> None:
    """A BERT-style tokenizer (`editseq train pretrain --tokenizer` takes one) also returns
    token_type_ids, which a causal LM's generate refuses. Was: a ValueError traceback."""
    import transformers

    from editseq.models.loading import load_model, with_eos

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "x", "=", "1"]
    tokenizer = transformers.BertTokenizer(vocab={token: i for i, token in enumerate(vocab)})
    with_eos(tokenizer)
    tokenizer.save_pretrained(str(tmp_path))
    transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)).save_pretrained(str(tmp_path))
    model, tok = load_model(str(tmp_path), device="cpu")
    assert "token_type_ids" in tok("x = 1")
    [[gen]] = TransformersBackend(model, tok).generate(["x = 1"], GenerationConfig(temperature=0, max_new_tokens=3))
    assert 1 <= gen.tokens <= 3


def test_a_first_line_keeps_its_indentation_under_a_sentencepiece_tokenizer(tmp_path) -> None:
    """Llama 2's, CodeLlama's and Mistral's tokenizers drop a text's leading space when decoding
    it. Was: the new tokens were decoded alone, so a completion's first line lost one space of its
    indentation (an IndentationError in every HumanEval completion); they are decoded as they
    follow the prompt. The model here writes four "▁" (spaces) whatever it is given."""
    import transformers

    vocab = ["▁", "<unk>", "<s>", "</s>", "x", "=", "1", "\n"]
    tokenizer = transformers.LlamaTokenizer(vocab={token: i for i, token in enumerate(vocab)}, merges=[])
    model, tok = _writing_token_0(tmp_path, tokenizer)
    assert tok.decode([0, 0]) == " "  # the tokenizer's own way: one of the two spaces dropped
    [[gen]] = TransformersBackend(model, tok).generate(["x = 1\n"], GenerationConfig(temperature=0, max_new_tokens=4))
    assert gen == Generation("    ", 4)


def test_the_text_is_not_cleaned_up_as_english(tmp_path) -> None:
    """Tokenizers saved with ``clean_up_tokenization_spaces`` (StarCoder's and GPT-2's under
    transformers 4; any but BPE ones under 5) have ``decode`` drop spaces before quotes and
    punctuation, as for English WordPiece text. Was: the model's ``return ' '.join(words)``
    became ``return''.join(words)`` in the sample. The model here writes " '" whatever it is given."""
    import transformers
    from tokenizers import Tokenizer, decoders, models

    vocab = [" '", "<unk>", "<s>", "</s>", "x", " ", "="]
    core = Tokenizer(models.Unigram([(token, -1.0) for token in vocab], unk_id=1))
    core.decoder = decoders.Fuse()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", bos_token="<s>",
                                                     eos_token="</s>", clean_up_tokenization_spaces=True)
    model, tok = _writing_token_0(tmp_path, tokenizer)
    assert tok.decode([0, 0]) == "''"  # the tokenizer's own way: the space between the quotes dropped
    [[gen]] = TransformersBackend(model, tok).generate(["x ="], GenerationConfig(temperature=0, max_new_tokens=4))
    assert gen == Generation(" ' ' ' '", 4)
    stopped = TransformersBackend(model, tok).generate(["x ="], GenerationConfig(temperature=0, max_new_tokens=4,
                                                                                 stop=(" ' '",)))
    assert stopped == [[Generation("", 2)]]  # the stop is seen in the text as the model wrote it


def _writing_token_0(folder, tokenizer) -> tuple:
    """(model, tokenizer) loaded from ``folder`` as ``--model`` loads it: ``tokenizer`` (BOS 2, EOS 3)
    and a random one-layer Llama whose logits are all 0, so greedy decoding writes token 0 always."""
    import transformers

    from editseq.models.loading import load_model

    tokenizer.save_pretrained(str(folder))
    lm = transformers.LlamaForCausalLM(transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        bos_token_id=2, eos_token_id=3, pad_token_id=3))
    lm.lm_head.weight.data.zero_()
    lm.save_pretrained(str(folder))
    return load_model(str(folder), device="cpu")
