"""Writing outputs: every string, lone surrogates included, is written as UTF-8 JSON that reads
back; an output is resumed only under the settings that started it."""

from __future__ import annotations

import errno
import json
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import editseq
from editseq.io.outputs import JsonlAppender, dumps, write_json
from editseq.io.records import InputError, read_valid_records


@given(st.text(alphabet=st.characters(blacklist_categories=())))  # lone surrogates included
def test_dumps_writes_any_string_as_utf8_json_that_reads_back(text: str) -> None:
    line = dumps({"program": text, "task_id": "t"})
    line.encode("utf-8")  # what the writers do with it: never fails
    assert json.loads(line) == {"program": text, "task_id": "t"}


def test_a_lone_surrogate_keeps_its_escape(tmp_path: Path) -> None:
    (tmp_path / "s.jsonl").write_text('{"task_id": "a", "completion": "x\\ud800y"}\n', encoding="utf-8")
    [(_, record)] = read_valid_records(tmp_path / "s.jsonl")
    assert record["completion"] == "x\ud800y"
    assert dumps(record) == '{"task_id": "a", "completion": "x\\ud800y"}'


def test_claim_output_resumes_only_under_the_same_settings(tmp_path: Path) -> None:
    from editseq.config import ConfigError
    from editseq.io.outputs import claim_output

    out, manifest = tmp_path / "o.jsonl", tmp_path / "o.settings.json"
    claim_output(out, manifest, {"n": 1}, overwrite=False)
    claim_output(out, manifest, {"n": 2}, overwrite=False)  # nothing written yet: a failed start is redone
    out.write_text('{"a": 1}\n')
    claim_output(out, manifest, {"n": 2}, overwrite=False)  # same settings: resume
    with pytest.raises(ConfigError, match=r"other settings \(n: 2 then, 3 now; see .*use --overwrite or another --out, or rerun"):
        claim_output(out, manifest, {"n": 3}, overwrite=False)
    claim_output(out, manifest, {"n": 3}, overwrite=True)
    recorded = json.loads(manifest.read_text())
    assert not out.exists() and recorded["settings"] == {"n": 3} and recorded["versions"]["editseq"] == editseq.__version__
    out.write_text('{"a": 1}\n')
    manifest.unlink()
    with pytest.raises(ConfigError, match=r"exists without o\.settings\.json"):
        claim_output(out, manifest, {"n": 3}, overwrite=False)


def test_long_settings_in_a_refusal_show_both_ends(tmp_path: Path) -> None:
    """Was: cut after 57 characters, two long paths that differ in their last folder read the same."""
    from editseq.config import ConfigError
    from editseq.io.outputs import claim_output

    out, manifest = tmp_path / "o.jsonl", tmp_path / "o.settings.json"
    deep = "/data/" + "project/" * 8
    claim_output(out, manifest, {"data": deep + "corpus-v1"}, overwrite=False)
    out.write_text('{"a": 1}\n')
    with pytest.raises(ConfigError) as err:
        claim_output(out, manifest, {"data": deep + "corpus-v2"}, overwrite=False)
    assert 'corpus-v1" then' in str(err.value) and 'corpus-v2" now' in str(err.value)
    assert '"/data/project/' in str(err.value)


def test_an_unreadable_manifest_is_named(tmp_path: Path) -> None:
    """Was: a JSONDecodeError (or AttributeError) traceback."""
    from editseq.config import ConfigError
    from editseq.io.outputs import claim_output

    out, manifest = tmp_path / "run", tmp_path / "run" / "settings.json"
    out.mkdir()
    (out / "checkpoint-1").mkdir()
    for text in ("garbage{", "[1]", '{"versions": {}}'):
        manifest.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=r"settings\.json does not parse as the settings .*run was started with, "
                                              r"so whether it may resume under these cannot be told; restore it, "
                                              r"or use another --output-dir"):
            claim_output(out, manifest, {"n": 1}, overwrite=False, flag="--output-dir", can_overwrite=False)


def test_claim_output_counts_and_clears_companion_files(tmp_path: Path) -> None:
    from editseq.config import ConfigError
    from editseq.io.outputs import claim_output

    out, errors, manifest = tmp_path / "o.jsonl", tmp_path / "o.errors.jsonl", tmp_path / "o.json"
    claim_output(out, manifest, {"n": 1}, overwrite=False, companions=[errors])
    errors.write_text('{"index": 0}\n')  # only errors so far: still a run with settings
    with pytest.raises(ConfigError, match=r"other settings \(n: 1 then, 2 now"):
        claim_output(out, manifest, {"n": 2}, overwrite=False, companions=[errors])
    manifest.unlink()
    with pytest.raises(ConfigError, match=r"o\.errors\.jsonl exists without o\.json; use --overwrite or another OUT"):
        claim_output(out, manifest, {"n": 2}, overwrite=False, flag="OUT", companions=[errors])
    claim_output(out, manifest, {"n": 2}, overwrite=True, companions=[errors])
    assert not errors.exists()


def test_a_manifest_from_before_an_option_existed_resumes_at_its_default(tmp_path: Path) -> None:
    from dataclasses import dataclass

    from editseq.config import ConfigError
    from editseq.io.outputs import claim_output

    @dataclass
    class Opts:
        n: int = 1
        backend: str = "auto"

    out, manifest = tmp_path / "o.jsonl", tmp_path / "o.settings.json"
    manifest.write_text(json.dumps({"settings": {"n": 1}}))  # written before "backend" was an option
    out.write_text('{"a": 1}\n')
    claim_output(out, manifest, {"n": 1, "backend": "auto"}, overwrite=False, options=Opts())
    manifest.write_text(json.dumps({"settings": {"n": 1}}))
    with pytest.raises(ConfigError, match=r"other settings \(backend: \"auto\" then, \"vllm\" now"):
        claim_output(out, manifest, {"n": 1, "backend": "vllm"}, overwrite=False, options=Opts(backend="vllm"))
    # a setting that is no option: its older value is the caller's to give
    manifest.write_text(json.dumps({"settings": {"n": 1}}))
    claim_output(out, manifest, {"n": 1, "data_parallel": 1}, overwrite=False, options=Opts(),
                 assumed={"data_parallel": 1})
    manifest.write_text(json.dumps({"settings": {"n": 1}}))
    with pytest.raises(ConfigError, match=r"other settings \(data_parallel: 1 then, 2 now"):
        claim_output(out, manifest, {"n": 1, "data_parallel": 2}, overwrite=False, options=Opts(),
                     assumed={"data_parallel": 1})


def test_an_input_moved_with_its_content_recorded_the_same_resumes(tmp_path: Path) -> None:
    from editseq.config import ConfigError
    from editseq.io.outputs import claim_output

    out, manifest = tmp_path / "o.jsonl", tmp_path / "o.settings.json"
    manifest.write_text(json.dumps({"settings": {"data": "/a", "data_files": "sha256:1"}}))
    out.write_text('{"a": 1}\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only checked: nothing said, nothing recorded
        claim_output(out, manifest, {"data": "/b", "data_files": "sha256:1"}, False, write=False,
                     located={"data": "data_files"})
    with pytest.warns(UserWarning, match=r"^data /a moved to /b, its content the same \(data_files\): "):
        claim_output(out, manifest, {"data": "/b", "data_files": "sha256:1"}, False, located={"data": "data_files"})
    assert json.loads(manifest.read_text())["settings"]["data"] == "/b"
    for settings, named in (({"data": "/c", "data_files": "sha256:2"}, r"data: \"/b\" then, \"/c\" now; data_files"),
                            ({"data": "/c"}, r"data: \"/b\" then, \"/c\" now; see")):
        with pytest.raises(ConfigError, match=named):
            claim_output(out, manifest, settings, False, located={"data": "data_files"})
    with pytest.raises(ConfigError, match=r"data: \"/b\" then, \"/c\" now; see"):  # a path, unless located
        claim_output(out, manifest, {"data": "/c", "data_files": "sha256:1"}, False)


def test_resumed_records_must_hold_their_key_fields(tmp_path: Path) -> None:
    """An edited or foreign output being resumed is named by line, not a KeyError later."""
    from editseq.io.outputs import read_jsonl_records

    path = tmp_path / "s.jsonl"
    path.write_text('{"task_id": "T/0", "sample": 0}\n\n{"sample": 1}\n[1, 2]\n')
    records = read_jsonl_records(path, required=("task_id", "sample"))
    assert next(records) == {"task_id": "T/0", "sample": 0}
    with pytest.raises(InputError, match=r"s.jsonl line 3: no 'task_id' field .*--overwrite"):
        next(records)
    path.write_text("[1, 2]\n")
    with pytest.raises(InputError, match=r"line 1: no 'task_id', 'sample' field"):
        list(read_jsonl_records(path, required=("task_id", "sample")))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a device every write to fails as a full disk")
def test_a_full_disk_names_the_file_it_stopped(tmp_path: Path) -> None:
    """Was: "error: [Errno 28] No space left on device", naming no file, so which disk (the
    output's, its cache's) to free was left to guess."""
    out = tmp_path / "x.jsonl"
    out.symlink_to("/dev/full")
    with pytest.raises(OSError) as appending, JsonlAppender(out) as writer:
        writer.write({"task_id": "a"})
    (tmp_path / "s.json.part").symlink_to("/dev/full")  # where write_atomic writes first
    with pytest.raises(OSError) as replacing:
        write_json(tmp_path / "s.json", {"pass@1": 0.5})
    for raised, path in ((appending, out), (replacing, tmp_path / "s.json")):
        assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(path)
