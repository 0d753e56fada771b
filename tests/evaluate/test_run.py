"""samples -> results -> summary, the result store's dedup and resume."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from editseq.benchmarks import load_benchmark
from editseq.config import ConfigError
from editseq.evaluate.run import EvaluateOptions, evaluate
from editseq.io.records import InputError


def write_samples(path: Path, shared_data: Path) -> list[dict]:
    bench = load_benchmark("humaneval", shared_data)
    p0, p1 = bench.problems["HumanEval/0"], bench.problems["HumanEval/1"]
    good0 = p0.canonical_solution[len(p0.prompt):]
    good1 = p1.canonical_solution[len(p1.prompt):]
    rows = [{"task_id": "HumanEval/1", "completion": good1, "sample": 0},
            {"task_id": "HumanEval/0", "completion": good0, "sample": 0},
            {"task_id": "HumanEval/0", "completion": "    return False\n", "sample": 1},
            {"task_id": "HumanEval/0", "completion": good0, "sample": 2},
            {"task_id": "HumanEval/1", "completion": "    raise ValueError\n", "sample": 1},
            {"task_id": "HumanEval/1", "completion": "```python\n" + good1 + "```\n", "sample": 2}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def test_results_summary_and_cache(tmp_path: Path, shared_data: Path) -> None:
    samples = tmp_path / "x.jsonl"
    write_samples(samples, shared_data)
    opts = EvaluateOptions(samples=samples, data=shared_data, workers=2, progress=False)
    # was "HumanEval/10, HumanEval/100, HumanEval/101, ...": text order, not the benchmark's
    with pytest.warns(UserWarning, match="162 of 164 humaneval tasks have no samples and are not scored: "
                                         "HumanEval/2, HumanEval/3, HumanEval/4, "):
        summary = evaluate(opts)
    results = [json.loads(line) for line in (tmp_path / "x_results.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["sample"]) for r in results] == [
        ("HumanEval/0", 0), ("HumanEval/0", 1), ("HumanEval/0", 2),
        ("HumanEval/1", 0), ("HumanEval/1", 1), ("HumanEval/1", 2)]
    assert [r["status"] for r in results] == ["passed", "failed", "passed", "passed", "error", "passed"]
    assert all({"passed", "status", "reason", "duration", "completion", "executed_program"} <= set(r) for r in results)
    # what ran: the prompt + the completion, its fence stripped
    assert results[5]["executed_program"] == results[3]["executed_program"] != results[5]["completion"]
    assert results[3]["executed_program"].startswith(load_benchmark("humaneval", shared_data).problems["HumanEval/1"].prompt)
    assert summary["pass@1"] == pytest.approx(4 / 6) and summary["sample_memory_mb"] == 2048
    assert summary["tasks"] == {"HumanEval/0": {"n": 3, "c": 2}, "HumanEval/1": {"n": 3, "c": 2}}
    assert summary["tasks_without_samples"] == [f"HumanEval/{i}" for i in range(2, 164)]
    on_disk = json.loads((tmp_path / "x_summary.json").read_text())
    assert on_disk["pass@1"] == summary["pass@1"] and on_disk["data"]["sha256"]
    db = sqlite3.connect(tmp_path / "x_cache.sqlite")
    assert db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 4  # duplicates (one after fence stripping) ran once
    db.execute("UPDATE verdicts SET reason = 'from cache'")
    db.commit()
    with pytest.warns(UserWarning):
        again = evaluate(opts)
    assert again["pass@1"] == summary["pass@1"]
    reasons = {json.loads(line)["reason"] for line in (tmp_path / "x_results.jsonl").read_text().splitlines()}
    assert reasons == {"from cache"}, "a second run (or a resumed one) reuses stored verdicts"
    with pytest.warns(UserWarning):
        evaluate(EvaluateOptions(samples=samples, data=shared_data, workers=2, progress=False, timeout=4.0,
                                 overwrite=True))
    reasons = {json.loads(line)["reason"] for line in (tmp_path / "x_results.jsonl").read_text().splitlines()}
    assert "from cache" not in reasons, "other limits are other verdicts: the programs ran again"
    assert db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 8


def test_results_under_other_settings_are_not_replaced_without_overwrite(tmp_path: Path, shared_data: Path) -> None:
    """Was: the samples evaluated at two truncations (--stop, then without it) into one place: the
    second run replaced the first's results and summary without a word."""
    samples = tmp_path / "x.jsonl"
    write_samples(samples, shared_data)
    with pytest.warns(UserWarning, match="no samples"):
        evaluate(EvaluateOptions(samples=samples, data=shared_data, workers=1, progress=False, stop=True))
    before = (tmp_path / "x_results.jsonl").read_text()
    with pytest.raises(ConfigError, match=re.escape(
            "x_summary.json holds results of these samples judged under other settings (--stop: True there, "
            "False now; --timeout: 3.0 there, 1.0 now); pass another --out-dir to keep both, or --overwrite")):
        evaluate(EvaluateOptions(samples=samples, data=shared_data, workers=1, progress=False, timeout=1.0))
    assert (tmp_path / "x_results.jsonl").read_text() == before
    with pytest.warns(UserWarning, match="no samples"):  # other k, workers: the same verdicts, recomputed
        evaluate(EvaluateOptions(samples=samples, data=shared_data, workers=2, progress=False, stop=True, k="1,2"))
        evaluate(EvaluateOptions(samples=samples, data=shared_data, workers=1, progress=False, out_dir=tmp_path / "b"))
        evaluate(EvaluateOptions(samples=samples, data=shared_data, workers=1, progress=False, overwrite=True))
    assert json.loads((tmp_path / "x_summary.json").read_text())["settings"]["stop"] is False


def test_a_results_file_given_as_samples_is_named(tmp_path: Path, shared_data: Path) -> None:
    """Was: x_results.jsonl evaluated without a word, into x_results_results.jsonl, all run again."""
    samples = tmp_path / "x.jsonl"
    write_samples(samples, shared_data)
    with pytest.warns(UserWarning, match="no samples"):
        evaluate(EvaluateOptions(samples=samples, data=shared_data, workers=2, progress=False))
    with pytest.warns(UserWarning) as caught:
        evaluate(EvaluateOptions(samples=tmp_path / "x_results.jsonl", data=shared_data, workers=2,
                                 progress=False))
    assert any(re.search(r"x_results\.jsonl holds the results of an earlier `editseq evaluate`.*into "
                         r"x_results_results\.jsonl; .*evaluate the samples file", str(w.message)) for w in caught)


def test_evalplus_limits_scale_with_the_reference_time(tmp_path: Path, shared_data: Path) -> None:
    from editseq.evaluate.run import _task_limits, plus_timeout
    from editseq.evaluate.store import ResultStore
    from editseq.sandbox import Limits, SandboxPool

    bench = load_benchmark("humaneval+", shared_data)
    store = ResultStore(tmp_path / "c.sqlite")
    tasks = {"HumanEval/0", "HumanEval/75"}  # 75's reference alone takes ~0.1 s per input set
    with SandboxPool(2, Limits(timeout=0.5)) as pool:
        limits = _task_limits(bench, pool, store, pool.limits, tasks, False)
        store.commit()  # the rows waiting in memory
        rows = store.db.execute("SELECT task_id, status, cpu_time FROM verdicts").fetchall()
        assert {r[0] for r in rows} == tasks and {r[1] for r in rows} == {"passed"}  # references, calibrated
        for task, _, cpu in rows:
            inputs = len(bench.problems[task].plus.inputs)
            assert limits[task].timeout == plus_timeout(inputs, cpu, 0.5) and limits[task].memory_mb == 4096
        store.db.execute("UPDATE verdicts SET cpu_time = 10")
        again = _task_limits(bench, pool, store, pool.limits, tasks, False)
        assert {t: lim.timeout for t, lim in again.items()} == dict.fromkeys(tasks, 71.0)  # read back, not rerun
    store.close()


def test_a_canonical_solution_failing_in_the_sandbox_is_warned_about(tmp_path: Path, shared_data: Path) -> None:
    """Then the sandbox (not the samples) is at fault, and the task's verdicts mean little."""
    from dataclasses import replace

    from editseq.evaluate.run import _task_limits
    from editseq.evaluate.store import ResultStore
    from editseq.sandbox import Limits, SandboxPool

    bench = load_benchmark("humaneval+", shared_data)
    broken = bench.problems["HumanEval/0"]
    bench.problems["HumanEval/0"] = replace(broken, canonical_solution="import no_such_module\n")
    store = ResultStore(None)
    with SandboxPool(1, Limits(timeout=3)) as pool, \
            pytest.warns(UserWarning, match=r"canonical solution fails in this sandbox on 1 task\(s\): HumanEval/0 \(error: ModuleNotFoundError"):
        _task_limits(bench, pool, store, pool.limits, {"HumanEval/0", "HumanEval/2"}, False)
    store.close()


def _killing(pool, times: int):
    """A thread that kills the serving process of ``pool``'s one worker ``times`` times, 1 s into
    each sample it serves (the OOM killer, a crash of the worker itself)."""
    import os
    import signal
    import threading
    import time

    from tests.sandbox.test_verdicts import _descendants

    def kill() -> None:
        for _ in range(times):
            outer = pool._workers[0].proc.pid
            time.sleep(1.0)
            tree = _descendants(outer)  # [its child, the process serving jobs (PID 1 inside), a sample]
            os.kill(tree[1] if len(tree) > 2 else (tree or [outer])[-1], signal.SIGKILL)
            deadline = time.monotonic() + 30
            while pool._workers and pool._workers[0].proc.pid == outer and time.monotonic() < deadline:
                time.sleep(0.05)  # until the pool replaced it

    return threading.Thread(target=kill)


def _slow_and_quick(tmp_path: Path, shared_data: Path):
    from editseq.evaluate.samples import build_programs, read_samples

    path = tmp_path / "s.jsonl"
    slow = "    import time\n    time.sleep(4)\n    return False\n"
    path.write_text(json.dumps({"task_id": "HumanEval/0", "completion": slow}) + "\n"
                    + json.dumps({"task_id": "HumanEval/2", "completion": "    return number % 1.0\n"}) + "\n")
    bench = load_benchmark("humaneval", shared_data)
    samples = read_samples(path, bench)
    build_programs(samples, bench, True, False, False)
    return bench, samples, EvaluateOptions(samples=path, data=shared_data, workers=1, progress=False)


def test_a_sandbox_failure_is_run_again(tmp_path: Path, shared_data: Path) -> None:
    """A sample whose worker died is the sandbox's failure, not the program's: it runs again alone
    and gets its program's own verdict. It was scored as a failure (``crashed``) in that run's
    pass@k, with no warning."""
    from editseq.evaluate.run import _run_all
    from editseq.evaluate.store import ResultStore
    from editseq.sandbox import Limits, SandboxPool

    bench, samples, opts = _slow_and_quick(tmp_path, shared_data)
    store = ResultStore(tmp_path / "c.sqlite")
    with SandboxPool(1, Limits(timeout=5)) as pool:
        killer = _killing(pool, 1)
        killer.start()
        verdicts = _run_all(samples, bench, pool, store, {}, replace(opts, recheck=False))
        killer.join()
    assert [v.status for v in verdicts] == ["failed", "passed"]  # its own verdict: returns False
    store.commit()  # the rows waiting in memory
    assert sorted(store.db.execute("SELECT task_id FROM verdicts").fetchall()) == [("HumanEval/0",), ("HumanEval/2",)]
    store.close()


def test_a_sandbox_failure_twice_is_warned_about_and_not_stored(tmp_path: Path, shared_data: Path) -> None:
    """Failing so again, the sample counts as not passed, is named in a warning, and is left out
    of the store, so that the next run retries it."""
    from editseq.evaluate.run import _run_all
    from editseq.evaluate.store import ResultStore
    from editseq.sandbox import Limits, SandboxPool

    bench, samples, opts = _slow_and_quick(tmp_path, shared_data)
    store = ResultStore(tmp_path / "c.sqlite")
    with SandboxPool(1, Limits(timeout=5)) as pool:
        killer = _killing(pool, 2)
        killer.start()
        with pytest.warns(UserWarning, match=r"the sandbox failed on 1 program\(s\) twice \(sandbox worker died.*HumanEval/0"):
            verdicts = _run_all(samples, bench, pool, store, {}, opts)
        killer.join()
    assert verdicts[0].transient and verdicts[1].passed
    store.commit()  # the rows waiting in memory
    assert store.db.execute("SELECT task_id FROM verdicts").fetchall() == [("HumanEval/2",)]
    store.close()


def test_an_evalplus_test_gets_evalplus_budget() -> None:
    """The per-input limits summed and capped at 60 s, plus the test's own time."""
    from editseq.evaluate.run import plus_timeout

    assert plus_timeout(1000, 0.5, 3.0) == 61.5  # 1000 inputs x 1 s, capped at 60
    assert plus_timeout(10, 0.1, 3.0) == 11.5  # 10 x 1 s + 4 x 0.1 + 0.1 + 1
    assert plus_timeout(2, 0.0, 3.0) == 3.0  # never under --timeout


def test_evalplus_references_are_recorded_once_and_kept(tmp_path: Path, shared_data: Path) -> None:
    bench = load_benchmark("humaneval+", shared_data)
    rows = []
    for tid in ("HumanEval/0", "HumanEval/15"):  # 15's outputs (147 MB pickled) are too large to record
        p = bench.problems[tid]
        rows += [{"task_id": tid, "completion": p.canonical_solution[len(p.prompt):]},
                 {"task_id": tid, "completion": "    return None\n"}]
    samples = tmp_path / "x.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    opts = EvaluateOptions(samples=samples, data=shared_data, benchmark="humaneval+", workers=2, progress=False)
    with pytest.warns(UserWarning, match="162 of 164"):
        summary = evaluate(opts)
    assert summary["tasks"] == {"HumanEval/0": {"n": 2, "c": 1}, "HumanEval/15": {"n": 2, "c": 1}}
    assert summary["reference_run_per_sample"] == ["HumanEval/15"]
    assert summary["settings"]["memory_mb"] == 2048 and summary["sample_memory_mb"] == 4096  # EvalPlus's need
    db = sqlite3.connect(tmp_path / "x_cache.sqlite")
    recorded = dict(db.execute("SELECT task_id, length(outputs) FROM recordings"))
    assert recorded["HumanEval/15"] == 0 and recorded["HumanEval/0"] > 0
    db.execute("UPDATE recordings SET outputs = ''")  # what the next run finds is what it uses
    db.commit()
    with pytest.warns(UserWarning, match="162 of 164"):
        again = evaluate(opts)
    assert again["reference_run_per_sample"] == ["HumanEval/0", "HumanEval/15"]
    assert again["tasks"] == summary["tasks"], "the reference beside the sample gives the same verdicts"


def test_a_recording_that_crashed_is_retried_and_one_that_failed_is_kept(tmp_path: Path) -> None:
    """A crash or wall-clock timeout may go another way next run; a reference that raises will not."""
    from editseq.benchmarks import Benchmark, Problem
    from editseq.benchmarks.plus import PlusSpec
    from editseq.evaluate.run import record_references
    from editseq.evaluate.store import ResultStore
    from editseq.sandbox import Limits, SandboxPool

    source = tmp_path / "data.jsonl"
    source.write_text("synthetic\n")
    references = {"t/crash": "import os, signal\n\ndef f(x):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
                  "t/raise": "def f(x):\n    raise ValueError(x)\n",
                  "t/ok": "def f(x):\n    return x + 1\n"}
    bench = Benchmark("synthetic", "v0", "", "", source, scaled_timeouts=True)
    for tid, ref in references.items():
        spec = PlusSpec("f", ref, [[1]], 0.0)
        bench.problems[tid] = Problem(tid, "", "f", ref, spec.test(), spec)
    store = ResultStore(tmp_path / "c.sqlite")
    with SandboxPool(1, Limits(timeout=1)) as pool:
        assert record_references(bench, pool, store, pool.limits, set(references), False) == ["t/crash", "t/raise"]
    store.commit()  # the rows waiting in memory
    kept = dict(store.db.execute("SELECT task_id, outputs FROM recordings"))
    assert set(kept) == {"t/raise", "t/ok"} and kept["t/raise"] == "" and kept["t/ok"]
    store.close()


@pytest.mark.parametrize("recheck", [True, False])
def test_wall_clock_timeouts_and_oom_kills_run_again_alone_before_they_are_stored(tmp_path: Path, recheck: bool) -> None:
    """A wall-clock timeout may be the machine's load: it runs again alone, and only that second
    verdict is stored; a CPU-time timeout is the program's own and is final at once. So may a
    death by SIGKILL (the kernel's OOM killer; was stored as a final "crashed" at once): played
    here by a program that sends it to itself, and a segfault stays final."""
    from editseq.evaluate.run import run_and_store
    from editseq.evaluate.store import ResultStore
    from editseq.sandbox import Limits, SandboxPool

    programs = {"sleeps": "import time\ntime.sleep(30)", "spins": "while True:\n    pass", "ok": "x = 1",
                "killed": "import signal\nsignal.raise_signal(signal.SIGKILL)",
                "segfault": "import signal\nsignal.raise_signal(signal.SIGSEGV)"}
    calls, stored_at_recheck, done = [], [], []
    store = ResultStore(tmp_path / "c.sqlite")
    with SandboxPool(2, Limits(timeout=0.5)) as pool:
        real_run = pool.run

        def watched_run(jobs, concurrency=None, limits=None):  # the real pool, its calls recorded
            jobs = list(jobs)
            calls.append(([key for key, _ in jobs], concurrency))
            if concurrency == 1:
                stored_at_recheck.extend(store.get(list(programs)))
            return real_run(jobs, concurrency, limits)

        pool.run = watched_run
        verdicts = run_and_store(pool, store, "synthetic", {key: f"t/{key}" for key in programs},
                                 lambda keys: ((key, programs[key]) for key in keys), recheck, done.append)
    assert verdicts["sleeps"].status == "timeout" and verdicts["sleeps"].reason.startswith("wall-clock")
    assert verdicts["spins"].status == "timeout" and not verdicts["spins"].reason.startswith("wall-clock")
    assert verdicts["ok"].passed and sorted(done) == sorted(programs)
    assert (verdicts["killed"].status, verdicts["killed"].reason) == ("crashed", "killed by SIGKILL")
    assert (verdicts["segfault"].status, verdicts["segfault"].reason) == ("crashed", "killed by SIGSEGV")
    if recheck:
        assert calls == [(list(programs), None), (["sleeps", "killed"], 1)]
        assert sorted(stored_at_recheck) == ["ok", "segfault", "spins"], "held back until their second run"
    else:
        assert calls == [(list(programs), None)]
    assert store.get(list(programs)) == verdicts
    store.close()


def test_k_larger_than_samples_is_rejected(tmp_path: Path, shared_data: Path) -> None:
    samples = tmp_path / "x.jsonl"
    rows = write_samples(samples, shared_data)
    with pytest.raises(InputError, match="pass@10 needs at least 10 samples per task, but tasks "
                                         "HumanEval/0, HumanEval/1 have only 3; lower --k"):
        evaluate(EvaluateOptions(samples=samples, data=shared_data, k="1,10", progress=False))
    # uneven counts: the default k that some task cannot support is left out, and said so
    extra = [{**rows[1], "sample": i} for i in range(3, 10)]
    samples.write_text(samples.read_text() + "".join(json.dumps(r) + "\n" for r in extra))
    with pytest.warns(UserWarning, match="have no samples"), \
            pytest.warns(UserWarning, match=r"pass@10 not computed: task HumanEval/1 has only 3 samples"):
        summary = evaluate(EvaluateOptions(samples=samples, data=shared_data, progress=False))
    assert [k for k in summary if k.startswith("pass@")] == ["pass@1"]


def test_results_of_another_benchmark_are_not_replaced_silently(tmp_path: Path, shared_data: Path) -> None:
    samples = tmp_path / "x.jsonl"
    write_samples(samples, shared_data)
    with pytest.warns(UserWarning):
        evaluate(EvaluateOptions(samples=samples, data=shared_data, progress=False))
    plus = EvaluateOptions(samples=samples, data=shared_data, benchmark="humaneval+", progress=False)
    with pytest.raises(ConfigError, match=r"x_summary\.json holds humaneval results; pass another --out-dir"):
        evaluate(plus)
    assert json.loads((tmp_path / "x_summary.json").read_text())["settings"]["benchmark"] == "humaneval"
    with pytest.warns(UserWarning):
        evaluate(EvaluateOptions(samples=samples, data=shared_data, benchmark="humaneval+", progress=False,
                                 out_dir=tmp_path / "plus"))
    assert json.loads((tmp_path / "plus" / "x_summary.json").read_text())["settings"]["benchmark"] == "humaneval+"
    with pytest.warns(UserWarning):
        evaluate(EvaluateOptions(samples=samples, data=shared_data, benchmark="humaneval+", progress=False,
                                 overwrite=True))
    assert json.loads((tmp_path / "x_summary.json").read_text())["settings"]["benchmark"] == "humaneval+"


def test_killed_run_resumes_from_the_store(tmp_path: Path, shared_data: Path) -> None:
    """SIGKILL mid-run keeps finished verdicts; the rerun only executes the rest."""
    import signal
    import subprocess
    import sys
    import time

    samples = tmp_path / "slow.jsonl"
    rows = [{"task_id": "HumanEval/0", "completion": f"    import time  # {i}\n    time.sleep(0.3)\n    return False\n"}
            for i in range(30)]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cmd = [sys.executable, "-m", "editseq", "evaluate", str(samples), "--data", str(shared_data),
           "--workers", "2", "--no-progress", "--k", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = tmp_path / "slow_cache.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill once some verdicts are committed, whatever the load
        time.sleep(0.2)
        try:
            if sqlite3.connect(db).execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] >= 2:
                break
        except sqlite3.OperationalError:  # not created yet
            continue
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = sqlite3.connect(db).execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
    assert 0 < done_before < 30
    assert not (tmp_path / "slow_results.jsonl").exists()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE verdicts SET reason = 'stored before the kill'")
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 30
    results = [json.loads(line) for line in (tmp_path / "slow_results.jsonl").read_text().splitlines()]
    assert len(results) == 30
    assert sum(r["reason"] == "stored before the kill" for r in results) == done_before


def test_results_of_another_samples_file_are_not_replaced_silently(tmp_path: Path, shared_data: Path,
                                                                    monkeypatch) -> None:
    """Two runs' ``s.jsonl`` evaluated into one --out-dir: the second replaced the first's
    results and summary without a word."""
    from editseq.config import ConfigError

    base, tuned, out = tmp_path / "base" / "s.jsonl", tmp_path / "tuned" / "s.jsonl", tmp_path / "out"
    for samples in (base, tuned):
        samples.parent.mkdir()
        write_samples(samples, shared_data)
    with pytest.warns(UserWarning):
        evaluate(EvaluateOptions(samples=base, data=shared_data, out_dir=out, progress=False))
    with pytest.raises(ConfigError, match=r"s_summary\.json holds the results of .*base/s\.jsonl; pass another --out-dir"):
        evaluate(EvaluateOptions(samples=tuned, data=shared_data, out_dir=out, progress=False))
    assert json.loads((out / "s_summary.json").read_text())["samples_file"] == str(base.resolve())
    monkeypatch.chdir(tmp_path)  # the same file, named otherwise: a rerun
    with pytest.warns(UserWarning):
        evaluate(EvaluateOptions(samples=Path("base/s.jsonl"), data=shared_data, out_dir=out, progress=False))
    with pytest.warns(UserWarning):
        evaluate(EvaluateOptions(samples=tuned, data=shared_data, out_dir=out, progress=False, overwrite=True))
    assert json.loads((out / "s_summary.json").read_text())["samples_file"] == str(tuned.resolve())


def test_results_and_tasks_follow_the_benchmarks_order(tmp_path: Path, shared_data: Path) -> None:
    """Was: sorted as text, so HumanEval/10 came before HumanEval/2 in the results and summary."""
    samples = tmp_path / "s.jsonl"
    rows = [{"task_id": f"HumanEval/{t}", "completion": "    pass\n", "sample": k} for t in (10, 2, 1) for k in (1, 0)]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.warns(UserWarning, match="have no samples"):
        summary = evaluate(EvaluateOptions(samples=samples, data=shared_data, cache=False, progress=False, workers=1))
    results = [json.loads(line) for line in (tmp_path / "s_results.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["sample"]) for r in results] == [
        (f"HumanEval/{t}", k) for t in (1, 2, 10) for k in (1, 0)]  # a task's samples in file order
    assert list(summary["tasks"]) == ["HumanEval/1", "HumanEval/2", "HumanEval/10"]
