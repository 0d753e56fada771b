"""What runs inside the sandbox for one MTPB run: the print rewrite, execution, the comparison.

``program_for`` turns (history, expected output, mode) into a self-contained program that
imports this module and calls ``run_case``; the sandbox stays generic (it runs a program and
reports whether it reached its end). Comparing inside the sandbox means no untrusted value
(a pickle, an object with a hostile ``__eq__``) is ever loaded by the evaluating process.

``run_case`` ends normally when the run passes, raises ``AssertionError`` (sandbox status
``failed``) when the last printed value does not match or nothing was printed, and re-raises
the program's own exception (``error``) when it failed before printing anything. A timeout
(20 s) raises ``MTPBTimeout`` the same way.

Differences from the reference (which execs every program in one process) kept deliberately:
each run has a fresh interpreter, and ``SystemExit`` after the last print is ignored like any
other exception instead of ending the whole evaluation; the 20 s limit is CPU time
(``ITIMER_PROF``) where the reference's is wall-clock time (``ITIMER_REAL``), so a loaded machine
does not turn slow runs into timeouts; code that waits (sleeps, blocks) is stopped after twice as
long in wall-clock time and judged on what it printed, as the reference judges it at 20 s
(``mtpb evaluate`` re-runs such a stop alone before it counts, since wall-clock time depends on load); the reference's ``reliability_guard``
(``os.remove = None`` and the like) is not applied, since the sandbox isolates the process
instead, so code calling those functions runs rather than failing. numpy >= 2 prints scalars inside
containers as ``np.int64(1)``; since expected outputs were made with numpy 1.x (the reference
pins 1.21.2), ``run_case`` sets ``np.set_printoptions(legacy="1.25")`` so ``str()`` of results
matches numpy 1.x. Other numpy 2 changes (NEP 50 promotion) are not undone.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
import json
import signal
from typing import Any

TIMEOUT = 20.0  # CPU seconds, the reference's 20 s
WALL_FACTOR = 2.0  # wall-clock seconds per CPU second before a waiting run is stopped
# what every run imports, imported once per sandbox worker; here, so that this module's hash (the
# result store's key) covers it
PRELOAD = ("numpy", "pandas", "editseq.mtpb.harness")
WALL_STOP = "of wall-clock time"  # in the reason of a run that failed after such a stop (load-dependent)
_INT_TYPES = ("uint8", "int16", "int32", "int64")  # the numpy scalar types the reference converts
_FLOAT_TYPES = ("float16", "float32", "float64")


class MTPBTimeout(Exception):
    """The run used up its time (an Exception, so code after the last print may absorb it)."""


def program_for(source: str, expected: Any, fixed: bool = False, seed: bool = False,
                timeout: float = TIMEOUT) -> str:
    """The program the sandbox runs: this harness applied to ``source`` and ``expected``."""
    return ("from editseq.mtpb.harness import run_case\n"
            f"run_case({source!r}, {json.dumps(expected)!r}, fixed={fixed}, seed={seed}, "
            f"timeout={timeout!r})\n")


@functools.cache
def version() -> str:
    """What a verdict depends on besides the program's text: this harness's code (hashed, so an
    edit cannot be forgotten) and the Python, numpy and pandas that run it (printing differs
    between their versions), and whether the modules some problems import are installed (scikit-learn
    for 14 and 46: a run that failed without it is run again once it is, as ``mtpb evaluate``'s
    warning advises). Part of the result store's key."""
    # imported here, not at the top: the sandbox imports this module for every run
    from editseq.env import code_hash, versions
    from editseq.mtpb.data import INSTALLS

    found = versions("numpy", "pandas", *INSTALLS)
    return f"harness {code_hash(__file__)}, " + ", ".join(f"{name} {found[name]}" for name in found
                                                           if name not in ("editseq", "platform"))


def _is_print_call(node: ast.AST | None) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id.startswith("print"))


def rewrite_with_print(source: str) -> str:
    """Wrap the last top-level statement's ``.value`` in ``print(...)`` unless it calls ``print*``.

    ``x = f()`` becomes ``x = print(f())``; statements without a value (``for``, ``def``,
    ``import``) and sources that do not parse are returned unchanged. The rewritten source is
    ``ast.unparse``'s (comments dropped), as in the reference.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    if not tree.body:
        return source
    last = tree.body[-1]
    value = getattr(last, "value", None)
    if value is None or not isinstance(value, ast.expr) or _is_print_call(value):
        return source
    last.value = ast.Call(func=ast.Name(id="print", ctx=ast.Load()), args=[value], keywords=[])
    ast.fix_missing_locations(tree)
    try:
        return ast.unparse(tree)
    except Exception:  # the reference falls back to the original source on any failure
        return source


def _normalise(a: Any, e: Any) -> tuple[Any, Any]:
    """The reference's normalisation before types are compared (the first matching rule only)."""
    cls, module = type(a).__name__, type(a).__module__
    if cls == "Series" and module.startswith("pandas"):
        import numpy as np

        return a.to_numpy(), np.array(e)
    if type(a) is list:
        return ([list(t) for t in a] if a and type(a[0]) is tuple else a), e
    if module == "numpy":
        if cls in _INT_TYPES:
            return int(a), e
        if cls in _FLOAT_TYPES:
            return float(a), e
        if cls in ("bool_", "bool"):
            return bool(a), e
        if cls == "ndarray":
            return a.tolist(), e
    return a, e


def equivalent(actual: Any, expected: Any, fixed: bool = False) -> bool:
    """The reference comparison; ``fixed`` also accepts None (or 'None') and equal dicts.

    Raises (a failed match) on unsupported types and failed coercions, as the reference does.
    """
    if fixed and expected is None:
        return actual is None or str(actual) == "None"
    a, e = _normalise(actual, expected)
    if type(a) is not type(e):
        if type(e) is bool:
            a, e = str(a), str(e)
        else:
            a = type(e)(a)
    if type(a) in (str, int, set, list, bool, tuple):
        return a == e
    if type(a) is float:
        return abs(a - e) < 1e-6
    if type(a).__name__ == "ndarray":
        import numpy as np

        return bool(np.allclose(a, e))
    if fixed and type(a) is dict:
        return a == e
    raise ValueError(f"unsupported type {type(a).__name__}")


def _execute(code: str, timeout: float) -> tuple[list, BaseException | None]:
    """Run ``code`` as __main__ with print recorded; returns (prints, exception).

    Printed text goes to a buffer, as in the reference: bounded by the memory limit rather
    than filling the sandbox's output file.
    """
    prints: list[tuple[tuple, dict]] = []

    def recording_print(*args: Any, **kwargs: Any) -> None:
        prints.append((args, kwargs))
        return builtins.print(*args, **kwargs)

    def on_alarm(signum: int, frame: Any) -> None:
        if signum == signal.SIGPROF:
            raise MTPBTimeout(f"timed out after {timeout:g} CPU-s")
        raise MTPBTimeout(f"timed out after {WALL_FACTOR * timeout:g} s {WALL_STOP}")

    namespace = {"__name__": "__main__", "print": recording_print, "print_stack": prints}
    out = io.StringIO()
    error = None
    for sig, timer, seconds in ((signal.SIGPROF, signal.ITIMER_PROF, timeout),
                                (signal.SIGALRM, signal.ITIMER_REAL, WALL_FACTOR * timeout)):
        signal.signal(sig, on_alarm)
        signal.setitimer(timer, seconds)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<mtpb>", "exec", dont_inherit=True, optimize=0), namespace)  # no future flags of ours
    except BaseException as exc:  # anything after the last print is ignored, as in the reference
        error = exc
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
    return prints, error


def _prepare(seed: bool) -> None:
    """numpy-1.x printing (see module docstring) and, for --fixed's seeded problems, seeds; other
    runs get fresh ones (numpy is preloaded by the sandbox worker, so its global generator would
    otherwise start every run in the same state)."""
    import os

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"  # one core per run: workers already fill the machine
    import numpy as np

    if int(np.__version__.split(".")[0]) >= 2:
        np.set_printoptions(legacy="1.25")
    if seed:
        import random

        random.seed(0)
        np.random.seed(0)
    else:
        np.random.seed()  # from the OS, as a fresh import seeds it


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= 200 else text[:200] + "..."


def run_case(source: str, expected_json: str, fixed: bool = False, seed: bool = False,
             timeout: float = TIMEOUT) -> None:
    """Run one history and judge it; returns only when the run passes (see module docstring)."""
    expected = json.loads(expected_json)
    _prepare(seed)
    prints, error = _execute(rewrite_with_print(source), timeout)
    if not prints:
        if error is not None:
            raise error
        raise AssertionError("nothing printed")
    stopped = f" (stopped: {error})" if isinstance(error, MTPBTimeout) and WALL_STOP in str(error) else ""
    args = prints[-1][0]
    if not args:
        raise AssertionError("the last print had no positional argument" + stopped)
    try:
        ok = equivalent(args[0], expected, fixed)
    except Exception as exc:
        raise AssertionError(f"expected {_short(expected)}, got {_short(args[0])} "
                             f"({type(exc).__name__}: {exc}){stopped}") from None
    if not ok:
        raise AssertionError(f"expected {_short(expected)}, got {_short(args[0])}{stopped}")
