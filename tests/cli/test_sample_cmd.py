"""The real ``editseq sample`` with SmolLM2-135M on the CPU, then ``editseq evaluate`` on its output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from editseq.cli import main
from tests.cli.interrupt import interrupted


def test_sample_then_evaluate_two_humaneval_problems(tmp_path: Path, shared_data: Path, capsys) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "s.jsonl"
    args = ["sample", "--model", "smollm2-135m", "--benchmark", "humaneval", "--data", str(shared_data),
            "--limit", "2", "--n", "2", "--max-new-tokens", "24", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "tokens/s" in captured.out
    # --no-progress silences transformers' bars too: loading weights, de-quantizing the GGUF
    assert "Loading weights" not in captured.err and "de-quantizing" not in captured.err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["task_id"], r["sample"]) for r in records] == [
        ("HumanEval/0", 0), ("HumanEval/0", 1), ("HumanEval/1", 0), ("HumanEval/1", 1)]
    assert all("solution" in r and "raw" in r and 1 <= r["tokens"] <= 24 for r in records)
    manifest = json.loads((tmp_path / "s_sampling.json").read_text())
    assert manifest["summary"]["tokens_per_s"] > 0 and manifest["settings"]["n"] == 2
    assert manifest["summary"]["prompt_style"] == "chat"  # auto: SmolLM2-Instruct has a chat template
    # the reply was begun inside a code block, so the model wrote code and stopped at its fence
    assert manifest["settings"]["chat_response_prefix"].endswith("```python\n")
    assert manifest["settings"]["chat_instruction"].startswith("Please provide a self-contained Python script")
    assert not any("```" in r["raw"] for r in records)

    # as an older editseq wrote it (no stops recorded: HumanEval's were these): resumed
    old = {**manifest, "settings": {k: v for k, v in manifest["settings"].items() if k != "completion_stops"}}
    (tmp_path / "s_sampling.json").write_text(json.dumps(old))
    respelled = [str(shared_data) + "/." if a == str(shared_data) else a for a in args]
    assert main(respelled) == 0  # resumed (the same data, however named): nothing left to draw
    assert "2 tasks (2 from an earlier run): 0 new samples" in capsys.readouterr().out
    # a rerun that drew nothing kept the drawing run's record (it wrote prompt_style null, no tokens/s)
    assert json.loads((tmp_path / "s_sampling.json").read_text())["summary"] == manifest["summary"]
    assert len(out.read_text().splitlines()) == 4
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:3]) + lines[3][:10])  # killed while writing HumanEval/1's samples
    assert main(args) == 0
    assert "2 tasks (1 from an earlier run): 2 new samples" in capsys.readouterr().out
    resumed = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["sample"] for r in resumed] == [0, 1, 0, 1]
    # drawn alone now, in a batch with HumanEval/0 before: each row has its own seed
    assert [(r["raw"], r["tokens"]) for r in resumed] == [(r["raw"], r["tokens"]) for r in records]
    assert main([*args, "--n", "3"]) == 2  # other settings on the same output are refused
    assert "(n: 2 then, 3 now" in capsys.readouterr().err
    # an older editseq's chat run began no reply: its samples are not mixed with these
    chat_then = {**manifest, "settings": {k: v for k, v in manifest["settings"].items()
                                          if k != "chat_response_prefix"}}
    (tmp_path / "s_sampling.json").write_text(json.dumps(chat_then))
    assert main(args) == 2
    assert 'chat_response_prefix: "" then, "Below is' in capsys.readouterr().err
    # nor is one drawn under an instruction that editseq did not record (EvalPlus's came later)
    chat_then = {**manifest, "settings": {k: v for k, v in manifest["settings"].items() if k != "chat_instruction"}}
    (tmp_path / "s_sampling.json").write_text(json.dumps(chat_then))
    assert main(args) == 2
    assert 'chat_instruction: "(before editseq recorded it)" then' in capsys.readouterr().err
    (tmp_path / "s_sampling.json").write_text(json.dumps(manifest))

    with pytest.warns(UserWarning, match="162 of 164"):
        code = main(["evaluate", str(out), "--benchmark", "humaneval", "--data", str(shared_data),
                     "--k", "1,2", "--workers", "2", "--no-cache", "--no-progress"])
    assert code == 0
    summary = json.loads((tmp_path / "s_summary.json").read_text())
    assert {"pass@1", "pass@2"} <= set(summary) and summary["n_samples"] == 4


def test_mbpp_completions_are_not_cut_at_their_own_def(tmp_path: Path, shared_data: Path, capsys) -> None:
    """An MBPP completion is the whole program after a docstring prompt. Sampling stopped at the
    HumanEval stops: SmolLM2's first sample of task 12, a comment line and then the function,
    was kept as the comment alone."""
    pytest.importorskip("torch")
    out = tmp_path / "c.jsonl"
    assert main(["sample", "--model", "smollm2-135m", "--benchmark", "mbpp", "--data", str(shared_data),
                 "--task-ids", "12", "--n", "2", "--max-new-tokens", "48", "--prompt", "completion",
                 "--out", str(out), "--no-progress"]) == 0
    raws = [json.loads(line)["raw"] for line in out.read_text().splitlines()]
    assert raws[0].startswith("# write a function") and "\ndef sort_matrix(" in raws[0]
    # a file started before the stops were recorded was cut at Codex's stops: not resumed under MBPP's
    manifest_path = tmp_path / "c_sampling.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["settings"].pop("completion_stops")[0] == '\n"""'
    manifest_path.write_text(json.dumps(manifest))
    assert main(["sample", "--model", "smollm2-135m", "--benchmark", "mbpp", "--data", str(shared_data),
                 "--task-ids", "12", "--n", "2", "--max-new-tokens", "48", "--prompt", "completion",
                 "--out", str(out), "--no-progress"]) == 2
    assert "other settings (completion_stops:" in capsys.readouterr().err


def test_bad_options_exit_2(tmp_path: Path, shared_data: Path, capsys) -> None:
    out = str(tmp_path / "s.jsonl")
    assert main(["sample", "--out", out, "--format", "editseq", "--prompt", "chat"]) == 2
    assert "--prompt chat does not go with --format editseq" in capsys.readouterr().err
    # was: "...; edit sequences use --prompt lintseq (or auto)", the very prompt it refused
    assert main(["sample", "--out", out, "--prompt", "lintseq"]) == 2
    assert "--prompt lintseq does not go with --format program; programs use --prompt completion, chat or " \
           "instruction (or auto); --prompt lintseq asks for an edit sequence, which --format editseq reads" \
           in capsys.readouterr().err
    assert main(["sample", "--out", out, "--data", str(shared_data), "--task-ids", "HumanEval/1,HumanEval/999"]) == 2
    assert "HumanEval/999 not in humaneval" in capsys.readouterr().err  # the list was split at its comma
    assert main(["sample", "--out", out, "--limit", "1", "--task-ids", "HumanEval/0"]) == 2
    # was ignored (the local model sampled) and still recorded in the run's settings
    assert main(["sample", "--out", out, "--served-model", "qwen"]) == 2
    assert "--served-model names a model on an OpenAI-compatible server" in capsys.readouterr().err


def test_missing_model_names_the_fix(tmp_path: Path, shared_data: Path, capsys) -> None:
    pytest.importorskip("transformers")
    code = main(["sample", "--model", str(tmp_path / "no-such-model"), "--data", str(shared_data),
                 "--limit", "1", "--out", str(tmp_path / "s.jsonl"), "--no-progress"])
    assert code == 2
    assert "no-such-model: no such file or folder; pass a local checkpoint folder" in capsys.readouterr().err
    code = main(["sample", "--model", "org/no-such-model", "--data", str(shared_data),  # a hub name
                 "--limit", "1", "--out", str(tmp_path / "s.jsonl"), "--no-progress"])
    assert code == 2
    assert "org/no-such-model: no such folder, nor a model of that name in the Hugging Face cache" in capsys.readouterr().err


def test_a_path_that_holds_no_model_leaves_no_settings_file(tmp_path: Path, shared_data: Path, capsys) -> None:
    """Was: `sample` and `mtpb sample` recorded a run's settings beside OUT (`s_sampling.json`,
    `r.jsonl.settings.json`) before loading --model, so a mistyped model path left that file behind,
    naming the model that does not exist; so did `sample` for a hub name the cache lacks."""
    (tmp_path / "empty").mkdir()
    for model, says in ((tmp_path / "no-such-model", "no such file or folder"),
                        (tmp_path / "empty", "a folder without a model")):
        for command in (["sample", "--data", str(shared_data), "--limit", "1", "--out", str(tmp_path / "s.jsonl")],
                        ["mtpb", "sample", "--data", str(shared_data), "--problems", "1",
                         "--out", str(tmp_path / "r.jsonl")]):
            assert main([*command, "--model", str(model), "--no-progress"]) == 2
            assert says in capsys.readouterr().err
    assert main(["sample", "--data", str(shared_data), "--limit", "1", "--out", str(tmp_path / "s.jsonl"),
                 "--model", "org/no-such-model", "--no-progress"]) == 2
    assert "nor a model of that name in the Hugging Face cache" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_sample_edit_sequences_from_an_http_server(tmp_path: Path, shared_data: Path, capsys) -> None:
    pytest.importorskip("torch")
    from http.server import ThreadingHTTPServer
    from threading import Thread

    from editseq.models.loading import load_model
    from editseq.models.transformers_backend import TransformersBackend
    from tests.models.test_openai_backend import _handler

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(TransformersBackend(*load_model("smollm2-135m")), []))
    Thread(target=httpd.serve_forever, daemon=True).start()
    out = tmp_path / "e.jsonl"
    try:
        code = main(["sample", "--model", f"http://127.0.0.1:{httpd.server_address[1]}", "--format", "editseq",
                     "--data", str(shared_data), "--task-ids", "HumanEval/2", "--n", "2",
                     "--max-new-tokens", "12", "--out", str(out), "--no-progress"])
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert code == 0, capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2
    for r in records:
        assert {"solution", "program", "resolve_problems", "raw", "tokens"} <= set(r)
        assert r["solution"].startswith("\n\ndef truncate_number")  # after the prompt


def test_every_benchmark_evaluate_scores_can_be_sampled() -> None:
    import typing

    from editseq.evaluate.run import EvaluateOptions
    from editseq.models.sample import SampleOptions

    def choices(cls: type) -> tuple:
        return typing.get_args(typing.get_type_hints(cls)["benchmark"])

    assert choices(SampleOptions) == choices(EvaluateOptions)


def test_greedy_tokens_count_one_decode(tmp_path: Path, shared_data: Path) -> None:
    """Greedy draws one decode and copies it n times: throughput counts the decode once."""
    pytest.importorskip("torch")
    out = tmp_path / "g.jsonl"
    assert main(["sample", "--model", "smollm2-135m", "--data", str(shared_data), "--task-ids", "HumanEval/2",
                 "--n", "3", "--temperature", "0", "--max-new-tokens", "8", "--out", str(out), "--no-progress"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3 and len({r["raw"] for r in records}) == 1
    summary = json.loads((tmp_path / "g_sampling.json").read_text())["summary"]
    assert summary["tokens"] == records[0]["tokens"]


def test_an_interrupted_overwrite_says_how_to_resume(tmp_path: Path, shared_data: Path, capsys) -> None:
    """Ctrl-C's SIGINT during a run started with --overwrite. Was: "Rerun the same command to
    resume", and the same command, --overwrite in it, deleted the finished work and started over."""
    pytest.importorskip("torch")
    from http.server import ThreadingHTTPServer
    from threading import Thread

    from editseq.models.loading import load_model
    from editseq.models.transformers_backend import TransformersBackend
    from tests.models.test_openai_backend import _handler

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(TransformersBackend(*load_model("smollm2-135m")), []))
    Thread(target=httpd.serve_forever, daemon=True).start()
    out = tmp_path / "s.jsonl"
    argv = ["sample", "--model", f"http://127.0.0.1:{httpd.server_address[1]}", "--data", str(shared_data),
            "--limit", "20", "--max-new-tokens", "8", "--batch-size", "1", "--out", str(out), "--no-progress"]
    try:
        # a task is written: the interruption comes mid-run
        code, err = interrupted([*argv, "--overwrite"], lambda: out.is_file() and bool(out.read_text()))
        assert code == 130, err
        assert err.endswith("Aborted. Rerun it without --overwrite to resume: finished work is kept.\n")
        kept = len(out.read_text().splitlines())
        assert 0 < kept < 20
        assert main(argv) == 0
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert f"20 tasks ({kept} from an earlier run)" in capsys.readouterr().out


def test_a_prompt_over_the_models_context_names_its_task(tmp_path: Path, shared_data: Path, capsys) -> None:
    """The error said a prompt filled the context, not whose: with --limit 40 a user could not
    tell which task to leave out."""
    pytest.importorskip("torch")
    from tests.train.tiny import tiny_model

    model = tiny_model(tmp_path)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "max_position_embeddings": 64}))
    args = ["sample", "--model", str(model), "--data", str(shared_data), "--task-ids", "HumanEval/3",
            "--prompt", "completion", "--max-new-tokens", "4", "--out", str(tmp_path / "s.jsonl"), "--no-progress"]
    assert main(args) == 2
    assert "HumanEval/3: --model" in capsys.readouterr().err


def test_a_prompt_a_server_refuses_names_its_task(tmp_path: Path, shared_data: Path, capsys) -> None:
    """A server refusing one prompt (vLLM's HTTP 400 for a prompt over its context) was reported
    against every task of the batch, so a user could not tell which one to leave out."""
    from http.server import BaseHTTPRequestHandler

    from tests.models.test_openai_backend import _send_json, _serving

    class Refusing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            _send_json(self, 200, {"data": [{"id": "m"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if "def below_zero" in body["prompt"]:
                _send_json(self, 400, {"object": "error", "type": "BadRequestError", "message":
                                       "This model's maximum context length is 64 tokens."})
            else:
                _send_json(self, 200, {"choices": [{"index": 0, "text": "    return 1\n"}]})

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Refusing) as url:
        code = main(["sample", "--model", url, "--data", str(shared_data), "--n", "2", "--task-ids",
                     "HumanEval/2,HumanEval/3,HumanEval/4", "--out", str(tmp_path / "s.jsonl"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: HumanEval/3: http://" in err and "HTTP 400: " in err and "maximum context length" in err
    assert "HumanEval/2" not in err and "HumanEval/4" not in err


def test_an_edit_sequence_cut_off_by_the_token_budget_says_so(tmp_path: Path, shared_data: Path) -> None:
    """An edit sequence cut mid-line by --max-new-tokens, its hunk counts whole, resolved with no
    problem named, so a record's broken program looked like the model's own mistake."""
    from http.server import BaseHTTPRequestHandler

    from editseq.models.prompts import CUT_OFF
    from tests.models.test_openai_backend import _send_json, _serving

    class Cut(BaseHTTPRequestHandler):  # the same text, cut at 12 tokens where fewer are allowed
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            _send_json(self, 200, {"choices": [{"index": 0, "text": "@@ -0,0 +1 @@\n+    return number % "}],
                                   "usage": {"completion_tokens": min(body["max_tokens"], 12)}})

        def log_message(self, *args: object) -> None:
            pass

    problems = {}
    with _serving(Cut) as url:
        for budget in (12, 40):
            out = tmp_path / f"{budget}.jsonl"
            assert main(["sample", "--model", url, "--served-model", "m", "--format", "editseq", "--data",
                         str(shared_data), "--task-ids", "HumanEval/2", "--max-new-tokens", str(budget),
                         "--out", str(out), "--no-progress"]) == 0
            [record] = [json.loads(line) for line in out.read_text().splitlines()]
            problems[budget] = record["resolve_problems"]
    assert problems == {12: [CUT_OFF], 40: []}
