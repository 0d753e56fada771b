"""The unprivileged (user namespace) path and the visible fallback without namespaces."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
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
        # what a sample leaves running is ended with it (its own process group)
        sleeper = pool.run_one("import os, time\npid = os.fork()\nif pid == 0:\n    time.sleep(30)\n"
                               "    os._exit(0)\nprint(pid)\n")
        assert sleeper.passed, sleeper.reason
        assert ends(int(sleeper.output))
        # and so is what left that group (setsid, setpgid), at any depth below the sample
        for leave in ("os.setsid()", "os.setpgid(0, 0)"):
            escaped = pool.run_one("import os, time\nr, w = os.pipe()\nif os.fork() == 0:\n"
                                   f"    {leave}\n    if os.fork() == 0:\n        os.write(w, str(os.getpid()).encode())\n"
                                   "        time.sleep(30)\n    time.sleep(30)\n    os._exit(0)\n"
                                   "print(os.read(r, 20).decode())\n")
            assert escaped.passed, escaped.reason
            assert ends(int(escaped.output)), leave


def test_fallback_samples_end_with_their_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A run left early (Ctrl-C, a break) replaces the workers that still hold its jobs; without
    namespaces the sample running in such a worker must end with it, not sleep on unowned."""
    monkeypatch.setenv("EDITSEQ_SANDBOX_NAMESPACES", "0")
    started = tmp_path / "pid"
    sleeper = f"import os, time\nopen({str(started)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    with pytest.warns(SandboxWarning), SandboxPool(1, Limits(timeout=30)) as pool:
        run = pool.run([("quick", "assert 1"), ("sleeper", sleeper)])
        assert next(run)[1].passed
        for _ in range(100):  # the worker starts the queued sleeper at once
            if started.exists() and started.read_text():
                break
            time.sleep(0.05)
        run.close()  # left early: its worker is replaced
        assert ends(int(started.read_text()))


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
