"""Whole runs of ``editseq lintseq`` (editseq.lintseq.run): every record accounted for, resume, inputs and outputs."""

import contextlib
import json
import os

import pytest

from editseq.cli import main
from editseq.lintseq.diffs import apply_edit_path
from tests.lintseq.records import GOOD, output_records, write_lines
from tests.processes import ends


@pytest.fixture
def messy(tmp_path):
    rows = [
        json.dumps({"instruction": "add", "program": GOOD}).encode(),
        json.dumps({"instruction": "no program"}).encode(),
        json.dumps({"instruction": "number", "program": 7}).encode(),
        b"{not json",
        json.dumps({"instruction": "x", "program": "ok = 1"}).encode()[:-2] + b"\xff\xfe\"}",
        json.dumps({"instruction": "empty", "program": "   \n"}).encode(),
        json.dumps({"instruction": "syntax", "program": "def f(:\n    pass"}).encode(),
        json.dumps({"instruction": "huge", "program": "x = 1\n" * 50}).encode(),
        json.dumps({"instruction": "fenced", "program": "Sure!\n```python\n" + GOOD + "```\nDone."}).encode(),
        b"[1, 2]",
    ]
    path = tmp_path / "in.jsonl"
    write_lines(path, rows)
    return path


def test_a_folder_as_output_is_refused_before_any_file_is_written(tmp_path, capsys):
    """OUTPUT naming a folder was refused only once the manifest was written: a stray
    out.manifest.json was left beside it (and `mtpb sample` loaded its model first)."""
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"program": GOOD}) + "\n")
    (tmp_path / "out.jsonl").mkdir()
    assert main(["lintseq", str(path), str(tmp_path / "out.jsonl"), "--no-progress", "--workers", "1"]) == 2
    assert "out.jsonl: is a directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_every_record_ends_in_output_or_error_report(messy, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    rc = main(["lintseq", str(messy), str(out), "--samples", "2", "--max-lines", "20", "--no-progress", "--workers", "1"])
    assert rc == 0
    records = output_records(out)
    errors = output_records(tmp_path / "out.errors.jsonl")
    assert sorted({r["instruction"] for r in records}) == ["add", "fenced"]
    assert [r["sample"] for r in records] == [0, 1, 0, 1]
    for r in records:
        assert "\n".join(apply_edit_path(r["edit_path"])) == GOOD.rstrip("\n")
    reasons = {e["index"]: e["reason"] for e in errors}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 7, 9]
    assert "missing field 'program'" in reasons[1]
    assert reasons[2] == "field 'program' must be text, got int; name the right one with --program-field"  # as train's
    assert "not valid JSON" in reasons[3]
    assert "not UTF-8" in reasons[4]
    assert "empty program" in reasons[5]
    assert "syntax error" in reasons[6]
    assert reasons[7] == "over --max-lines: the program has 50 lines, the limit is 20"
    assert "expected a JSON object" in reasons[9]
    assert errors[0]["where"] == "in.jsonl line 2"
    summary = json.loads((tmp_path / "out.summary.json").read_text())
    assert summary["converted"] + summary["failed"] == summary["input"] == 10
    assert "2 converted, 8 failed" in capsys.readouterr().out
    assert summary["reasons"]["over --max-lines"] == 1  # grouped by kind, not cut mid-sentence


def test_resume_after_a_torn_write_matches_a_fresh_run(tmp_path):
    rows = [json.dumps({"program": GOOD.replace("1, 2", f"{i}, 2")}).encode() for i in range(30)]
    rows.insert(7, b"{broken")
    write_lines(tmp_path / "in.jsonl", rows)
    args = ["--samples", "3", "--no-progress", "--workers", "2"]
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "fresh.jsonl"), *args]) == 0
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "cut.jsonl"), *args]) == 0
    data = (tmp_path / "cut.jsonl").read_bytes()
    lines = data.splitlines(keepends=True)
    # keep 10 whole lines (three records and one sequence of the fourth) plus half a line
    (tmp_path / "cut.jsonl").write_bytes(b"".join(lines[:10]) + lines[10][:25])
    errors = (tmp_path / "cut.errors.jsonl").read_bytes()
    (tmp_path / "cut.errors.jsonl").write_bytes(b"")
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "cut.jsonl"), *args]) == 0
    assert (tmp_path / "cut.jsonl").read_bytes() == (tmp_path / "fresh.jsonl").read_bytes()
    assert (tmp_path / "cut.errors.jsonl").read_bytes() == errors


def test_changed_settings_refuse_to_resume(tmp_path, capsys):
    write_lines(tmp_path / "in.jsonl", [json.dumps({"program": GOOD}).encode()])
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.jsonl"), "--no-progress"]) == 0
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.jsonl"), "--no-progress", "--seed", "9"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.jsonl"), "--no-progress", "--seed", "9", "--overwrite"]) == 0


def test_resume_knows_the_input_by_content_not_by_how_it_is_named(tmp_path, capsys, monkeypatch):
    write_lines(tmp_path / "in.jsonl", [json.dumps({"program": GOOD}).encode()])
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.jsonl"), "--no-progress"]) == 0
    monkeypatch.chdir(tmp_path)
    assert main(["lintseq", "./in.jsonl", "o.jsonl", "--no-progress"]) == 0  # the same run, named from its folder
    assert "1 from an earlier run" in capsys.readouterr().out and len(output_records(tmp_path / "o.jsonl")) == 1
    write_lines(tmp_path / "in.jsonl", [json.dumps({"program": GOOD.replace("1, 2", "3, 4")}).encode()])
    assert main(["lintseq", "in.jsonl", "o.jsonl", "--no-progress"]) == 2  # the input was edited: not a resume
    assert "(input: content sha256" in capsys.readouterr().err


def test_a_dataset_folder_moved_resumes_and_one_saved_over_does_not(tmp_path, capsys):
    """Was: a folder INPUT counted by its path alone: moved elsewhere, its resume was refused
    (input: "/…/ds" then, "/…/moved" now); saved over with other records, it resumed on them in
    silence. Its data files are now its identity, recorded as input_files."""
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list([{"program": GOOD}]).save_to_disk(str(tmp_path / "ds"))
    out, manifest = tmp_path / "o.jsonl", tmp_path / "o.manifest.json"
    assert main(["lintseq", str(tmp_path / "ds"), str(out), "--no-progress"]) == 0
    (tmp_path / "ds").rename(tmp_path / "moved")
    with pytest.warns(UserWarning, match=rf"input {tmp_path / 'ds'} moved to {tmp_path / 'moved'}, its content the "
                                         r"same \(input_files\): .*o\.jsonl resumes"):
        assert main(["lintseq", str(tmp_path / "moved"), str(out), "--no-progress"]) == 0
    assert "1 from an earlier run" in capsys.readouterr().out and len(output_records(out)) == 1
    assert json.loads(manifest.read_text())["settings"]["input"] == str(tmp_path / "moved")
    datasets.Dataset.from_list([{"program": GOOD.replace("1, 2", "3, 4")}]).save_to_disk(str(tmp_path / "ds"))
    assert main(["lintseq", str(tmp_path / "ds"), str(out), "--no-progress"]) == 2
    assert "; input_files: content sha256" in capsys.readouterr().err


def test_bad_options_and_missing_input_exit_2(tmp_path, capsys):
    assert main(["lintseq", str(tmp_path / "nope.jsonl"), str(tmp_path / "o.jsonl"), "--no-progress"]) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # a mistyped INPUT leaves no output, report or manifest
    assert main(["lintseq", str(tmp_path / "nope.jsonl"), str(tmp_path / "o.txt")]) == 2
    assert main(["lintseq", "x.jsonl", "o.jsonl", "--linter", "flake9"]) == 2
    assert "--linter" in capsys.readouterr().err
    # never onto the input, even with --overwrite
    write_lines(tmp_path / "in.jsonl", [json.dumps({"program": GOOD}).encode()])
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "in.jsonl"), "--overwrite", "--no-progress"]) == 2
    assert "is INPUT" in capsys.readouterr().err and json.loads((tmp_path / "in.jsonl").read_text())
    # INPUT without OUTPUT: never into the shipped examples' output file
    assert main(["lintseq", str(tmp_path / "nope.jsonl"), "--no-progress"]) == 2
    assert "OUTPUT is required" in capsys.readouterr().err


def test_parquet_in_and_out(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"instruction": ["add", "bad"], "program": [GOOD, "def ("]}), tmp_path / "in.parquet")
    assert main(["lintseq", str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet"), "--no-progress", "--samples", "2"]) == 0
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.num_rows == 2 and set(table.column_names) == {"instruction", "program", "edit_path", "sample"}
    assert "\n".join(apply_edit_path(table.column("edit_path")[0].as_py())) == GOOD.rstrip("\n")


def test_hugging_face_dataset_in(tmp_path):
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list([{"instruction": "add", "code": GOOD}]).save_to_disk(str(tmp_path / "ds"))
    out = tmp_path / "out.jsonl"
    assert main(["lintseq", str(tmp_path / "ds"), str(out), "--program-field", "code", "--no-progress"]) == 0
    (record,) = output_records(out)
    assert record["instruction"] == "add" and record["sample"] == 0
    loaded = datasets.load_dataset("json", data_files=str(out), split="train")
    assert loaded[0]["edit_path"] == record["edit_path"]


def test_json_array_files_bom_and_taken_fields(tmp_path, capsys):
    """MBPP's sanitized release is one JSON array: its items are the records. A byte-order mark is
    not part of the JSON. Input fields that lintseq writes itself are refused, not overwritten."""
    items = [{"prompt": "add", "code": GOOD}, [1, 2], {"prompt": "mine", "code": GOOD, "sample": "keep me"}]
    (tmp_path / "in.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(items, indent=1).encode())
    args = ["--program-field", "code", "--instruction-field", "prompt", "--no-progress", "--workers", "1"]
    assert main(["lintseq", str(tmp_path / "in.json"), str(tmp_path / "o.jsonl"), *args]) == 0
    assert [r["prompt"] for r in output_records(tmp_path / "o.jsonl")] == ["add"]
    errors = {e["where"]: e["reason"] for e in output_records(tmp_path / "o.errors.jsonl")}
    assert errors == {"in.json item 1": "expected a JSON object, got list",
                      "in.json item 2": "field 'sample' is taken: lintseq writes its own 'edit_path' and "
                                        "'sample'; rename or drop it in the input"}
    assert "3 records: 1 converted, 2 failed" in capsys.readouterr().out

    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps({"program": GOOD}).encode() + b"\n")
    assert main(["lintseq", str(tmp_path / "bom.jsonl"), str(tmp_path / "b.jsonl"), "--no-progress"]) == 0
    assert len(output_records(tmp_path / "b.jsonl")) == 1

    # a field no record has: every record fails, and the exit status and message say so
    assert main(["lintseq", str(tmp_path / "bom.jsonl"), str(tmp_path / "n.jsonl"), "--no-progress",
                 "--program-field", "nope"]) == 1
    captured = capsys.readouterr()
    assert "error: no record could be converted (bom.jsonl line 1: missing field 'nope' (fields: program); " \
           "name the right one with --program-field); every reason is in" in captured.err


def test_a_run_that_converts_nothing_leaves_no_output_and_does_not_block_the_fix(tmp_path, capsys):
    """Was: a mistyped --program-field left an empty OUTPUT (which ``datasets`` cannot load) and a
    manifest that refused the corrected command ("started with other settings")."""
    write_lines(tmp_path / "in.jsonl", [json.dumps({"code": GOOD}).encode()])
    for out in ("o.jsonl", "p.parquet"):
        args = ["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / out), "--no-progress", "--workers", "1"]
        assert main(args) == 1  # the default --program-field is 'program'
        assert "every reason is in" in capsys.readouterr().err
        assert not (tmp_path / out).exists() and (tmp_path / out).with_suffix(".errors.jsonl").exists()
        assert main([*args, "--program-field", "code"]) == 0
        assert "1 record: 1 converted, 0 failed (0 from an earlier run)" in capsys.readouterr().out
        assert not (tmp_path / out).with_suffix(".errors.jsonl").exists()
    assert len(output_records(tmp_path / "o.jsonl")) == 1


def test_jsonl_and_parquet_outputs_of_one_name_are_not_mixed_up(tmp_path, capsys):
    """x.jsonl and x.parquet share x.manifest.json, x.errors.jsonl and x.summary.json. Was: x.parquet
    after x.jsonl under other settings was refused as "x.parquet was started with other settings";
    under the same settings it ran on x.jsonl's files, reporting x.jsonl's failures "from an earlier
    run" and cutting x.jsonl's error report to resume (interrupted, x.jsonl's rerun then misplaced
    its records). The manifest now names its output's format, and the other output is refused."""
    rows = [{"code": GOOD}, {"program": "def f(:"}, {"program": GOOD}, {"program": 7}]
    write_lines(tmp_path / "in.jsonl", [json.dumps(r).encode() for r in rows])
    args = ["lintseq", str(tmp_path / "in.jsonl"), "--no-progress", "--workers", "1"]
    assert main([*args, str(tmp_path / "x.jsonl")]) == 0
    report = (tmp_path / "x.errors.jsonl").read_bytes()
    capsys.readouterr()
    for settings in ([], ["--samples", "2"]):
        assert main([*args, str(tmp_path / "x.parquet"), *settings]) == 2
        err = capsys.readouterr().err
        assert "x.manifest.json belongs to" in err and "x.jsonl: OUTPUT x.parquet would share it" in err
        assert "choose another OUTPUT name" in err
        assert (tmp_path / "x.errors.jsonl").read_bytes() == report and not (tmp_path / "x.parquet").exists()
    assert main([*args, str(tmp_path / "x.jsonl")]) == 0  # its own run still resumes
    assert "4 records: 1 converted, 3 failed (4 from an earlier run)" in capsys.readouterr().out
    assert main([*args, str(tmp_path / "x.parquet"), "--overwrite"]) == 0
    assert "4 records: 1 converted, 3 failed (0 from an earlier run)" in capsys.readouterr().out
    assert main([*args, str(tmp_path / "x.jsonl")]) == 2  # its files are x.parquet's now
    assert "belongs to" in capsys.readouterr().err and (tmp_path / "x.errors.jsonl").read_bytes() == report


def test_an_unreadable_input_leaves_no_files(tmp_path, capsys):
    """Was: an empty OUTPUT, an empty error report and a manifest stayed after the read failed (a
    JSON array that does not parse; a hub dataset that cannot be reached)."""
    (tmp_path / "bad.json").write_text('[{"program": "x = 1"},')
    assert main(["lintseq", str(tmp_path / "bad.json"), str(tmp_path / "o.jsonl"), "--no-progress"]) == 2
    assert "a JSON array file that does not parse" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_a_mistyped_instruction_field_names_the_fields_there_are(tmp_path):
    """Was: "field 'prompt' is missing or not text", without the fields the record has; then
    without the fix a mistyped --program-field was given (train sft and pretrain named it)."""
    write_lines(tmp_path / "in.jsonl", [json.dumps({"text": "add", "program": GOOD}).encode()])
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.jsonl"), "--instruction-field", "prompt",
                 "--no-progress", "--workers", "1"]) == 1
    assert output_records(tmp_path / "o.errors.jsonl")[0]["reason"] == \
        "missing field 'prompt' (fields: program, text); name the right one with --instruction-field"


def test_an_input_without_records_is_bad_input(tmp_path, capsys):
    """Was: exit 0 with "0 records" and an empty OUTPUT that ``datasets`` cannot load."""
    (tmp_path / "empty.jsonl").write_text("\n")
    for out in ("o.jsonl", "o.parquet"):
        assert main(["lintseq", str(tmp_path / "empty.jsonl"), str(tmp_path / out), "--no-progress"]) == 2
        assert "INPUT holds no records" in capsys.readouterr().err
        assert not (tmp_path / out).exists() and not (tmp_path / "o.manifest.json").exists()


def test_a_record_without_its_key_fails_alone(tmp_path, capsys):
    """Was: 'no key field' stopped the run, leaving an empty output that only --overwrite could
    restart. A record --key-field cannot key goes to the error report; the others keep their seeds."""
    rows = [{"id": "a", "program": GOOD}, {"program": GOOD}, {"id": None, "program": GOOD},
            {"id": ["b"], "program": GOOD}, {"id": 4, "program": GOOD}]
    write_lines(tmp_path / "keys.jsonl", [json.dumps(r).encode() for r in rows])
    args = ["--key-field", "id", "--no-progress", "--workers", "1"]
    assert main(["lintseq", str(tmp_path / "keys.jsonl"), str(tmp_path / "o.jsonl"), *args]) == 0
    assert "5 records: 2 converted, 3 failed" in capsys.readouterr().out
    assert [r["id"] for r in output_records(tmp_path / "o.jsonl")] == ["a", 4]
    errors = output_records(tmp_path / "o.errors.jsonl")
    assert [(e["index"], e["where"]) for e in errors] == [(1, "keys.jsonl line 2"), (2, "keys.jsonl line 3"),
                                                         (3, "keys.jsonl line 4")]
    assert errors[0]["reason"] == "missing key field 'id' (--key-field; fields: program)"
    assert errors[1]["reason"] == "key field 'id' is null, expected text or a number (--key-field)"
    assert errors[2]["reason"] == "key field 'id' is a list, expected text or a number (--key-field)"
    # the same seeds as a run of the good records alone
    write_lines(tmp_path / "good.jsonl", [json.dumps(rows[i]).encode() for i in (0, 4)])
    assert main(["lintseq", str(tmp_path / "good.jsonl"), str(tmp_path / "g.jsonl"), *args]) == 0
    assert (tmp_path / "g.jsonl").read_bytes() == (tmp_path / "o.jsonl").read_bytes()


def test_rewriting_the_errors_file_keeps_lines_holding_a_line_separator(tmp_path):
    """Errors are JSONL with non-ASCII kept: a reason holding U+2028 is still one line."""
    from editseq.io.outputs import dumps
    from editseq.lintseq.run import _rewrite_errors

    path = tmp_path / "out.errors.jsonl"
    rows = [{"index": 0, "key": "a", "where": "x", "reason": "bad\u2028line"},
            {"index": 1, "key": "b", "where": "x", "reason": "gone"}]
    path.write_text("".join(dumps(r) + "\n" for r in rows), encoding="utf-8")
    _rewrite_errors(path, {0: "a"})
    assert [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line] == rows[:1]


def _stopped_midway(tmp_path, stop) -> tuple[int, str]:
    """(exit status, stderr) of `editseq lintseq --workers 2` on which ``stop(pid)`` was called once
    its first 16 records were written; then checks that rerunning resumes to what an uninterrupted
    run writes. Records 16-31 wait on one slow record (it always runs into --timeout), so one worker
    is busy and the other has nothing left to do when ``stop`` comes."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    slow = "".join(f"def f{i}(a):\n    if a:\n        return a + {i}\n    return 0\n" for i in range(1250))
    programs = [f"x = {i}\nprint(x)\n" for i in range(40)]
    programs[16] = slow  # ~20 s of sampling at --samples 400, cut at 2 s
    write_lines(tmp_path / "in.jsonl", [json.dumps({"program": p}).encode() for p in programs])
    out = tmp_path / "out.jsonl"
    argv = ["lintseq", str(tmp_path / "in.jsonl"), str(out), "--samples", "400", "--timeout", "2",
            "--workers", "2", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "editseq", *argv], env=env, text=True, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not out.exists() or out.stat().st_size == 0:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.3)  # the other worker finishes records 32-39 and waits for work
    stop(proc.pid)
    try:
        _, err = proc.communicate(timeout=60)
    finally:  # a hung run is not left behind
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert main(argv) == 0
    assert main([*argv[:2], str(tmp_path / "fresh.jsonl"), *argv[3:]]) == 0
    assert out.read_bytes() == (tmp_path / "fresh.jsonl").read_bytes()
    assert output_records(tmp_path / "out.errors.jsonl") == output_records(tmp_path / "fresh.errors.jsonl")
    assert json.loads((tmp_path / "out.summary.json").read_text())["resumed"] >= 16
    return proc.returncode, err


def test_ctrl_c_with_workers_stops_quietly_and_the_rerun_resumes(tmp_path):
    """A terminal's Ctrl-C sends SIGINT to the whole process group. Was: a worker waiting for work
    printed a KeyboardInterrupt traceback under the parent's clean message; and a second Ctrl-C,
    pressed while the first waited for the batch under way, landed inside the pool's shutdown and
    the process hung at exit for good, its workers never told to stop."""
    import os
    import signal
    import time

    def ctrl_c_twice(pid: int) -> None:
        os.killpg(pid, signal.SIGINT)
        time.sleep(0.1)
        os.killpg(pid, signal.SIGINT)  # pressed again

    status, err = _stopped_midway(tmp_path, ctrl_c_twice)
    assert status == 130, err
    assert "Traceback" not in err
    assert err.endswith("Aborted. Rerun the same command to resume: finished work is kept.\n")


def test_a_worker_killed_from_outside_loses_no_record_and_the_run_goes_on(tmp_path):
    """Was: a worker killed by the system (the OOM killer, say) ended the run with a BrokenProcessPool
    traceback, later an error asking for a rerun; the batches it held now convert again, record by
    record, and the run ends as an uninterrupted one (``_stopped_midway`` compares them)."""
    import os
    import signal
    from pathlib import Path

    def kill_a_worker(pid: int) -> None:
        worker = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0]
        os.kill(int(worker), signal.SIGKILL)

    status, err = _stopped_midway(tmp_path, kill_a_worker)
    assert status == 0, err
    assert "Traceback" not in err


def test_kill_9_of_the_run_ends_its_workers_and_the_rerun_resumes(tmp_path):
    """Was: `kill -9` of `editseq lintseq --workers N` left its N worker processes behind for good,
    orphaned and idle (each holding its linter's memory), one set more for every killed run; they
    now die with the run."""
    import os
    import signal
    from pathlib import Path

    workers: list[int] = []

    def kill_9(pid: int) -> None:
        workers.extend(map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split()))
        os.kill(pid, signal.SIGKILL)

    try:
        status, _ = _stopped_midway(tmp_path, kill_9)
        assert status == -signal.SIGKILL
        assert len(workers) == 2
        assert all(ends(worker) for worker in workers)
    finally:
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)


def test_a_newer_revision_of_a_hub_dataset_is_not_resumed_on(tmp_path, hub_cache, monkeypatch, capsys):
    """Was: a hub INPUT counted by its name alone, so a resume after a newer revision reached the
    cache converted other records in silence; its cache files are now its identity (input_files),
    from the one load the run reads."""
    import datasets

    from tests.hub import hub_cached

    hub_cached(hub_cache, "editseq-test/programs", "rev1", [{"program": GOOD}])
    loads = []
    real = datasets.load_dataset
    monkeypatch.setattr(datasets, "load_dataset", lambda name, *a, **k: loads.append(name) or real(name, *a, **k))
    out, manifest = tmp_path / "o.jsonl", tmp_path / "o.manifest.json"
    assert main(["lintseq", "editseq-test/programs", str(out), "--no-progress"]) == 0
    assert loads == ["editseq-test/programs"] and len(output_records(out)) == 1
    assert json.loads(manifest.read_text())["settings"]["input_files"].startswith("sha256:")
    assert main(["lintseq", "editseq-test/programs", str(out), "--no-progress"]) == 0  # the same: resumed
    assert "1 from an earlier run" in capsys.readouterr().out
    hub_cached(hub_cache, "editseq-test/programs", "rev2", [{"program": GOOD.replace("1, 2", "3, 4")}])
    assert main(["lintseq", "editseq-test/programs", str(out), "--no-progress"]) == 2
    assert "input_files: content sha256" in capsys.readouterr().err


def _bytes_read(argv: list[str]) -> int:
    """What ``editseq`` ``argv`` read through read calls, from the process's I/O counters."""
    def rchar() -> int:
        with open("/proc/self/io", encoding="ascii") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("rchar:"))

    before = rchar()
    assert main(argv) == 0
    return rchar() - before


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="bytes read, from /proc")
def test_no_progress_does_not_read_the_input_to_count_it(tmp_path):
    """Was: the records of a JSONL INPUT were counted for the progress bar even with --no-progress,
    one more read of the whole file, however large, for a total nobody sees."""
    rows = [json.dumps({"program": "x = 1\n", "pad": "#" * 100_000}).encode() for _ in range(40)]
    write_lines(tmp_path / "in.jsonl", rows)
    size = (tmp_path / "in.jsonl").stat().st_size
    args = ["lintseq", str(tmp_path / "in.jsonl"), "--linter", "none", "--workers", "1"]
    _bytes_read([*args, str(tmp_path / "warm.jsonl"), "--no-progress"])  # the imports a first run reads
    shown = _bytes_read([*args, str(tmp_path / "shown.jsonl")])
    quiet = _bytes_read([*args, str(tmp_path / "quiet.jsonl"), "--no-progress"])
    assert shown - quiet > size // 2, (shown, quiet, size)  # one whole read (less a few bytes of other reads)


@pytest.mark.parametrize("workers", ["2", "1"])
def test_a_record_whose_worker_always_dies_fails_alone_and_the_run_goes_on(tmp_path, workers):
    """Was: a record that kills its worker every time (the OOM killer on a huge program, a
    segfault) stopped the run, and every rerun, at that record, so the run could never finish;
    with ``--workers 1``, which converted in the main process, it still did. The test is the OOM
    killer: it kills the process converting the poison record (the only one to spend seconds of
    CPU), in the pool and again when the record is retried alone."""
    import signal
    import subprocess
    import sys
    import threading
    import time
    from pathlib import Path

    poison = "".join(f"def f{i}(a):\n    if a:\n        return a + {i}\n    return 0\n" for i in range(1250))
    records = [{"id": f"r{i}", "program": f"x = {i}\nprint(x)\n"} for i in range(40)]
    write_lines(tmp_path / "clean.jsonl", [json.dumps(r).encode() for r in records])
    records.insert(20, {"id": "poison", "program": poison})
    write_lines(tmp_path / "in.jsonl", [json.dumps(r).encode() for r in records])
    args = ["--key-field", "id", "--samples", "400", "--timeout", "600", "--workers", workers, "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "editseq", "lintseq", str(tmp_path / "in.jsonl"),
                             str(tmp_path / "out.jsonl"), *args], env=env, start_new_session=True)
    killed: list[int] = []

    def oom_killer() -> None:
        while proc.poll() is None:
            with contextlib.suppress(OSError):
                for child in map(int, Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()):
                    stat = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
                    if cpu > 3 and child not in killed:  # once: a killed child lingers until reaped
                        os.kill(child, signal.SIGKILL)
                        killed.append(child)
            time.sleep(0.1)

    watcher = threading.Thread(target=oom_killer)
    watcher.start()
    try:
        assert proc.wait(timeout=300) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        watcher.join()
    assert len(killed) == 2  # in the pool, and retried alone
    errors = output_records(tmp_path / "out.errors.jsonl")
    assert [(e["index"], e["key"]) for e in errors] == [(20, "poison")]
    assert errors[0]["reason"] == "the worker converting this record died (signal 9: Killed, out of memory?)"
    assert main(["lintseq", str(tmp_path / "clean.jsonl"), str(tmp_path / "clean_out.jsonl"), *args]) == 0
    assert (tmp_path / "out.jsonl").read_bytes() == (tmp_path / "clean_out.jsonl").read_bytes()


@pytest.mark.parametrize("loss", ["deleted", "last record lost"])
def test_a_resume_whose_error_report_is_missing_or_cut_short_is_refused(tmp_path, capsys, loss):
    """Was: resuming placed the output's records by the error report alone, so one deleted, or cut
    short by a crash (it is synced apart from the output), shifted them onto earlier input records
    and the rerun converted the last ones again: 34 records out of 32. It is now refused, and the
    output left as it was."""
    programs = ["def f(:\n" if i % 4 == 1 else f"x = {i}\nprint(x)\n" for i in range(32)]
    write_lines(tmp_path / "in.jsonl", [json.dumps({"program": p}).encode() for p in programs])
    out, errors = tmp_path / "out.jsonl", tmp_path / "out.errors.jsonl"
    argv = ["lintseq", str(tmp_path / "in.jsonl"), str(out), "--workers", "1", "--no-progress"]
    assert main(argv) == 0
    written = out.read_bytes()
    if loss == "deleted":
        errors.unlink()
    else:
        errors.write_text("".join(errors.read_text().splitlines(keepends=True)[:-1]))
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{out} line" in err and "out.errors.jsonl" in err and "--overwrite" in err
    assert out.read_bytes() == written
    assert main([*argv, "--overwrite"]) == 0
    assert len(output_records(out)) == 24 and len(output_records(errors)) == 8


def test_a_resume_by_other_lintseq_code_is_refused(tmp_path, capsys):
    """Was: the manifest recorded the options, not the code that draws the sequences, so a resume
    after an upgrade of editseq (or of pylint, with --linter pylint) appended sequences drawn
    another way to the earlier ones, in silence. The code's hash is now a setting; a manifest from
    before it was recorded resumes as before."""
    from editseq.lintseq.run import sampler_version

    write_lines(tmp_path / "in.jsonl", [json.dumps({"program": GOOD}).encode()] * 2)
    out, manifest = tmp_path / "o.jsonl", tmp_path / "o.manifest.json"
    args = ["lintseq", str(tmp_path / "in.jsonl"), str(out), "--no-progress", "--workers", "1"]
    assert main(args) == 0
    recorded = json.loads(manifest.read_text())
    assert recorded["settings"]["sampler_version"] == sampler_version("fast")
    assert sampler_version("fast").startswith("lintseq ") and "pylint" not in sampler_version("fast")
    assert "pylint " in sampler_version("pylint") and "astroid " in sampler_version("pylint")

    recorded["settings"]["sampler_version"] = "lintseq 0000000000000000, python 3.11"
    manifest.write_text(json.dumps(recorded))
    capsys.readouterr()
    assert main(args) == 2
    assert 'sampler_version: "lintseq 0000000000000000, python 3.11" then' in capsys.readouterr().err
    assert len(output_records(out)) == 2  # refused, not overwritten

    del recorded["settings"]["sampler_version"]  # an older editseq's manifest
    manifest.write_text(json.dumps(recorded))
    assert main(args) == 0
    assert "2 from an earlier run" in capsys.readouterr().out
    assert json.loads(manifest.read_text())["settings"]["sampler_version"] == sampler_version("fast")
