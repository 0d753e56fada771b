"""``editseq sample``'s library side: which tasks are drawn, in what order, and what a run shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from editseq.benchmarks import load_benchmark
from editseq.config import ConfigError
from editseq.models.sample import SampleOptions, sample, select_problems


def test_limit_and_task_ids_choose_the_tasks(tmp_path: Path, shared_data: Path) -> None:
    bench = load_benchmark("humaneval", shared_data)
    out = tmp_path / "s.jsonl"

    def chosen(**flags: object) -> list[str]:
        return [p.task_id for p in select_problems(bench, SampleOptions(out=out, **flags))]

    assert chosen(limit=2) == ["HumanEval/0", "HumanEval/1"]
    assert len(chosen()) == 164
    # in the order given, each once, whether comma-separated or repeated
    assert chosen(task_ids=["HumanEval/3,HumanEval/1", "HumanEval/3"]) == ["HumanEval/3", "HumanEval/1"]


def test_a_run_shows_progress_with_tokens_per_second(smollm2, tmp_path: Path, shared_data: Path, capsys) -> None:
    from editseq.models.transformers_backend import TransformersBackend

    opts = SampleOptions(data=shared_data, task_ids=["HumanEval/3", "HumanEval/1"], temperature=0,
                         max_new_tokens=2, out=tmp_path / "s.jsonl")
    summary = sample(opts, TransformersBackend(*smollm2))
    bar = capsys.readouterr().err
    assert "sample humaneval" in bar and "2/2" in bar and "tok_s=" in bar
    assert summary["tokens_per_s"] > 0 and summary["tokens"] == 4
    records = [json.loads(line) for line in opts.out.read_text().splitlines()]
    assert [r["task_id"] for r in records] == ["HumanEval/3", "HumanEval/1"]


def test_task_ids_are_read_as_typed_and_an_empty_list_is_refused(tmp_path: Path, shared_data: Path) -> None:
    """Was: "HumanEval/1, HumanEval/2" was refused as " HumanEval/2 not in humaneval" (the
    space kept), and ``--task-ids ""`` (an unset shell variable) or "," sampled every task."""
    bench = load_benchmark("humaneval", shared_data)
    opts = SampleOptions(out=tmp_path / "s.jsonl", task_ids=["HumanEval/1, HumanEval/2 "])
    assert [p.task_id for p in select_problems(bench, opts)] == ["HumanEval/1", "HumanEval/2"]
    for given in ([""], [","], [" , "]):
        with pytest.raises(ConfigError, match="--task-ids names no task"):
            SampleOptions(out=tmp_path / "s.jsonl", task_ids=given)


def test_a_server_serving_another_model_does_not_resume(smollm2, tmp_path: Path, shared_data: Path) -> None:
    """The model a server serves is part of what was drawn. Was: a rerun after the server at the
    URL was restarted with another model (the next checkpoint, say) appended that model's samples
    to the first one's file; the served model's name is now recorded, and another refused."""
    from http.server import ThreadingHTTPServer
    from threading import Thread

    from editseq.models.transformers_backend import TransformersBackend
    from tests.models.test_openai_backend import _handler

    def serve(name: str, port: int = 0) -> ThreadingHTTPServer:
        httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(TransformersBackend(*smollm2), [], name))
        Thread(target=httpd.serve_forever, daemon=True).start()
        return httpd

    httpd = serve("ckpt-1000")
    port = httpd.server_address[1]
    opts = dict(model=f"http://127.0.0.1:{port}", data=shared_data, temperature=0, max_new_tokens=2,
                out=tmp_path / "s.jsonl", progress=False)
    try:
        sample(SampleOptions(task_ids=["HumanEval/2"], **opts))
    finally:
        httpd.shutdown()
        httpd.server_close()
    httpd = serve("ckpt-2000", port)
    try:
        with pytest.raises(ConfigError, match='served_model: "ckpt-1000" then, "ckpt-2000" now'):
            sample(SampleOptions(task_ids=["HumanEval/2", "HumanEval/3"], **opts))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert len(opts["out"].read_text().splitlines()) == 1


def test_a_checkpoint_folder_trained_further_in_place_does_not_resume(tmp_path: Path, shared_data: Path) -> None:
    """A local checkpoint folder counted by its path alone: samples drawn before and after it was
    trained further in place (`editseq train` resumed into the same --output-dir) went into one
    file in silence. Its model files are now what it is (model_files): moved elsewhere, it
    resumes, with a warning; with other weights it is refused."""
    pytest.importorskip("torch")
    from tests.train.tiny import perturb, tiny_model

    model = tiny_model(tmp_path)
    opts = dict(data=shared_data, temperature=0, max_new_tokens=2, out=tmp_path / "s.jsonl", progress=False)
    sample(SampleOptions(model=str(model), task_ids=["HumanEval/2"], **opts))
    moved = model.rename(tmp_path / "moved")
    with pytest.warns(UserWarning, match="moved to"):
        sample(SampleOptions(model=str(moved), task_ids=["HumanEval/2", "HumanEval/3"], **opts))
    perturb(moved)
    with pytest.raises(ConfigError, match=r"other settings \(model_files: content sha256"):
        sample(SampleOptions(model=str(moved), task_ids=["HumanEval/2", "HumanEval/3", "HumanEval/4"], **opts))
    assert len(opts["out"].read_text().splitlines()) == 2


@pytest.mark.parametrize(("benchmark", "task", "resumes"), [("mbpp+", "Mbpp/2", False), ("humaneval", "HumanEval/2", True)])
def test_a_run_begun_under_other_prompts_does_not_resume(smollm2, tmp_path: Path, shared_data: Path,
                                                         benchmark: str, task: str, resumes: bool) -> None:
    """The prompts are part of what was drawn. MBPP's and MBPP+'s changed (the bigcode harness's
    and EvalPlus's now): a run of them begun before the prompts were recorded (its manifest has
    none) is refused, so the rest of its tasks are not drawn under other prompts; another
    benchmark's resumes."""
    from editseq.models.transformers_backend import TransformersBackend

    backend = TransformersBackend(*smollm2)
    opts = SampleOptions(benchmark=benchmark, data=shared_data, task_ids=[task], temperature=0,
                         max_new_tokens=2, out=tmp_path / "s.jsonl", progress=False)
    sample(opts, backend)
    manifest = json.loads(opts.manifest_path().read_text())
    assert manifest["settings"]["prompts"].startswith("sha256:")
    del manifest["settings"]["prompts"]  # as an earlier editseq wrote it
    opts.manifest_path().write_text(json.dumps(manifest))
    if resumes:
        assert sample(opts, backend)["resumed"] == 1
    else:
        with pytest.raises(ConfigError, match=r"prompts: \"\(before editseq recorded them\)\" then"):
            sample(opts, backend)


def test_a_prompt_over_the_context_names_its_task_alone(tmp_path: Path, shared_data: Path) -> None:
    """Was: the error named every task of the batch the prompt was drawn with (up to
    --batch-size of them), which left the user to find the long one."""
    pytest.importorskip("torch")
    from transformers import AutoTokenizer

    from editseq.models.loading import ModelError
    from tests.train.tiny import tiny_model

    model = tiny_model(tmp_path)
    tokenizer = AutoTokenizer.from_pretrained(str(model))
    problems = load_benchmark("humaneval", shared_data).problems
    lengths = {t: len(tokenizer(problems[t].prompt.rstrip("\n") + "\n")["input_ids"]) for t in ("HumanEval/2", "HumanEval/3")}
    longer = max(lengths, key=lengths.get)
    assert lengths[longer] > min(lengths.values())
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    (model / "config.json").write_text(json.dumps({**config, "max_position_embeddings": lengths[longer]}), encoding="utf-8")
    with pytest.raises(ModelError, match=rf"^{longer}: --model .*: a prompt of {lengths[longer]} tokens fills the "
                                         rf"model's context of {lengths[longer]} tokens \(max_position_embeddings\)"):
        sample(SampleOptions(model=str(model), data=shared_data, task_ids=["HumanEval/2", "HumanEval/3"],
                             temperature=0, max_new_tokens=2, out=tmp_path / "s.jsonl", progress=False))
