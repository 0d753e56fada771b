"""The result store: verdicts persist across runs, and any change in what decides a verdict
(benchmark, version, data file, task, program, limits) is another key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from editseq.evaluate.store import ResultStore, result_key
from editseq.sandbox import Limits, Verdict


@dataclass
class Bench:
    """What ``result_key`` reads of a benchmark."""

    name: str = "humaneval"
    version: str = "v1"
    fingerprint: str = "a" * 64


PARTS = st.fixed_dictionaries({
    "name": st.sampled_from(["humaneval", "humaneval+"]), "version": st.sampled_from(["v1", "v2"]),
    "fingerprint": st.sampled_from(["a" * 64, "b" * 64]), "task": st.sampled_from(["t/0", "t/1"]),
    "program": st.sampled_from(["x = 1", "x = 1 ", "x = 2"]), "timeout": st.sampled_from([1.0, 3.0]),
    "memory_mb": st.sampled_from([512, 2048])})


def _key(p: dict) -> str:
    bench = Bench(p["name"], p["version"], p["fingerprint"])
    return result_key(bench, p["task"], p["program"], Limits(timeout=p["timeout"], memory_mb=p["memory_mb"]))


@given(PARTS, PARTS)
def test_keys_are_equal_exactly_when_every_part_is(a: dict, b: dict) -> None:
    assert (_key(a) == _key(b)) == (a == b)


@given(st.lists(st.text(), max_size=4))
def test_a_program_in_parts_has_the_key_of_the_joined_text(parts: list[str]) -> None:
    """``evaluate`` keys samples by (code, test) without joining them; the calibration and
    earlier stores key the joined program: both must meet."""
    assert result_key(Bench(), "t", tuple(parts), Limits()) == result_key(Bench(), "t", "".join(parts), Limits())


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
    got = again.get(["k1", "k2"])
    assert set(got) == {"k1"}
    assert (got["k1"].status, got["k1"].reason, got["k1"].peak_memory_kb) == ("failed", "AssertionError: x", 9000)
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
