"""The MTPB data file loads as the reference reads it; --fixed repairs are explicit."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from editseq.io.records import InputError
from editseq.mtpb import data


def test_all_problems_load(shared_data: Path) -> None:
    bench = data.load(shared_data)
    assert len(bench.problems) == 115
    assert list(bench.problems) == [str(i) for i in range(1, 116)]
    for p in bench.problems.values():
        assert 3 <= len(p.prompts) <= 9, p.id
        assert len(p.cases) == 5, p.id
        assert p.max_gen_length in (128, 256, 512)
        used = {key for t in p.prompts for key in inputs_named(t)}
        assert used, p.id  # every problem puts its inputs into some turn
        for c in range(5):
            filled = "".join(p.turn_prompts(c))
            assert not any(f"{{{key}}}" in filled for key in used), (p.id, c)
            assert all(str(p.cases[c].inputs[key]) in filled for key in used), (p.id, c)
    assert sum(p.max_gen_length == 256 for p in bench.problems.values()) == 19 + 7  # 7 have none


def inputs_named(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_problem_57_zip_drops_the_sixth_output(shared_data: Path) -> None:
    raw = json.loads((shared_data / data.RELATIVE).read_text().splitlines()[56])
    assert raw["id"] == "57" and len(raw["outputs"]) == 6 and len(raw["inputs"]) == 5
    ref = data.load(shared_data).problems["57"]
    assert [c.output for c in ref.cases] == [1, 5, 1, 2, 10010]
    assert "B" in ref.cases[4].inputs
    fixed = data.load(shared_data, fixed=True)
    assert [c.output for c in fixed.problems["57"].cases] == [1, 5, 1, 2, 10010]
    assert "B" not in fixed.problems["57"].cases[4].inputs


def test_fixed_mode_excludes_problems_without_data(shared_data: Path) -> None:
    fixed = data.load(shared_data, fixed=True)
    assert set(fixed.excluded) == {"38", "46"}
    assert len(fixed.problems) == 113


def test_prompt_filling_uses_str_format(shared_data: Path) -> None:
    p = data.load(shared_data).problems["1"]
    assert p.turn_prompts(0)[0] == 'Assign the string "abcde" to a variable named "my_string".'
    p46 = data.load(shared_data).problems["46"]  # doubled braces stay literal braces
    assert p46.turn_prompts(0)[-1].endswith('Use the format "{:.1f} {:.1f}".')


def test_missing_or_bad_data(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="MTPB data not found"):
        data.load(tmp_path)
    bad = tmp_path / "mtpb.jsonl"
    bad.write_text('{"id": "1"}\n')
    with pytest.raises(InputError, match="line 1: not an MTPB problem"):
        data.load(bad)


@pytest.mark.parametrize(("content", "message"), [
    (b"\xff\xfe\n", "not UTF-8"),
    (b'{"id": "1", \n', "line 1: not valid JSON"),
    (b"\n\n", "no problems"),
])
def test_a_damaged_data_file_is_named(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "mtpb").mkdir()
    (tmp_path / "mtpb" / "mtpb.jsonl").write_bytes(content)
    with pytest.raises(InputError, match=r"SOURCE\.md") as err:
        data.load(tmp_path)
    assert message in str(err.value) and "mtpb.jsonl" in str(err.value)



@pytest.mark.parametrize(("prompt", "good", "bad", "why"), [
    ("Assign {X} to x.", {"X": 1}, {"A": 1}, "KeyError: 'X'"),
    ("Assign {A:d} to x.", {"A": 1}, {"A": "a"}, "ValueError: Unknown format code 'd'"),
    ("Assign {A[1]} to x.", {"A": [1, 2]}, {"A": [1]}, "IndexError"),
    ("Assign {A} to x.", {"A": 1}, 5, "TypeError"),
])
def test_prompts_their_inputs_cannot_fill_are_named_when_loading(tmp_path: Path, prompt: str, good: dict,
                                                                 bad: object, why: str) -> None:
    """Was: a --data file whose turn prompt names an input its case lacks (or another template the
    inputs cannot fill) loaded, and `mtpb sample` (after loading its model) and `mtpb evaluate`
    then stopped with a traceback from str.format; the load now names the file, line, problem and case."""
    row = {"id": "1", "name": "n", "category": "c", "prompts": ["Start.", prompt],
           "inputs": [good, bad], "outputs": [1, 1]}
    path = tmp_path / "mtpb.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError, match=rf"{re.escape(str(path))} line 1: problem 1, case 1: its turn prompts "
                                         rf"cannot be filled with its inputs \({re.escape(why)}"):
        data.load(path)

def test_without_local_data_the_canonical_release_is_fetched_once(tmp_path: Path, shared_data: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Served here over loopback HTTP (no internet in the tests) in place of the pinned GitHub URL."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(shared_data / "mtpb"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/mtpb.jsonl"
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("EDITSEQ_DATA_DIR", str(tmp_path / "empty"))  # a data folder without MTPB
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "URL", url)
    try:
        fetched = data.load()
    finally:
        server.shutdown()
        server.server_close()
    assert fetched.source == tmp_path / "home" / ".cache" / "editseq" / data.RELATIVE
    assert fetched.sha256 == data.load(shared_data).sha256 and len(fetched.problems) == 115
    assert data.load().source == fetched.source  # the server is gone: the cached copy serves
    monkeypatch.setenv("HOME", str(tmp_path / "other-home"))
    with pytest.raises(InputError, match=re.escape(f"no local copy of mtpb/mtpb.jsonl (none in {tmp_path / 'empty'}) "
                                                   f"and download of {url} failed")):
        data.load()


def test_problems_take_ranges(shared_data: Path) -> None:
    """Was: --problems 1-3 was refused as the unknown id '1-3'."""
    from editseq.config import ConfigError

    assert data.problem_ids("1-3, 41,2 ,5 - 6") == ["1", "2", "3", "41", "5", "6"]
    with pytest.raises(ConfigError, match="range '3-1' is empty"):  # no ids would mean all 115
        data.problem_ids("3-1")
    bench = data.load(shared_data)
    data.check_ids(bench, data.problem_ids("113-115"))
    with pytest.raises(ConfigError, match=r"unknown ids \['116'\]; MTPB ids are 1 to 115, given as a comma"):
        data.check_ids(bench, data.problem_ids("114-116"))
