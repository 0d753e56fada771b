"""Reading records: a mistyped file name is an error at once (never a Hugging Face hub lookup);
JSON arrays, Parquet rows and saved datasets are named where they fail."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from editseq.io.records import InputError, hub_reachable, read_records, read_valid_records


@pytest.mark.parametrize("name", ["runs/missing.jsonl", "missing.parquet", "./data", "/no/such/folder",
                                  "~/missing.json.gz"])
def test_a_missing_local_file_is_named_not_looked_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                     name: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")  # a hub lookup would fail differently, not hang
    with pytest.raises(InputError, match="no such file"):
        next(read_records(name))


@pytest.mark.parametrize("uri", ["s3://bucket/data.jsonl", "gs://bucket/data"])
def test_a_uri_without_ray_names_the_ray_backend(uri: str) -> None:
    """Was: "no such file (Hugging Face hub datasets are named like 'org/name')", or a hub lookup."""
    with pytest.raises(InputError, match="only `editseq lintseq --backend ray` reads"):
        next(read_records(uri))


def test_files_that_must_be_local_never_reach_the_hub(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        next(read_valid_records(tmp_path / "samples"))  # no extension: would look like a hub name
    with pytest.raises(InputError, match="a folder; pass the JSONL file"):
        next(read_valid_records(tmp_path))
    (tmp_path / "s.jsonl").write_text('{"a": 1}\n\n{"a": 2}\n')
    assert list(read_valid_records(tmp_path / "s.jsonl")) == [
        (f"{tmp_path / 's.jsonl'} line 1", {"a": 1}), (f"{tmp_path / 's.jsonl'} line 3", {"a": 2})]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once this socket closes


def test_hub_reachable_tries_one_connection_to_hf_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert hub_reachable()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    assert not hub_reachable()


def test_an_unreachable_hub_is_asked_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without a network, a hub name fails from the local cache alone (datasets' own retries took
    about 25 s), whether or not ``datasets`` was imported before."""
    import datasets
    import huggingface_hub.constants

    monkeypatch.chdir(tmp_path)
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)  # restored after the test
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(InputError, match=r"OfflineModeIsEnabled.*hub cannot be reached from here"):
        next(read_records("no-such-dataset"))
    assert datasets.config.HF_HUB_OFFLINE and os.environ["HF_HUB_OFFLINE"] == "1"
    env = {**os.environ}
    del env["HF_HUB_OFFLINE"]
    run = subprocess.run([sys.executable, "-m", "editseq", "lintseq", "no-such-dataset", "o.jsonl", "--no-progress"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 2 and "OfflineModeIsEnabled" in run.stderr, run.stderr


def test_an_existing_file_of_unknown_type_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(InputError, match=r"unknown file type '\.csv'"):
        next(read_records(tmp_path / "x.csv"))


def test_a_folder_that_is_no_dataset_is_an_input_error(tmp_path: Path) -> None:
    pytest.importorskip("datasets", reason="reading folders as datasets needs the 'hf' extra")
    (tmp_path / "a.json").write_text("not json\n")
    with pytest.raises(InputError, match="not a readable dataset"):
        next(read_records(tmp_path))


def test_a_folder_whose_files_are_no_one_table_names_them_and_why(tmp_path: Path) -> None:
    """Was: "not a readable dataset (DatasetGenerationError: An error occurred while generating
    the dataset)" for `editseq lintseq`'s output folder, whose manifest and summary are JSON
    files read with its records as one table."""
    pytest.importorskip("datasets", reason="reading folders as datasets needs the 'hf' extra")
    (tmp_path / "data.jsonl").write_text(json.dumps({"instruction": "a", "program": "x = 1\n"}) + "\n")
    (tmp_path / "data.summary.json").write_text(json.dumps({"settings": {"samples": 5, "seed": None}}) + "\n")
    with pytest.raises(InputError, match=r"not a readable dataset \(DatasetGenerationError: .*: \w+Error: .*\); "
                                         r"its 2 files \(data\.jsonl, data\.summary\.json\) are read as one "
                                         r"table.*pass the data file itself"):
        next(read_records(tmp_path))


def test_a_name_that_is_neither_here_nor_on_the_hub_says_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'runs/nope' reads as a hub name ('org/name'): the error must also say no such path exists."""
    pytest.importorskip("datasets", reason="reading hub datasets needs the 'hf' extra")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^runs/nope: no such file or folder here, nor a dataset on the hub \("):
        next(read_records("runs/nope"))


def test_parquet_records_are_named_by_row(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "s.parquet"
    pq.write_table(pa.Table.from_pylist([{"task_id": "a"}, {"task_id": "b"}]), path)
    assert [where for where, _ in read_valid_records(path)] == [f"{path} row 0", f"{path} row 1"]
    jsonl = tmp_path / "s.jsonl"
    jsonl.write_text('{"task_id": "a"}\n\n{"task_id": "b"}\n')
    assert [where for where, _ in read_valid_records(jsonl)] == [f"{jsonl} line 1", f"{jsonl} line 3"]


def test_a_line_cut_short_is_named_so(tmp_path: Path) -> None:
    """Was: "Invalid control character at at column 34" for a last line cut off mid-string (its own
    newline, inside the open string, was the control character), and "at at" for a tab in a string."""
    path = tmp_path / "s.jsonl"
    path.write_text('{"task_id": "a", "completion": "x"}\n{"task_id": "b", "completion": "    ret\n'
                    '{"task_id": "c", "completion": "\treturn 1"}\n')
    reasons = [rec.reason for _, _, rec in read_records(path) if not isinstance(rec, dict)]
    assert reasons == ["not valid JSON (Unterminated string starting at column 32)",
                       "not valid JSON (Invalid control character at column 33)"]


def test_a_json_array_file_is_read_item_by_item(tmp_path: Path) -> None:
    from editseq.io.records import count_records

    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"task_id": "a"}, {"task_id": "b"}]))
    assert [where for where, _ in read_valid_records(path)] == [f"{path} item 0", f"{path} item 1"]
    assert count_records(path) is None  # not one record per line
    path.write_text('[{"task_id": "a"},')
    with pytest.raises(InputError, match=r"a\.json: a JSON array file that does not parse"):
        list(read_valid_records(path))


def test_a_pretty_printed_json_file_is_named_as_such(tmp_path: Path) -> None:
    """Was: a ``_summary.json`` given as samples failed as "N bad records", one per line."""
    path = tmp_path / "x_summary.json"
    path.write_text(json.dumps({"pass@1": 0.5, "n_tasks": 2}, indent=2))
    with pytest.raises(InputError, match=r"x_summary\.json: one JSON object over several lines .*expected JSONL"):
        read_valid_records(path)
    from editseq.io.records import check_source

    with pytest.raises(InputError, match="one JSON object over several lines"):
        check_source(path)  # lintseq: before it writes any output file
    path.write_text(json.dumps({"task_id": "a"}) + "\n")  # a one-line record is JSONL
    assert len(read_valid_records(path)) == 1
    dumped = tmp_path / "records.jsonl"  # json.dump(records, fh, indent=2) into a .jsonl
    dumped.write_text(json.dumps([{"task_id": "a"}, {"task_id": "b"}], indent=2))
    with pytest.raises(InputError, match=r"records\.jsonl: one JSON array over several lines, not JSONL .*\.json"):
        read_valid_records(dumped)


def test_a_file_that_is_not_what_its_name_says_is_named(tmp_path: Path) -> None:
    """Was: pyarrow's ArrowInvalid traceback for a .parquet that is no Parquet, and a bare
    "error: Unknown compression method" (no file named) for a .gz that is no gzip."""
    from editseq.io.records import check_source

    fake = tmp_path / "x.parquet"
    fake.write_text("not parquet")
    with pytest.raises(InputError, match=r"x\.parquet: not a readable Parquet file \(.*magic bytes"):
        check_source(fake)
    with pytest.raises(InputError, match=r"x\.parquet: not a readable Parquet file"):
        read_valid_records(fake)
    gz = tmp_path / "s.jsonl.gz"
    gz.write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(InputError, match=r"s\.jsonl\.gz: not a readable gzip file \(.*compression method"):
        read_valid_records(gz)


def test_parquet_or_gzip_named_as_jsonl_is_named(tmp_path: Path) -> None:
    """Was: every line of such a file a bad record ("not UTF-8", "not valid JSON"), in `evaluate` ten
    of them and a count, in `lintseq` an error report of them, and nothing said what the file was."""
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet, gz = tmp_path / "s.jsonl", tmp_path / "t.jsonl"
    pq.write_table(pa.Table.from_pylist([{"task_id": "a"}]), parquet)
    gz.write_bytes(gzip.compress(b'{"task_id": "a"}\n'))
    with pytest.raises(InputError, match=r"s\.jsonl: a Parquet file .*, not JSON text; name it s\.parquet$"):
        read_valid_records(parquet)
    with pytest.raises(InputError, match=r"t\.jsonl: gzip-compressed, not JSON text; name it t\.jsonl\.gz$"):
        read_valid_records(gz)
    gz.rename(tmp_path / "t.jsonl.gz")
    assert len(read_valid_records(tmp_path / "t.jsonl.gz")) == 1


def test_a_split_given_for_a_local_file_is_warned_about(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"x": 1}\n')
    with pytest.warns(UserWarning, match=r"--split test is for Hugging Face datasets; .*a.jsonl is a file, read whole"):
        assert [r for _, _, r in read_records(tmp_path / "a.jsonl", split="test")] == [{"x": 1}]


def test_a_split_given_for_a_saved_dataset_without_splits_is_warned_about(tmp_path: Path) -> None:
    """Was: read whole in silence, where a local file read whole is warned about."""
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list([{"x": 1}]).save_to_disk(str(tmp_path / "ds"))
    with pytest.warns(UserWarning, match=r"--split test is for datasets saved with splits; .*ds has none, read whole"):
        assert [r for _, _, r in read_records(tmp_path / "ds", split="test")] == [{"x": 1}]


def test_recorded_values_are_hints_never_failures(tmp_path: Path) -> None:
    from editseq.io.records import recorded

    path = tmp_path / "m.json"
    assert recorded(path, "settings") is None  # no file
    path.write_text("{not json")
    assert recorded(path, "settings") is None
    path.write_text(json.dumps({"settings": {"data": "sha256:ab"}, "list": [1]}))
    assert recorded(path, "settings", "data") == "sha256:ab"
    assert recorded(path, "settings", "missing") is None
    assert recorded(path, "list", "x") is None  # a level that is no object
