"""``editseq train`` as a real two-process data-parallel run: ``torchrun`` on the CPU (gloo).

The same code path serves ``accelerate launch`` / ``torchrun`` on GPUs. What must hold: the
processes split the data (each optimizer step consumes ``processes x --batch-size`` examples),
only the main process claims the folder, writes, reports and warns, the tokenizer of a pretraining
run is the one the main process saved, and a refused folder ends the whole run with the reason.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("datasets")


def torchrun(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "editseq", "train", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def epoch_at(checkpoint: Path) -> float:
    return json.loads((checkpoint / "trainer_state.json").read_text())["epoch"]


def test_sft_on_two_processes_splits_the_data_and_resumes(tmp_path: Path, lintseq_jsonl: Path,
                                                           tiny_model_dir: Path) -> None:
    lines = [line for line in lintseq_jsonl.read_text().splitlines() if line.strip()]
    examples = len(lines)
    data = tmp_path / "data.jsonl"  # and one record without an instruction, dropped with a warning
    data.write_text("".join(line + "\n" for line in lines) + json.dumps({**json.loads(lines[0]), "instruction": ""}) + "\n")
    out = tmp_path / "sft"
    args = ["sft", "--model", str(tiny_model_dir), "--data", str(data), "--format", "editseq",
            "--output-dir", str(out), "--batch-size", "4", "--save-steps", "2", "--lr", "3e-3"]
    run = torchrun(*args, "--max-steps", "2")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("trained to step 2;") == 1  # reported by the main process only
    # and warned by it only: each process printed it, once per process
    assert run.stderr.count(f"warning: 1 of {examples + 1} records dropped: an empty instruction") == 1, run.stderr
    record = json.loads((out / "editseq_train.json").read_text())
    assert record["processes"] == 2 and record["global_step"] == 2
    # two processes x 4 examples per step: 2 steps are 16 examples of the data
    assert epoch_at(out / "checkpoint-2") == pytest.approx(2 * 2 * 4 / examples)

    run = torchrun(*args, "--max-steps", "3")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count(f"trained to step 3 (resumed from {out / 'checkpoint-2'})") == 1
    record = json.loads((out / "editseq_train.json").read_text())
    assert record["global_step"] == 3 and record["resumed_from"] == str(out / "checkpoint-2")
    assert epoch_at(out / "checkpoint-3") == pytest.approx(3 * 2 * 4 / examples)

    refused = torchrun(*args[:-1], "1e-3", "--max-steps", "4")  # another recipe in the same folder
    assert refused.returncode != 0
    assert "was started with other settings (lr: 0.003 then, 0.001 now" in refused.stdout + refused.stderr
    assert not (out / "checkpoint-4").exists()


def test_pretrain_on_two_processes_shares_the_main_process_tokenizer(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from editseq.data import EXAMPLES
    from editseq.train.packing import pack

    out = tmp_path / "tiny"
    run = torchrun("pretrain", "--data", str(EXAMPLES), "--text-field", "program", "--vocab-size", "400",
                   "--block-size", "32", "--batch-size", "4", "--max-steps", "2", "--output-dir", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("trained to step 2;") == 1
    record = json.loads((out / "editseq_train.json").read_text())
    assert record["processes"] == 2 and record["global_step"] == 2
    texts = [json.loads(line)["program"] for line in EXAMPLES.read_text().splitlines() if line.strip()]
    blocks = pack(AutoTokenizer.from_pretrained(str(out)), texts, 32)
    assert record["blocks"] == len(blocks)  # every process packed with the tokenizer that was saved
    # each process reads half the blocks (rounded up), 4 per step; one process alone would take twice the steps
    steps_per_epoch = math.ceil(math.ceil(len(blocks) / 2) / 4)
    assert epoch_at(out / "checkpoint-2") == pytest.approx(2 / steps_per_epoch)
