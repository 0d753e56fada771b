"""One record -> edit sequences or its reason (editseq.lintseq.convert): markers, limits, timeouts."""

import json

from editseq.cli import main
from editseq.lintseq.diffs import apply_edit_path, render_training_text, resolve, split_lines
from editseq.lintseq.run import LintseqConfig
from tests.lintseq.records import GOOD, output_records, write_lines


def test_the_edit_separator_in_a_record_is_refused(tmp_path):
    """A program or instruction holding <|diff|> would split the training text at the wrong place."""
    path = tmp_path / "in.jsonl"
    rows = [{"instruction": "ok", "program": GOOD}, {"instruction": "ok", "program": "s = '<|diff|>'\n"},
            {"instruction": "split at <|diff|>", "program": GOOD}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    assert main(["lintseq", str(path), str(out), "--instruction-field", "instruction", "--no-progress", "--workers", "1"]) == 0
    assert len(output_records(out)) == 1
    reasons = {e["index"]: e["reason"] for e in output_records(tmp_path / "out.errors.jsonl")}
    assert reasons[1].startswith("field 'program' contains <|diff|>, the separator of edits")
    assert reasons[2].startswith("field 'instruction' contains <|diff|>")


def test_end_of_sequence_text_in_a_record_is_refused_and_what_converts_resolves_to_its_program(tmp_path):
    """Was: a program holding "</s>" (an HTML tag) converted, but its training text, resolved,
    stopped at that end-of-sequence text: the program came back cut after 's = "<s>a'."""
    path = tmp_path / "in.jsonl"
    rows = [{"instruction": "ok", "program": GOOD}, {"instruction": "ok", "program": 's = "<s>a</s>"\nprint(s)\n'},
            {"instruction": "ok", "program": "END = '<|endoftext|>'\n"},
            {"instruction": "stop <|im_end|> here", "program": GOOD}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    assert main(["lintseq", str(path), str(out), "--instruction-field", "instruction", "--no-progress", "--workers", "1"]) == 0
    for record in output_records(out):
        resolved = resolve(render_training_text(record["instruction"], record["edit_path"]))
        assert resolved.program == "\n".join(split_lines(rows[0]["program"]))
    reasons = {e["index"]: e["reason"] for e in output_records(tmp_path / "out.errors.jsonl")}
    assert reasons == {
        1: "field 'program' contains </s>, an end-of-sequence text, where resolving the training text (or a "
           "model's output) stops: its program would be cut there",
        2: "field 'program' contains <|endoftext|>, an end-of-sequence text, where resolving the training text "
           "(or a model's output) stops: its program would be cut there",
        3: "field 'instruction' contains <|im_end|>, an end-of-sequence text, where resolving the training text "
           "(or a model's output) stops: its program would be cut there"}


def test_max_lines_counts_lines_not_newlines(tmp_path):
    program = "".join(f"x{i} = {i}\n" for i in range(20))  # 20 lines, newline-terminated
    write_lines(tmp_path / "in.jsonl", [json.dumps({"program": program}).encode()])
    args = ["--no-progress", "--workers", "1", "--linter", "none"]
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "ok.jsonl"), "--max-lines", "20", *args]) == 0
    assert len(output_records(tmp_path / "ok.jsonl")) == 1 and not (tmp_path / "ok.errors.jsonl").exists()
    # nothing converted: the run says so in its exit status
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "no.jsonl"), "--max-lines", "19", *args]) == 1
    assert "20 lines, the limit is 19" in output_records(tmp_path / "no.errors.jsonl")[0]["reason"]


def test_a_timeout_inside_pylint_is_the_records_error_not_the_runs(tmp_path, capfd):
    """The alarm's exception passes through pylint's handlers (which would print a traceback for
    an ``Exception``), and one swallowed in a gc callback (hypothesis, imported by other tests here,
    runs one) is not reported as unraisable: this record's timeout, one line in the error report,
    nothing on the console."""
    big = "".join(f"def f{i}(a):\n    if a:\n        return a + {i}\n    return 0\n" for i in range(1000))
    # quadratic in pylint's checkers (each definition is checked against every earlier one)
    redefined = "".join(f"def f(a):\n    return a + {i}\n" for i in range(1500))
    rows = [json.dumps({"program": p}).encode() for p in ("x = 1\n", big, redefined)]
    write_lines(tmp_path / "in.jsonl", rows)
    args = ["--no-progress", "--workers", "1", "--linter", "pylint", "--timeout", "1"]
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.jsonl"), *args]) == 0
    errors = output_records(tmp_path / "o.errors.jsonl")
    assert [e["index"] for e in errors] == [1, 2]
    assert all("time limit of 1 s exceeded" in e["reason"] for e in errors)
    assert "Traceback" not in capfd.readouterr().err
    summary = json.loads((tmp_path / "o.summary.json").read_text())
    assert summary["converted"] + summary["failed"] == summary["input"] == 3


def test_a_linter_interrupted_by_a_timeout_is_repaired_before_the_next_record() -> None:
    """Was: the next record paid for it: pylint cleared and rebuilt astroid's caches on its clock
    (at --timeout 0.4 on 60 stdlib modules, 50 records timed out instead of 22)."""
    from editseq.lintseq import convert

    cfg = LintseqConfig(input="in.jsonl", output="o.jsonl", linter="pylint", timeout=0.3)
    convert._worker_init("pylint")
    try:
        redefined = "".join(f"def f(a):\n    return a + {i}\n" for i in range(1500))
        assert "time limit of 0.3 s exceeded" in convert.convert_record({"program": redefined}, "k", cfg)
        assert convert._LINTER._interrupted is False  # repaired already, outside the record's time
        assert isinstance(convert.convert_record({"program": "x = 1\n"}, "k", cfg), list)
    finally:
        convert._worker_init("fast")  # this process's default again, for the tests after this one


def test_a_fence_inside_valid_code_is_kept(tmp_path):
    """Only text that is not Python is unwrapped: a docstring's markdown example stays in its program."""
    program = 'def run():\n    """Use it so:\n\n```python\nrun()\n```\n"""\n    return 1\n'
    write_lines(tmp_path / "in.jsonl", [json.dumps({"program": program}).encode()])
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.jsonl"), "--no-progress", "--workers", "1"]) == 0
    [record] = output_records(tmp_path / "o.jsonl")
    assert "\n".join(apply_edit_path(record["edit_path"])) == program.rstrip("\n")


def test_a_timeout_swallowed_in_a_finalizer_is_not_reported_but_other_unraisables_are(tmp_path, monkeypatch):
    """Deterministic: a finalizer raises the record's _Timeout (as an alarm landing in it would) and
    another raises a ValueError; only the latter reaches the hook that was installed before."""
    import gc
    import sys

    from editseq.lintseq import convert

    class Dies:
        def __init__(self, exc):
            self.exc = exc

        def __del__(self):
            raise self.exc

    class Sampler:
        def __init__(self, *args):
            Dies(convert._Timeout())
            Dies(ValueError("a real one"))
            gc.collect()
            raise convert.SamplingError("sampled nothing")

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(type(u.exc_value).__name__))
    monkeypatch.setattr(convert, "EditSampler", Sampler)
    cfg = LintseqConfig(input=str(tmp_path / "in.jsonl"), output=str(tmp_path / "o.jsonl"))
    assert convert.convert_record({"program": "x = 1\n"}, "0", cfg) == "sampled nothing"
    assert seen == ["ValueError"]


def test_an_alarm_landing_where_the_timer_is_stopped_leaves_no_timer_running():
    """The record's time limit is a repeating timer; an alarm raised just before the line that
    stops it skipped that line, so the timer ran on after the record, under the handler it had
    before (in a worker, the default one, which kills the process on the next alarm)."""
    import signal
    import sys
    from pathlib import Path

    from editseq.lintseq import convert

    cfg = LintseqConfig(input="in.jsonl", output="out.jsonl", timeout=30.0)
    source = Path(convert.__file__).read_text(encoding="utf-8").split("\n")
    stop_line = next(i for i, line in enumerate(source, 1) if "signal.setitimer(signal.ITIMER_REAL, 0)" in line)

    def alarm_at_the_stop(frame, event, arg):
        if frame.f_code is convert.convert_record.__code__:
            if event == "line" and frame.f_lineno == stop_line:
                sys.settrace(None)
                frame.f_trace = None
                raise convert._Timeout
            return alarm_at_the_stop
        return None

    sys.settrace(alarm_at_the_stop)
    try:
        result = convert.convert_record({"program": "x = 1\n"}, "0", cfg)
        running = signal.getitimer(signal.ITIMER_REAL)
    finally:
        sys.settrace(None)
        signal.setitimer(signal.ITIMER_REAL, 0)
    assert result == "time limit of 30 s exceeded (--timeout)"
    assert running == (0.0, 0.0)


def test_a_program_starting_with_a_byte_order_mark_is_refused_naming_it(tmp_path):
    """Was: "syntax error: invalid non-printable character U+FEFF (line 1)", which leaves the
    reader to find an invisible character that an editor shows as nothing."""
    write_lines(tmp_path / "in.jsonl", [json.dumps({"program": "\ufeff" + GOOD}).encode()])
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.jsonl"), "--no-progress", "--workers", "1"]) == 1
    assert output_records(tmp_path / "o.errors.jsonl")[0]["reason"] == (
        "the program starts with a byte-order mark (U+FEFF), which Python skips in a file's bytes but "
        "refuses in program text: strip it from the program")


def test_a_field_json_cannot_hold_is_refused_naming_it(tmp_path):
    """Parquet and hub datasets hold values JSON has no type for (timestamps, dates, decimals,
    bytes). Was: the first such record stopped the whole run with a TypeError traceback from the
    JSONL writer (and every rerun again); such a record now goes to the error report, naming the
    field, and the others convert."""
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({
        "program": [GOOD] * 4,
        "created": pa.array([datetime.datetime(2024, 1, 1), None, None, None], pa.timestamp("us")),
        "price": pa.array([None, decimal.Decimal("1.50"), None, None], pa.decimal128(5, 2)),
        "blob": pa.array([None, None, b"\x00\xff", None], pa.binary()),
    }), tmp_path / "in.parquet")
    for out in ("o.jsonl", "p.parquet"):
        assert main(["lintseq", str(tmp_path / "in.parquet"), str(tmp_path / out), "--no-progress", "--workers", "1"]) == 0
        errors = output_records((tmp_path / out).with_suffix(".errors.jsonl"))
        assert [(e["index"], e["reason"].split(" (")[0]) for e in errors] == [
            (0, "field 'created' cannot be written to the JSONL output"),
            (1, "field 'price' cannot be written to the JSONL output"),
            (2, "field 'blob' cannot be written to the JSONL output")]
        assert "datetime" in errors[0]["reason"] and "Decimal" in errors[1]["reason"] and "bytes" in errors[2]["reason"]
    assert [r["blob"] for r in output_records(tmp_path / "o.jsonl")] == [None]
