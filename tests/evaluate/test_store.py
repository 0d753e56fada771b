"""The result store: verdicts persist across runs, and any change in what decides a verdict
(benchmark, version, data file, task, program, limits) is another key."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from editseq.evaluate import store as store_module
from editseq.evaluate.store import ResultStore, result_key
from editseq.io.records import InputError
from editseq.sandbox import Limits, Verdict
from editseq.sandbox.verdict import NOT_STARTED, WORKER_DIED


@dataclass
class Bench:
    """What ``result_key`` reads of a benchmark."""

    name: str = "humaneval"
    version: str = "v1"
    fingerprint: str = "a" * 64


PARTS = st.fixed_dictionaries({
    "name": st.sampled_from(["humaneval", "humaneval+"]), "version": st.sampled_from(["v1", "v2"]),
    "fingerprint": st.sampled_from(["a" * 64, "b" * 64]), "task": st.sampled_from(["t/0", "t/1"]),
    # lone surrogates (undecodable model output) neither collide nor fail
    "program": st.sampled_from(["x = 1", "x = 1 ", "x = 2", "x = '\ud800'", "x = '\udc00'", "x = '?'"]),
    "timeout": st.sampled_from([1.0, 3.0]),
    "memory_mb": st.sampled_from([512, 2048]), "site_packages": st.booleans()})


def _key(p: dict) -> str:
    bench = Bench(p["name"], p["version"], p["fingerprint"])
    limits = Limits(timeout=p["timeout"], memory_mb=p["memory_mb"], site_packages=p["site_packages"])
    return result_key(bench, p["task"], p["program"], limits)


@given(PARTS, PARTS)
def test_keys_are_equal_exactly_when_every_part_is(a: dict, b: dict) -> None:
    assert (_key(a) == _key(b)) == (a == b)


@given(st.lists(st.text(), max_size=4))
def test_a_program_in_parts_has_the_key_of_the_joined_text(parts: list[str]) -> None:
    """``evaluate`` keys samples by (code, test) without joining them; the calibration and
    earlier stores key the joined program: both must meet."""
    assert result_key(Bench(), "t", tuple(parts), Limits()) == result_key(Bench(), "t", "".join(parts), Limits())


def test_parts_of_the_key_do_not_run_together() -> None:
    """humaneval's "+v1" and humaneval+'s "v1" are different runs, though their texts join alike."""
    assert _key_of(Bench("humaneval", "+v1")) != _key_of(Bench("humaneval+", "v1"))


def _key_of(bench: Bench) -> str:
    return result_key(bench, "t", "x = 1", Limits())


def test_the_output_cap_is_not_part_of_the_key() -> None:
    """How much output is kept changes no verdict, so it reruns nothing."""
    a = result_key(Bench(), "t", "x = 1", Limits(output_bytes=1000))
    assert a == result_key(Bench(), "t", "x = 1", Limits(output_bytes=2000))


def test_verdicts_persist_and_memory_stores_do_not(tmp_path: Path) -> None:
    verdict = Verdict("failed", "AssertionError: x", 0.01, 0.005, 9000, "")
    store = ResultStore(tmp_path / "c.sqlite")
    store.put("k1", "humaneval", "t", verdict)
    store.close()
    again = ResultStore(tmp_path / "c.sqlite")
    assert again.get(["k1", "k2"]) == {"k1": verdict}  # every field back in its place
    again.close()
    memory = ResultStore(None)
    memory.put("k1", "humaneval", "t", verdict)
    assert set(memory.get(["k1"])) == {"k1"}
    memory.close()
    assert ResultStore(None).get(["k1"]) == {}


def test_the_sandbox_itself_is_part_of_the_key(monkeypatch) -> None:
    """A verdict from another sandbox (its code, Python, namespaces allowed or not) is not reused."""
    import sys

    from editseq.evaluate import store
    from editseq.sandbox import version

    monkeypatch.delenv("EDITSEQ_SANDBOX_NAMESPACES", raising=False)
    assert f"python {sys.version.split()[0]}" in version() and version().endswith("namespaces 1")
    monkeypatch.setenv("EDITSEQ_SANDBOX_NAMESPACES", "0")
    assert version().endswith("namespaces 0")
    before = result_key(Bench(), "t", "assert 1", Limits())
    monkeypatch.setattr(store, "_sandbox_version", lambda: "sandbox other")
    assert result_key(Bench(), "t", "assert 1", Limits()) != before


def test_lookup_runs_each_missing_program_once() -> None:
    store = ResultStore(None)
    done = Verdict("passed", duration=0.1)
    store.put("a", "humaneval", "t", done)
    known, todo = store.lookup(["b", "a", "c", "b", "a"])
    assert known == {"a": done} and todo == {"b": 0, "c": 2}  # a stored, b's first index, c
    # many keys at once: SQLite takes them in chunks, and none is lost between chunks
    keys = [f"k{i}" for i in range(1201)]
    for key in keys:
        store.put(key, "humaneval", "t", done)
    assert set(store.get(keys)) == set(keys)
    store.close()


def test_failures_of_the_sandbox_are_not_kept() -> None:
    """The next run tries those programs again; a program's own crash is kept."""
    store = ResultStore(None)
    for i, reason in enumerate((f"{NOT_STARTED}: out of processes", f"{WORKER_DIED} (signal 9)")):
        store.put(f"lost{i}", "humaneval", "t", Verdict("crashed", reason))
    store.put("own", "humaneval", "t", Verdict("crashed", "signal 11"))
    assert set(store.get(["lost0", "lost1", "own"])) == {"own"}
    store.close()


def test_a_killed_run_keeps_what_it_committed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes reach the file every COMMIT_SECONDS, before any close (a run killed mid-way)."""
    monkeypatch.setattr(store_module, "COMMIT_SECONDS", 0.0)
    store = ResultStore(tmp_path / "c.sqlite")
    store.put("k", "humaneval", "t", Verdict("passed"))
    store.put_recording("r", "t", "[1, 2]")
    other = ResultStore(tmp_path / "c.sqlite")  # another process reading the file now
    assert set(other.get(["k"])) == {"k"} and other.get_recordings(["r", "s"]) == {"r": "[1, 2]"}
    other.close()
    store.close()


def test_two_runs_share_a_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One samples file evaluated twice at once: a run between two of its writes holds no lock
    that makes the other's store fail ("database is locked", once called an unusable file)."""
    monkeypatch.setattr(store_module, "COMMIT_SECONDS", 3600.0)
    first = ResultStore(tmp_path / "c.sqlite")
    first.put("a", "humaneval", "t", Verdict("passed"))
    first.put_recording("r", "t", "[1]")
    second = ResultStore(tmp_path / "c.sqlite")
    second.put("b", "humaneval", "t", Verdict("failed", "AssertionError"))
    second.close()
    assert set(first.get(["a", "b"])) == {"a", "b"} and first.get_recordings(["r"]) == {"r": "[1]"}
    first.close()


def test_an_unusable_store_file_is_an_input_error(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.sqlite"
    foreign.write_bytes(b"not a database at all" * 100)
    older = tmp_path / "older.sqlite"
    with sqlite3.connect(older) as db:
        db.execute("CREATE TABLE verdicts (key TEXT PRIMARY KEY, status TEXT)")
    db.close()
    for path in (foreign, older):
        with pytest.raises(InputError, match=rf"result store {path} cannot be used .*--no-cache"):
            ResultStore(path)
