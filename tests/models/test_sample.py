"""``editseq sample``'s library side: which tasks are drawn, in what order, and what a run shows."""

from __future__ import annotations

import json
from pathlib import Path

from editseq.benchmarks import load_benchmark
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
