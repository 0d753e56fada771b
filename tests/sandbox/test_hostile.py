"""Hostile samples: all contained, none passed, nothing outside changed, nothing left running."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from editseq.sandbox import Limits, SandboxPool


@pytest.fixture
def victim():
    """A file and folder outside the sandbox (not under /tmp, which samples get privately)."""
    folder = Path(__file__).parent / f"_victim_{os.getpid()}"
    folder.mkdir()
    (folder / "keep.txt").write_text("original")
    yield folder
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()


@pytest.fixture
def server():
    """A loopback TCP server that records any connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.2)
    hits: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            hits.append("connected")
            conn.close()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield sock.getsockname()[1], hits
    stop.set()
    t.join()
    sock.close()


def battery(victim: Path, port: int) -> dict[str, str]:
    keep, new = victim / "keep.txt", victim / "new.txt"
    # failing tests: only a sandbox fooled by the hostile part could report "passed"
    tests = "\ndef check():\n    assert 1 + 1 == 3\ncheck()\n"
    return {
        "fork bomb": "import os\nwhile True:\n    os.fork()\n" + tests,
        "memory bomb": "x = []\nwhile True:\n    x.append(bytearray(10**8))\n" + tests,
        "ignores SIGALRM and SIGXCPU": ("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                                        "signal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n" + tests),
        "sys.exit(0)": "import sys\nsys.exit(0)\n" + tests,
        "os._exit(0)": "import os\nos._exit(0)\n" + tests,
        "raise SystemExit": "raise SystemExit\n" + tests,
        "write outside": f"open({str(new)!r}, 'w').write('x')\n" + tests,
        "delete outside": f"import os\nos.remove({str(keep)!r})\n" + tests,
        "overwrite outside": f"open({str(keep)!r}, 'w').write('changed')\n" + tests,
        "loopback connect": f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n" + tests,
        "kill parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(1, signal.SIGKILL)\n" + tests,
        "kill everything": "import os, signal\nos.kill(-1, signal.SIGKILL)\n" + tests,
        "segfault": "import ctypes\nctypes.string_at(0)\n" + tests,
        # the pass report, forged on every descriptor the sample holds: without the nonce, no pass
        "forged pass": ("import os\nfor fd in range(3, 256):\n    try:\n        os.write(fd, b'P' + b'0' * 32)\n"
                        "    except OSError:\n        pass\n" + tests),
        "gigabyte of output": "import sys\nfor _ in range(1024):\n    sys.stdout.write('x' * 2**20)\n" + tests,
        "detached sleeper": (f"import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(2)\n"
                             f"    open({str(new)!r}, 'w').write('late')\n    os._exit(0)\n"
                             "raise RuntimeError('parent gives up')\n" + tests),
    }


def _namespace_members(pool: SandboxPool) -> list[int]:
    """PIDs (host view) sharing a PID namespace with any worker's init, init excluded.

    A worker is three processes: the one the pool started, its namespace-setup child, and
    that child's child, PID 1 of the sample namespace.
    """

    def children(pid: int) -> list[int]:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    inits = {init for w in pool._workers for setup in children(w.proc.pid) for init in children(setup)}
    nss = {os.readlink(f"/proc/{init}/ns/pid") for init in inits}
    assert len(inits) == len(pool._workers) and os.readlink("/proc/self/ns/pid") not in nss
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) not in inits:
            try:
                if os.readlink(entry / "ns" / "pid") in nss:
                    members.append(int(entry.name))
            except OSError:
                continue
    return members


def test_hostile_battery(victim: Path, server: tuple[int, list[str]]) -> None:
    port, hits = server
    jobs = battery(victim, port)
    start = time.monotonic()
    with SandboxPool(2, Limits(timeout=1, memory_mb=512)) as pool:
        verdicts = dict(pool.run(jobs.items()))
        time.sleep(2.5)  # give a surviving sleeper the time to write
        leftovers = _namespace_members(pool) if pool.isolation == "namespaces" else []
        assert pool.run_one("assert True").passed, "the pool survives the battery"
    assert time.monotonic() - start < 30
    passed = [name for name, v in verdicts.items() if v.passed]
    assert passed == [], {n: verdicts[n] for n in passed}
    assert (victim / "keep.txt").read_text() == "original"
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]
    assert hits == []
    assert leftovers == []
    assert verdicts["segfault"].status == "crashed"
    assert verdicts["ignores SIGALRM and SIGXCPU"].status == "timeout"
    assert verdicts["sys.exit(0)"].status == "error" and "SystemExit" in verdicts["sys.exit(0)"].reason
