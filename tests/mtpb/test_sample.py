"""The turn-by-turn driver: histories sent, truncation, resume, context overflow, real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from editseq.models.backend import Generation, GenerationConfig
from editseq.mtpb import prompts
from editseq.mtpb.data import load
from editseq.mtpb.run import MTPBEvaluateOptions, evaluate
from editseq.mtpb.sample import MTPBSampleOptions, sample


class ScriptedBackend:
    """A Backend that answers every turn with fixed code and keeps the prompts it saw."""

    name = "scripted"

    def __init__(self, context: int | None = None) -> None:
        self.calls: list[tuple[list[str], GenerationConfig]] = []
        if context is not None:
            self.count_tokens = lambda text: len(text.split())
            self.context = context

    def generate(self, prompts_: list[str], config: GenerationConfig) -> list[list[Generation]]:
        self.calls.append((prompts_, config))
        return [[Generation("x = 1\nprint(x)\nprint(2)\n# next\n", 9)] * config.n for _ in prompts_]


def test_driver_histories_and_resume(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "runs.jsonl"
    opts = MTPBSampleOptions(model="scripted", out=out, n=2, problems="3", data=shared_data)
    backend = ScriptedBackend()
    assert sample(opts, backend) == 10
    first_prompts, first_config = backend.calls[0]
    # turn 1's prompt of problem 3 names no input: the same text for all 5 cases, so one prompt
    # with a draw for each of the 10 runs
    assert len(first_prompts) == 1 and first_config.n == 10
    assert first_config.temperature == 0.2 and first_config.top_p == 0.95
    assert first_config.max_new_tokens == 128 and first_config.stop == ("\n\n\n",)
    assert first_prompts[0] == prompts.PREFIX + "# Write a function that takes an integer minutes and converts it to seconds.\n"
    second_prompts, second_config = backend.calls[1]
    # all 10 runs came out alike at turn 1, so turn 2 is again one prompt, a draw per run
    assert len(second_prompts) == 1 and second_config.n == 10
    assert second_prompts[0].endswith("seconds.\nx = 1\nprint(x)\n\n\n# Write a function that takes an integer hours and converts it to seconds.\n")
    runs = [json.loads(line) for line in out.read_text().splitlines()]
    assert runs[0] == {"problem_id": "3", "case": 0, "sample": 0, "mode": "multi",
                       "completions": ["x = 1\nprint(x)\n"] * 3, "model": "scripted"}
    assert sample(opts, ScriptedBackend()) == 0  # resumed: nothing left
    lines = out.read_text().splitlines()
    out.write_text("\n".join(lines[:7]) + "\n" + lines[7][:20])  # killed while writing the 8th run
    assert sample(opts, ScriptedBackend()) == 3
    assert [json.loads(line) for line in out.read_text().splitlines()] == [json.loads(line) for line in lines]


def test_runs_with_the_same_history_draw_different_samples(tmp_path: Path, shared_data: Path) -> None:
    """Was: from turn 2 on each run sent its own copy of its history with one generation; backends
    seed a draw by (seed, prompt, sample index), so runs whose earlier turns came out alike (every
    pair of SmolLM2's n=2 runs of problem 1 at temperature 0.2) drew the same sample at every later
    turn and stayed copies of each other, not independent runs."""
    backend = ScriptedBackend()
    opts = MTPBSampleOptions(model="scripted", out=tmp_path / "runs.jsonl", n=3, problems="1",
                             data=shared_data)
    assert sample(opts, backend) == 15
    draws = [(config.seed, prompt, k) for prompts_, config in backend.calls for prompt in prompts_
             for k in range(config.n)]
    assert len(draws) == 15 * 5 and len(set(draws)) == len(draws)


class SeededBackend:
    """A Backend whose text is a function of each draw's seed, as the real backends seed it."""

    name = "seeded"

    def generate(self, prompts_: list[str], config: GenerationConfig) -> list[list[Generation]]:
        from editseq.models.backend import sample_seed

        return [[Generation(f"x = {sample_seed(config.seed, p, k) % 3}\n", 4) for k in range(config.n)]
                for p in prompts_]


def test_a_problem_cut_short_resumes_with_the_runs_of_an_uninterrupted_run(tmp_path: Path, shared_data: Path) -> None:
    """Was: a rerun sampled only a problem's missing runs; a run's draws depend on the runs sharing
    its prompts (its index among them), so runs written after a write cut short differed from the
    ones an uninterrupted run writes (case 1's second run drew the first one's sample)."""
    whole, cut = tmp_path / "whole.jsonl", tmp_path / "cut.jsonl"
    for out in (whole, cut):
        assert sample(MTPBSampleOptions(model="seeded", out=out, n=2, problems="1", data=shared_data),
                      SeededBackend()) == 10
    cut.write_text("".join(whole.read_text().splitlines(keepends=True)[:3]))
    assert sample(MTPBSampleOptions(model="seeded", out=cut, n=2, problems="1", data=shared_data),
                  SeededBackend()) == 7
    assert cut.read_text() == whole.read_text()


def test_resuming_under_other_settings_is_refused(tmp_path: Path, shared_data: Path) -> None:
    from editseq.config import ConfigError

    out = tmp_path / "runs.jsonl"
    opts = {"model": "scripted", "out": out, "problems": "3", "data": shared_data}
    assert sample(MTPBSampleOptions(**opts, max_new_tokens=16), ScriptedBackend()) == 5
    with pytest.raises(ConfigError, match=r"other settings \(max_new_tokens: 16 then, 32 now"):
        sample(MTPBSampleOptions(**opts, max_new_tokens=32), ScriptedBackend())
    assert len(out.read_text().splitlines()) == 5  # nothing appended, nothing lost
    settings = json.loads((tmp_path / "runs.jsonl.settings.json").read_text())["settings"]
    assert settings["max_new_tokens"] == 16
    twice = {**opts, "problems": "3,3", "out": tmp_path / "twice.jsonl"}
    assert sample(MTPBSampleOptions(**twice), ScriptedBackend()) == 5  # an id given twice is sampled once
    # more problems, or the other mode, resume the same file; --overwrite starts over
    assert sample(MTPBSampleOptions(**{**opts, "problems": "3,4"}, max_new_tokens=16), ScriptedBackend()) == 5
    assert sample(MTPBSampleOptions(**opts, max_new_tokens=16, single_turn=True), ScriptedBackend()) == 5
    assert sample(MTPBSampleOptions(**opts, max_new_tokens=32, overwrite=True), ScriptedBackend()) == 5
    assert len(out.read_text().splitlines()) == 5
    # a file an older editseq sampled (other draws, another single-turn budget) is not continued
    manifest = tmp_path / "runs.jsonl.settings.json"
    recorded = json.loads(manifest.read_text())
    del recorded["settings"]["sampler_version"]
    manifest.write_text(json.dumps(recorded))
    with pytest.raises(ConfigError, match=r"other settings \(sampler_version: 1 then, 2 now"):
        sample(MTPBSampleOptions(**{**opts, "problems": "3,4"}, max_new_tokens=32), ScriptedBackend())


def test_a_checkpoint_folder_trained_further_in_place_does_not_resume(tmp_path: Path, shared_data: Path) -> None:
    """Was: a --model folder counted by its path alone, so runs drawn before and after its weights
    were saved over in place went into one file in silence; moved elsewhere, it resumes."""
    from editseq.config import ConfigError

    model = tmp_path / "ckpt"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "llama"}')
    (model / "model.safetensors").write_bytes(b"step 1000")
    out = tmp_path / "runs.jsonl"
    assert sample(MTPBSampleOptions(model=str(model), out=out, problems="3", data=shared_data), ScriptedBackend()) == 5
    moved = model.rename(tmp_path / "moved")
    with pytest.warns(UserWarning, match="moved to"):
        assert sample(MTPBSampleOptions(model=str(moved), out=out, problems="3,4", data=shared_data),
                      ScriptedBackend()) == 5
    (moved / "model.safetensors").write_bytes(b"step 2000")
    with pytest.raises(ConfigError, match=r"other settings \(model_files: content sha256"):
        sample(MTPBSampleOptions(model=str(moved), out=out, problems="3,4,5", data=shared_data), ScriptedBackend())
    assert len(out.read_text().splitlines()) == 10


def test_evaluating_against_other_data_than_sampled_is_warned_about(tmp_path: Path, shared_data: Path) -> None:
    """Was silent: runs sampled from one MTPB data file were checked against another's tests."""
    import warnings

    out = tmp_path / "runs.jsonl"
    sample(MTPBSampleOptions(model="scripted", out=out, problems="3", data=shared_data), ScriptedBackend())
    opts = MTPBEvaluateOptions(samples=out, data=shared_data, workers=1, cache=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evaluate(opts)  # the data it was sampled from: no such warning
    assert not [w for w in caught if "other MTPB data" in str(w.message)]
    manifest = out.with_name(out.name + ".settings.json")
    recorded = json.loads(manifest.read_text())
    recorded["settings"]["data"] = "sha256:" + "0" * 64
    manifest.write_text(json.dumps(recorded))
    with pytest.warns(UserWarning, match=r"runs\.jsonl was sampled from other MTPB data \(sha256:0000000000"), \
            pytest.warns(UserWarning, match="114 of 115 MTPB problems have no runs"):
        evaluate(opts)


def test_out_must_be_jsonl(tmp_path: Path) -> None:
    """Was: --out runs.txt was written, and `editseq mtpb evaluate runs.txt` refused its file type."""
    from editseq.config import ConfigError

    with pytest.raises(ConfigError, match=r"--out must end in \.jsonl, got '.*runs\.txt'"):
        MTPBSampleOptions(model="scripted", out=tmp_path / "runs.txt", problems="3")


def test_single_turn_and_overflow(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "single.jsonl"
    backend = ScriptedBackend()
    opts = MTPBSampleOptions(model="s", out=out, problems="3", single_turn=True, data=shared_data)
    assert sample(opts, backend) == 5
    assert len(backend.calls) == 1 and backend.calls[0][1].max_new_tokens == 3 * 128
    # Was: a --max-new-tokens cap was the single-turn run's whole budget (16 for 3 turns that
    # multi-turn sampled with 16 each), so under a cap the control got a third of the tokens
    capped = ScriptedBackend()
    sample(MTPBSampleOptions(model="s", out=tmp_path / "capped.jsonl", problems="3", single_turn=True,
                             max_new_tokens=16, data=shared_data), capped)
    assert capped.calls[0][1].max_new_tokens == 3 * 16
    run = json.loads(out.read_text().splitlines()[0])
    assert run["mode"] == "single" and run["completions"] == ["x = 1\nprint(x)\nprint(2)\n# next\n"]

    tight = tmp_path / "tight.jsonl"
    opts = MTPBSampleOptions(model="s", out=tight, problems="3", max_length=30, data=shared_data)
    assert sample(opts, ScriptedBackend(context=30)) == 5
    runs = [json.loads(line) for line in tight.read_text().splitlines()]
    assert all(r["error"].startswith("context overflow at turn 2") for r in runs)
    with pytest.warns(UserWarning, match="have no runs"):
        summary = evaluate(MTPBEvaluateOptions(samples=tight, data=shared_data, workers=1))
    assert summary["modes"]["multi"]["statuses"] == {"error": 5}


def _real_backend():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from editseq.models.loading import load_backend

    try:
        return load_backend("smollm2-135m")
    except (OSError, ValueError) as exc:  # ModelError: the weights are not installed here
        pytest.skip(f"smollm2-135m not available: {exc}")


class Recorded:
    """The real backend, with the prompts it was sent kept."""

    def __init__(self, backend) -> None:
        self.backend, self.name, self.prompts = backend, backend.name, []

    def generate(self, prompts_, config):
        self.prompts.append(list(prompts_))
        return self.backend.generate(prompts_, config)


@pytest.mark.slow
def test_real_model_end_to_end(tmp_path: Path, shared_data: Path) -> None:
    """SmolLM2-135M on problems 3 and 4 (3 turns each), 48 new tokens per turn to stay quick on a CPU."""
    backend = _real_backend()
    out = tmp_path / "smol.jsonl"
    opts = MTPBSampleOptions(model="smollm2-135m", out=out, problems="3,4", max_new_tokens=48,
                             data=shared_data)
    recorded = Recorded(backend)
    assert sample(opts, recorded) == 10
    runs = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(len(r["completions"]) == 3 and "<|endoftext|>" not in "".join(r["completions"]) for r in runs)
    # turn 2 of problem 3, case 0 continues the history: turn 1's prompt, then its kept completion
    first = runs[0]
    turn_prompts = load(shared_data).problems["3"].turn_prompts(0)
    # (runs whose histories came out alike share a prompt, so a turn may take a call per group size)
    assert prompts.history(turn_prompts[:2], first["completions"][:1]) in {p for call in recorded.prompts for p in call}
    with pytest.warns(UserWarning, match="113 of 115"):
        summary = evaluate(MTPBEvaluateOptions(samples=out, data=shared_data))
    multi = summary["modes"]["multi"]
    assert multi["n_runs"] == 10 and sum(multi["statuses"].values()) == 10
    print("SmolLM2-135M on MTPB 3, 4:", multi["pass_rate"], multi["statuses"])


def test_a_history_over_a_short_model_context_is_a_counted_overflow(tmp_path: Path, shared_data: Path) -> None:
    """Was: a model whose context (512 positions) is shorter than --max-length (2048) refused the
    history, and that PromptTooLong stopped the whole sampling at the problem, which a resume hit again."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from editseq.models.loading import open_backend
    from tests.train.tiny import tiny_model

    model = tiny_model(tmp_path)
    out = tmp_path / "runs.jsonl"
    # one thread: seconds, where torch's threads contending for a shared machine's cores take a minute
    opts = MTPBSampleOptions(model=str(model), out=out, problems="1", data=shared_data, progress=False, threads=1)
    threads = torch.get_num_threads()
    try:
        assert sample(opts, open_backend(opts.model, opts, progress=False)) == 5
    finally:
        torch.set_num_threads(threads)
    runs = [json.loads(line) for line in out.read_text().splitlines()]
    # 5 turns of up to 128 random tokens each outgrow 512 positions before the last turn
    assert all(r["error"].startswith("context overflow at turn ") and "context of 512 tokens" in r["error"]
               and len(r["completions"]) == int(r["error"].split()[4].rstrip(":")) - 1 for r in runs), runs


class TokenizingBackend(ScriptedBackend):
    """ScriptedBackend with a real tokenizer, which ``_too_long`` counts a history's tokens with."""

    def __init__(self, tokenizer) -> None:
        super().__init__()
        self.tokenizer = tokenizer


def test_the_bos_a_tokenizer_adds_counts_toward_max_length(tmp_path: Path, shared_data: Path) -> None:
    """Was: histories were counted without the BOS the backends put before them, so one of
    --max-length tokens as the model reads it (BOS included) was sampled, not an overflow."""
    pytest.importorskip("transformers")
    from tokenizers.processors import TemplateProcessing
    from transformers import AutoTokenizer

    from tests.train.tiny import tiny_model

    tok = AutoTokenizer.from_pretrained(str(tiny_model(tmp_path)))
    tok.add_special_tokens({"bos_token": "<bos>"})
    tok._tokenizer.post_processor = TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", tok.bos_token_id)])
    first = prompts.history(load(shared_data).problems["3"].turn_prompts(0)[:1], [])
    read = len(tok(first)["input_ids"])
    assert read == len(tok(first, add_special_tokens=False)["input_ids"]) + 1  # the BOS
    out = tmp_path / "runs.jsonl"
    opts = MTPBSampleOptions(model="scripted", out=out, problems="3", max_length=read, data=shared_data)
    assert sample(opts, TokenizingBackend(tok)) == 5
    runs = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["error"].startswith("context overflow at turn 1") and r["completions"] == [] for r in runs)


@pytest.mark.parametrize("refusal, overflow", [
    ("This model's maximum context length is 300 tokens. However, you requested 310 tokens", True),  # vLLM
    ("the request exceeds the available context size, try increasing it", True),  # llama.cpp
    ("Input validation error: `inputs` tokens + `max_new_tokens` must be <= 300. Given: 290", True),  # TGI
    ("Unrecognized request argument supplied: min_p", False),
])
def test_a_servers_refusal_of_a_long_history_is_a_counted_overflow(tmp_path: Path, shared_data: Path,
                                                                     refusal: str, overflow: bool) -> None:
    """Was: an OpenAI-compatible server refusing a history over its context (HTTP 400, in its own
    words) stopped the whole sampling at that problem, on every resume too: there is no tokenizer
    to count with. A refusal that says the context is full now ends the run as an overflow, as
    for a local model; any other refusal (an option the server lacks) still stops the run."""
    from http.server import BaseHTTPRequestHandler

    from editseq.models.loading import ModelError
    from editseq.models.openai_backend import OpenAIBackend
    from tests.models.test_openai_backend import _send_json, _serving

    first = prompts.history(load(shared_data).problems["3"].turn_prompts(0)[:1], [])

    class Server(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if len(body["prompt"]) > len(first):  # turn 1's prompt is taken, turn 2's history refused
                _send_json(self, 400, {"error": {"message": refusal}})
            else:
                _send_json(self, 200, {"choices": [{"index": 0, "text": "x = 1\n"}], "usage": {"completion_tokens": 3}})

        def log_message(self, *args: object) -> None:
            pass

    out = tmp_path / "runs.jsonl"
    opts = MTPBSampleOptions(model="served", out=out, problems="3", data=shared_data, progress=False)
    with _serving(Server) as url:
        backend = OpenAIBackend(url, served_model="m")
        if overflow:
            assert sample(opts, backend) == 5
            runs = [json.loads(line) for line in out.read_text().splitlines()]
            assert all(r["error"].startswith("context overflow at turn 2: ") and refusal in r["error"]
                       and r["completions"] == ["x = 1\n"] for r in runs), runs
        else:
            with pytest.raises(ModelError, match="min_p"):
                sample(opts, backend)
