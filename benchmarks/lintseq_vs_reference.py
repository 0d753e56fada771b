"""CPU cost of LintSeq: editseq against the published implementation (PyPI ``pylintseq`` 0.0.2).

Prints CPU-seconds per edit sequence for both, one worker each, and the ratio, on
(a) the first 50 HumanEval programs (prompt + canonical solution), (b) three large stdlib
modules, then editseq alone on (c) all MBPP programs x 5 sequences with all cores, projected to
the paper's 90,000 programs x 5 on 2 cores, and (d) argparse truncated to growing lengths.

The reference runs in its own virtual environment (created on first use under ``--cache-dir``
with ``pylintseq==0.0.2 pylint==3.2.*`` and, when one is found, Python >= 3.12, which its
package asks for) in a subprocess from an empty folder, so no pylint config is picked up; CPU is
measured inside that process (``time.process_time`` plus ``RUSAGE_CHILDREN``, though it lints in
process). Its sequences on large files can take minutes: ``--ref-limit`` caps each one, and a
capped figure is printed as a lower bound with the fraction of lines it had deleted.

    python benchmarks/lintseq_vs_reference.py            # full run
    python benchmarks/lintseq_vs_reference.py --quick    # smoke run, a minute or two
"""

from __future__ import annotations

import argparse
import ast
import gc
import gzip
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REFERENCE_REQUIREMENTS = ("pylintseq==0.0.2", "pylint==3.2.*")
WORKER = Path(__file__).with_name("reference_worker.py")
PAPER_PROGRAMS, PAPER_SAMPLES, PAPER_CORES = 90_000, 5, 2
REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout, editseq not installed
    sys.path.insert(0, str(REPO_ROOT))


@dataclass(frozen=True)
class Program:
    name: str
    code: str


@dataclass(frozen=True)
class Timing:
    """CPU of one sequence; ``complete`` is False when a budget stopped it (then a lower bound)."""

    name: str
    cpu_s: float
    complete: bool = True
    progress: float = 1.0
    lint_calls: int | None = None


# ---------------------------------------------------------------- programs


def _data_dir() -> Path:
    from editseq.env import data_dir

    found = data_dir()
    if found is None:
        raise SystemExit("benchmark data not found: set EDITSEQ_DATA_DIR to the shared data folder")
    return found


def humaneval_programs(count: int) -> list[Program]:
    """The first ``count`` HumanEval problems as prompt + canonical solution."""
    path = _data_dir() / "humaneval" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [Program(r["task_id"], r["prompt"] + r["canonical_solution"]) for r in rows[:count]]


def mbpp_programs() -> list[Program]:
    """Every MBPP program (the ``code`` field)."""
    path = _data_dir() / "mbpp" / "mbpp.jsonl"
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [Program(f"mbpp/{r['task_id']}", r["code"]) for r in rows]


def stdlib_programs(names: Iterable[str]) -> list[Program]:
    """Modules of the running interpreter's standard library, by relative path."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return [Program(name, (root / name).read_text(encoding="utf-8")) for name in names]


def truncated(program: Program, max_lines: int) -> Program:
    """At most ``max_lines`` lines of code from just after the module docstring, still parsable.

    The docstring is skipped so short windows hold code; the window is the longest one that
    parses, since cutting at an arbitrary line can leave an open bracket or a header without a
    body, and such a prefix would measure error handling, not LintSeq.
    """
    tree = ast.parse(program.code)
    first = tree.body[0]
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    start = first.end_lineno if docstring and first.end_lineno else 0
    lines = program.code.splitlines(keepends=True)
    for end in range(min(start + max_lines, len(lines)), start, -1):
        window = "".join(lines[start:end])
        try:
            ast.parse(window)
        except SyntaxError:
            continue
        return Program(f"{program.name}[{start}:{end}]", window)
    raise ValueError(f"no parsable window of {program.name} within {max_lines} lines")


# ---------------------------------------------------------------- reference side


def _python_at_least_312(executable: str) -> bool:
    try:
        result = subprocess.run(
            [executable, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def find_reference_python() -> tuple[str, str]:
    """A Python >= 3.12 for the reference (its package asks for it), else this interpreter.

    On 3.11 the published generator's call still works when made directly (the 3.12-only
    ``NamedTemporaryFile(delete_on_close=...)`` sits behind ``ignore_init_errors=True``, which
    the generator does not pass), so falling back measures the same code.
    """
    candidates = [shutil.which(f"python3.{minor}") for minor in (13, 12)]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(str(p) for p in pyenv_root.glob("versions/3.1[2-9]*/bin/python3"))
    if shutil.which("uv"):
        found = subprocess.run(
            ["uv", "python", "find", ">=3.12"], capture_output=True, text=True, check=False
        )
        candidates.append(found.stdout.strip() if found.returncode == 0 else None)
    for candidate in candidates:
        if candidate and _python_at_least_312(candidate):
            return candidate, "Python >= 3.12"
    return sys.executable, "Python 3.11 fallback (no 3.12 found; direct calls work, see docstring)"


def ensure_reference_env(cache_dir: Path) -> tuple[Path, str]:
    """The reference venv's interpreter, creating the venv on first use."""
    venv = cache_dir / "ref-venv"
    python = venv / "bin" / "python"
    marker = venv / "editseq-bench-ready"
    note_file = venv / "editseq-bench-python"
    if marker.exists():
        return python, note_file.read_text(encoding="utf-8")
    base, note = find_reference_python()
    print(f"creating the reference environment in {venv} ({note}) ...", file=sys.stderr)
    subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *REFERENCE_REQUIREMENTS], check=True)
    note_file.write_text(note, encoding="utf-8")
    marker.touch()
    return python, note


def run_reference(
    python: Path, programs: Sequence[Program], seed: int, budget_s: float | None
) -> list[Timing]:
    """One reference sequence per program, one worker, from an empty folder (no pylint config)."""
    job = {
        "programs": [{"name": p.name, "code": p.code} for p in programs],
        "seed": seed,
        "budget_s": budget_s,
    }
    with tempfile.TemporaryDirectory(prefix="editseq-ref-") as empty:
        result = subprocess.run(
            [str(python), str(WORKER)],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            cwd=empty,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"reference worker failed:\n{result.stderr[-4000:]}")
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return [
        Timing(r["name"], r["cpu_s"], r["complete"], r["progress"], r["lint_calls"]) for r in rows
    ]


# ---------------------------------------------------------------- editseq side


class EditseqRunner:
    """editseq as its converter runs it: one linter per process, a sampler built once per program.

    A sequence's CPU includes parsing and analysing the program (``EditSampler``), sampling, and
    rendering the diffs; with several samples per program the analysis is shared, as in
    ``editseq lintseq --samples K``.
    """

    def __init__(self, linter: str) -> None:
        from editseq.lintseq.linters import get_linter

        self.linter_name = linter
        self.linter = None if linter == "fast" else get_linter(linter)
        self.edit_paths("def f(x):\n    return x\n", 1, 0)  # warm-up, not timed

    def edit_paths(self, program: str, samples: int, seed: int) -> list[list[str]]:
        from editseq.lintseq.diffs import edit_path_from_steps
        from editseq.lintseq.sampler import EditSampler, SamplerConfig

        sampler = EditSampler(program, SamplerConfig(linter=self.linter_name), self.linter)
        return [
            edit_path_from_steps(sampler.lines, sampler.sample(random.Random(seed + k)))
            for k in range(samples)
        ]


def run_editseq(programs: Sequence[Program], seed: int, linter: str) -> list[Timing]:
    """One editseq sequence per program, in this process (one worker)."""
    runner = EditseqRunner(linter)
    # This process holds every table's programs and results; a converter worker holds one record.
    # Frozen, they stay out of the collector's full passes, which would otherwise be charged to
    # whichever row happens to trigger one (the 100-line row of (d) read 10x its own cost).
    gc.collect()
    gc.freeze()
    timings = []
    try:
        for index, program in enumerate(programs):
            start = time.process_time()
            runner.edit_paths(program.code, 1, seed + index)
            timings.append(Timing(program.name, time.process_time() - start))
    finally:
        gc.unfreeze()
    return timings


_WORKER_RUNNER: EditseqRunner | None = None


def _init_worker() -> None:
    global _WORKER_RUNNER
    _WORKER_RUNNER = EditseqRunner("fast")


def _cpu_of_chunk(job: tuple[list[str], int, int]) -> float:
    codes, samples, seed = job
    assert _WORKER_RUNNER is not None, "pool workers are initialised by _init_worker"
    start = time.process_time()
    for index, code in enumerate(codes):
        _WORKER_RUNNER.edit_paths(code, samples, seed + index * samples)
    return time.process_time() - start


def run_editseq_parallel(
    programs: Sequence[Program], samples: int, workers: int, seed: int
) -> tuple[float, float]:
    """Total CPU seconds (summed over workers) and wall seconds for ``samples`` per program."""
    codes = [p.code for p in programs]
    chunk = max(1, len(codes) // (workers * 8))
    jobs = [
        (codes[i : i + chunk], samples, seed + i * samples) for i in range(0, len(codes), chunk)
    ]
    wall = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        cpu = sum(pool.map(_cpu_of_chunk, jobs))
    return cpu, time.perf_counter() - wall


# ---------------------------------------------------------------- report


def _per_sequence(timings: Sequence[Timing]) -> str:
    mean = sum(t.cpu_s for t in timings) / max(len(timings), 1)
    bound = "" if all(t.complete for t in timings) else ">= "
    return f"{bound}{mean:.4f}"


def _ratio(reference: Sequence[Timing], ours: Sequence[Timing]) -> str:
    ref = sum(t.cpu_s for t in reference)
    mine = sum(t.cpu_s for t in ours)
    bound = "" if all(t.complete for t in reference) else ">= "
    return f"{bound}{ref / mine:.0f}x" if mine > 0 else "n/a"


def _table(title: str, rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, *rows]:
        print("  " + "  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)))


def _describe(t: Timing) -> str:
    if t.complete:
        return f"{t.cpu_s:.3f}"
    return f">= {t.cpu_s:.1f} (capped, {t.progress:.0%} of lines deleted)"


def report_reference(
    humaneval: Sequence[Timing], stdlib: Sequence[Timing], note: str, budget: float | None
) -> None:
    calls = sum(t.lint_calls or 0 for t in humaneval)
    cpu = sum(t.cpu_s for t in humaneval)
    print(f"\nreference: pylintseq 0.0.2 + pylint 3.2 on {note}, one worker")
    print(
        f"  (a) {len(humaneval)} HumanEval programs: {_per_sequence(humaneval)} CPU-s/sequence, "
        f"{calls / max(len(humaneval), 1):.1f} pylint calls/sequence, "
        f"{1000 * cpu / max(calls, 1):.0f} ms/call"
    )
    cap = f"capped at {budget:.0f} CPU-s/sequence" if budget else "no cap"
    for t in stdlib:
        print(f"  (b) {t.name}: {_describe(t)} CPU-s/sequence ({t.lint_calls} pylint calls; {cap})")


def report_editseq(
    programs: dict[str, list[Program]],
    reference: dict[str, list[Timing]],
    args: argparse.Namespace,
) -> None:
    ref_a = reference.get("a", [])
    rows = [["reference", _per_sequence(ref_a) if ref_a else "-", "1x" if ref_a else "-"]]
    for linter in ("fast", "pylint"):
        ours = run_editseq(programs["a"], args.seed, linter)
        rows.append(
            [
                f"editseq --linter {linter}",
                _per_sequence(ours),
                _ratio(ref_a, ours) if ref_a else "-",
            ]
        )
    _table(
        f"(a) first {len(programs['a'])} HumanEval programs, one worker",
        rows,
        ["", "CPU-s/sequence", "reference/editseq"],
    )

    ref_b = {t.name: t for t in reference.get("b", [])}
    rows = []
    for program, ours in zip(
        programs["b"], run_editseq(programs["b"], args.seed, "fast"), strict=True
    ):
        ref = ref_b.get(program.name)
        rows.append(
            [
                program.name,
                str(len(program.code.splitlines())),
                _describe(ref) if ref else "-",
                f"{ours.cpu_s:.4f}",
                _ratio([ref], [ours]) if ref else "-",
            ]
        )
    _table(
        "(b) stdlib modules, one sequence each, one worker",
        rows,
        ["module", "lines", "reference CPU-s", "editseq CPU-s", "ratio"],
    )

    mbpp = programs["c"]
    cpu, wall = run_editseq_parallel(mbpp, args.samples, args.workers, args.seed)
    sequences = len(mbpp) * args.samples
    per_seq = cpu / sequences
    projected_min = per_seq * PAPER_PROGRAMS * PAPER_SAMPLES / PAPER_CORES / 60
    print(
        f"\n(c) MBPP: {len(mbpp)} programs x {args.samples} = {sequences} sequences on "
        f"{args.workers} workers: {cpu:.1f} CPU-s, {wall:.1f} s wall, {1000 * per_seq:.2f} CPU-ms/sequence"
        f"\n    projected {PAPER_PROGRAMS:,} x {PAPER_SAMPLES} on {PAPER_CORES} cores: "
        f"{projected_min:.1f} min (CPU / cores, perfect scaling)"
    )

    _scaling_table(
        f"(d) scaling: argparse prefixes, mean of {args.samples} sequences", programs["d"], args
    )
    _scaling_table(
        f"(e) scaling at constant code density: argparse's largest class repeated, mean of {args.samples} sequences",
        programs["e"],
        args,
    )


def _scaling_table(title: str, programs: Sequence[Program], args: argparse.Namespace) -> None:
    """CPU per sequence against size, in lines and AST nodes (denser code costs more per line)."""
    rows = []
    for program in programs:
        timings = run_editseq([program] * args.samples, args.seed, "fast")
        ms = 1000 * sum(t.cpu_s for t in timings) / len(timings)
        lines = len(program.code.splitlines())
        nodes = sum(1 for _ in ast.walk(ast.parse(program.code)))
        rows.append(
            [
                program.name,
                str(lines),
                str(nodes),
                f"{ms:.1f}",
                f"{1000 * ms / lines:.1f}",
                f"{1000 * ms / nodes:.2f}",
            ]
        )
    _table(
        title,
        rows,
        ["program", "lines", "AST nodes", "CPU-ms/sequence", "CPU-us/line", "CPU-us/node"],
    )


def repeated_class(program: Program, copies: int) -> Program:
    """The module's largest top-level class, ``copies`` times under distinct names."""
    tree = ast.parse(program.code)
    lines = program.code.splitlines()
    cls = max(
        (n for n in tree.body if isinstance(n, ast.ClassDef)), key=lambda n: n.end_lineno - n.lineno
    )
    text = "\n".join(lines[cls.lineno - 1 : cls.end_lineno])
    code = "\n\n".join(
        text.replace(f"class {cls.name}", f"class {cls.name}{i}", 1) for i in range(copies)
    )
    return Program(f"{program.name}:{cls.name} x{copies}", code)


def select_programs(args: argparse.Namespace) -> dict[str, list[Program]]:
    stdlib = (
        ["json/encoder.py"] if args.quick else ["json/encoder.py", "textwrap.py", "argparse.py"]
    )
    lengths = (50, 100, 200) if args.quick else (50, 100, 200, 400, 800, 1600)
    argparse_module = stdlib_programs(["argparse.py"])[0]
    mbpp = mbpp_programs()
    return {
        "a": humaneval_programs(5 if args.quick else args.humaneval),
        "b": stdlib_programs(stdlib),
        "c": mbpp[:100] if args.quick else mbpp,
        "d": [truncated(argparse_module, n) for n in lengths]
        + ([] if args.quick else [argparse_module]),
        "e": [repeated_class(argparse_module, k) for k in ((1, 2) if args.quick else (1, 2, 4, 8))],
    }


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 5 HumanEval programs, json/encoder.py, 100 MBPP programs",
    )
    parser.add_argument(
        "--humaneval", type=int, default=50, help="how many HumanEval programs in (a)"
    )
    parser.add_argument(
        "--ref-limit",
        type=float,
        default=300.0,
        help="CPU-s cap per reference sequence (0: none); capped figures are lower bounds",
    )
    parser.add_argument(
        "--samples", type=int, default=5, help="sequences per program in (c) and (d)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="workers for (c)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path.home() / ".cache" / "editseq-bench",
        help="where the reference venv lives",
    )
    parser.add_argument("--skip-reference", action="store_true", help="editseq figures only")
    parser.add_argument("--skip-editseq", action="store_true", help="reference figures only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.quick:
        args.ref_limit = min(args.ref_limit or 30.0, 30.0)
    programs = select_programs(args)
    reference: dict[str, list[Timing]] = {}
    if not args.skip_reference:
        python, note = ensure_reference_env(args.cache_dir)
        budget = args.ref_limit or None
        reference["a"] = run_reference(python, programs["a"], args.seed, None)
        reference["b"] = run_reference(python, programs["b"], args.seed, budget)
        report_reference(reference["a"], reference["b"], note, budget)
    if not args.skip_editseq:
        report_editseq(programs, reference, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
