"""(instruction, program) pairs from documented top-level functions of installed Python sources.

The instruction is the function's docstring; the program is the function without it, under the
module's imports it uses. This gives the paper's instruction-tuning experiment data that exists
offline. Pairs are deduplicated by their whitespace-normalized function and by their instruction,
and any pair sharing a 13-token sequence with a HumanEval or MBPP prompt or solution (and their
EvalPlus and sanitized versions) is dropped (the GPT-3 decontamination rule, less 13-grams of
literals alone), so finetuning on it does not leak benchmark answers.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import sys
import sysconfig
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editseq.config import ConfigError, jsonl_out, option
from editseq.corpus.imports import imports_used, make_imports_absolute, module_imports
from editseq.env import versions
from editseq.lintseq.diffs import split_lines
from editseq.lintseq.linters import get_linter
from editseq.text import CODE_TOKEN_RE

NGRAM = 13
MIN_NAMES = 4
"""Names (identifiers, keywords, words) a benchmark 13-gram holds to count: one of literals and
punctuation ('[1, 2, 3, 4, 5, 6') is data any docstring example may hold, not the benchmark's code."""
VENDOR_FOLDERS = {"_vendor", "vendor", "_vendored", "vendored", "thirdparty", "third_party", "thirdparty_files"}
"""Folders holding copies of other packages inside a package."""
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_NAME_RE = re.compile(r"[^\W\d]\w*")
COUNTS = ("files", "unreadable", "unparsable", "documented", "filtered", "functions", "duplicates",
          "not_self_contained", "contaminated", "kept")
"""What ``mine`` counts: files, then the documented functions of those that parse, those the
options leave out, and what became of the rest (``functions``)."""


@dataclass
class DocstringsOptions:
    """Options of ``editseq data docstrings``."""

    out: Path = option(None, help="JSONL to write: instruction, program, source, package", required=True)  # noqa: RUF009
    packages: list[str] = option([], help="import names to mine (comma-separated, or repeat the flag; default: the standard library)", flag="--package")  # noqa: RUF009
    min_doc_chars: int = option(40, help="shortest docstring kept")
    min_lines: int = option(3, help="shortest program kept (lines, docstring removed)")
    max_lines: int = option(60, help="longest program kept")
    private: bool = option(False, help="also keep functions whose names start with _")
    self_contained: bool = option(False, help="keep only programs using no name they do not bind (the module's constants and helpers stay behind; imports come along)")
    decontaminate: bool = option(True, help="drop pairs sharing a 13-token sequence with HumanEval(+) or MBPP(+) (needs their data)")
    data: Path | None = option(None, help="benchmark data folder for decontamination (default: $EDITSEQ_DATA_DIR or ../shared/data, else the canonical release, downloaded once to ~/.cache/editseq)")  # noqa: RUF009
    overwrite: bool = option(False, help="replace an existing OUT")
    progress: bool = option(True, help="show a progress bar")

    def __post_init__(self) -> None:
        if self.out is None:
            raise ConfigError("--out is required: the JSONL of (instruction, program) pairs")
        self.out = jsonl_out(self.out)
        if self.min_lines < 1 or self.max_lines < self.min_lines:
            raise ConfigError("--min-lines must be >= 1 and --max-lines >= --min-lines")
        given = self.packages
        self.packages = [n.strip() for item in given for n in item.split(",") if n.strip()]  # no import name has one
        if given and not self.packages:  # an empty $PKG in --package "$PKG": not the whole standard library
            raise ConfigError(f"--package {','.join(given)!r} names no package; leave it out to mine the standard library")
        for name in self.packages:  # before the benchmark data for decontamination is looked for
            _spec(name)


def _spec(name: str) -> Any:
    """The import spec of package ``name``, found without importing it."""
    try:  # a dotted name imports its parent packages to look inside them
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):  # the parent is missing, or has no spec
        spec = None
    if spec is None:
        raise ConfigError(f"--package {name}: not installed (import name, e.g. 'json', 'click')")
    if not spec.submodule_search_locations and _module_source(spec) is None:
        raise ConfigError(f"--package {name}: no Python source to mine ({spec.origin}: built in or compiled)")
    return spec


def _module_source(spec: Any) -> Path | None:
    """The .py file of a single-module spec: its origin, or for a module Python 3.11+ freezes into
    the interpreter (os, codecs, posixpath: origin "frozen") the file it was frozen from."""
    for origin in (spec.origin, getattr(spec.loader_state, "filename", None)):
        if isinstance(origin, str) and origin.endswith(".py"):
            return Path(origin)
    return None


def package_files(names: Iterable[str]) -> Iterator[tuple[str, Path]]:
    """(package, .py file) for each import name, without importing it; the stdlib when empty.

    Each file once, under the first name that holds it: ``--package json --package json.decoder``
    (or a name given twice) would otherwise count its files twice and their functions as duplicates.
    Vendored copies (``pip/_vendor/requests``) come after all other files, so that where the
    original is mined too, its functions are the ones kept, importing from the package's own name.
    """
    seen: set[Path] = set()
    vendored: list[tuple[str, Path]] = []
    for package, path in _named_files(names):
        if path.resolve() not in seen:
            seen.add(path.resolve())
            if VENDOR_FOLDERS & set(path.parts):
                vendored.append((package, path))
            else:
                yield package, path
    yield from vendored


def _named_files(names: Iterable[str]) -> Iterator[tuple[str, Path]]:
    """Every (package, file) of each name in turn, a file that two names reach given for both."""
    names = list(names)
    if not names:
        stdlib = Path(sysconfig.get_paths()["stdlib"])
        for path in sorted(stdlib.rglob("*.py")):
            parts = path.relative_to(stdlib).parts
            if not {"site-packages", "test", "tests", "idlelib", "lib2to3"} & set(parts):
                yield "stdlib", path
        return
    for name in names:
        spec = _spec(name)
        if spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                for path in sorted(Path(folder).rglob("*.py")):
                    # the package's own test folders; not those of the path it is installed under
                    if not {"test", "tests"} & set(path.relative_to(folder).parts):
                        yield name, path
        elif (source := _module_source(spec)) is not None:
            yield name, source


def functions(source: str, opts: DocstringsOptions, package: str = "",
              counts: Counter | None = None) -> Iterator[tuple[str, str, str, str]]:
    """(name, docstring, function without the docstring, the module's imports it uses) of each
    kept top-level function; ``package`` (the module's ``__package__``) resolves relative imports.
    ``counts`` gets each documented function (``documented``) and those the options or the
    docstring's place leave out (``filtered``).

    Raises SyntaxError, ValueError or RecursionError for a source that does not parse (the caller
    counts it).
    """
    tree = ast.parse(source)
    lines = split_lines(source)  # the lines ast numbers (str.splitlines also breaks inside them)
    imports = module_imports(tree)
    counts = Counter() if counts is None else counts
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (doc := ast.get_docstring(node)):
            counts["documented"] += 1
            make_imports_absolute(node, lines, package)
            if (function := _without_docstring(node, doc, lines, opts)) is None:
                counts["filtered"] += 1
            else:
                yield node.name, doc, function, imports_used(node, function, imports, package)


def _without_docstring(node: ast.FunctionDef | ast.AsyncFunctionDef, doc: str, lines: list[str],
                       opts: DocstringsOptions) -> str | None:
    """The text of ``node`` without its docstring, None where the options leave it out, or where
    the docstring decodes to a lone surrogate (an escape such as '\\udc80'), which training refuses."""
    if len(doc) < opts.min_doc_chars or (node.name.startswith("_") and not opts.private):
        return None
    if _SURROGATE_RE.search(doc):
        return None
    doc_node = node.body[0]
    if len(node.body) == 1 or doc_node.lineno == node.lineno:
        return None  # only a docstring, or the docstring shares the def's line
    if node.body[1].lineno == doc_node.end_lineno:
        return None  # a statement follows the docstring on its line ('"""..."""; x = 1')
    first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
    after = lines[doc_node.end_lineno:node.end_lineno]
    while not after[0].strip():  # what set the docstring off goes with it; a statement follows
        after.pop(0)
    function = "\n".join(lines[first - 1:doc_node.lineno - 1] + after).rstrip()
    return function if opts.min_lines <= function.count("\n") + 1 <= opts.max_lines else None


def ngrams(text: str, n: int = NGRAM) -> set[tuple[str, ...]]:
    """The ``n``-grams of ``text``'s code tokens (words and single punctuation marks, whitespace
    ignored): a mined pair sharing one with a benchmark is a near-duplicate even when it is
    reformatted or renamed elsewhere."""
    tokens = CODE_TOKEN_RE.findall(text)
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def benchmark_ngrams(data: Path | None, used: dict[str, Any] | None = None) -> set[tuple[str, ...]]:
    """13-grams holding ``MIN_NAMES`` names of every prompt and reference solution (also without
    its docstrings, as mined programs are) of every benchmark ``editseq sample`` takes
    (MBPP+ holds tasks from outside MBPP's test split, and HumanEval+ has its own solutions).
    ``used`` gets each benchmark's file and sha256: without ``--data`` the folder is found, not
    given, and the pairs are clean only of the data they were checked against."""
    from editseq.benchmarks import NAMES, load_benchmark

    grams: set[tuple[str, ...]] = set()
    for name in NAMES:
        bench = load_benchmark(name, data)
        if used is not None:
            used[name] = {"file": str(bench.source), "sha256": bench.fingerprint}
        for problem in bench.problems.values():
            solution = problem.canonical_solution
            # a mined program has lost its docstring, so the signature meets the body as in no
            # benchmark text: HumanEval/53 with its docstring reworded was kept
            grams |= ngrams(problem.prompt) | ngrams(solution) | ngrams(_without_docstrings(solution))
    return {gram for gram in grams if sum(bool(_NAME_RE.match(token)) for token in gram) >= MIN_NAMES}


def _without_docstrings(code: str) -> str:
    """``code`` less the lines of its docstrings ("" when it does not parse)."""
    try:
        with warnings.catch_warnings():  # benchmark regexes such as '\w' (invalid escapes): not ours to report
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return ""
    dropped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(node):
            dropped |= set(range(node.body[0].lineno, node.body[0].end_lineno + 1))
    return "\n".join(line for number, line in enumerate(split_lines(code), 1) if number not in dropped)


def mine(opts: DocstringsOptions, used: dict[str, Any] | None = None,
         not_read: list[dict[str, str]] | None = None) -> tuple[list[dict[str, Any]], Counter]:
    """The deduplicated, decontaminated pairs, and counts of what was seen and dropped (``used``:
    see ``benchmark_ngrams``; ``not_read`` gets the file and the reason of each file counted
    unreadable or unparsable, so a lost file can be found without mining again)."""
    # every count named, 0 too: a summary without "contaminated" read as if nothing was checked
    counts: Counter = Counter(dict.fromkeys(COUNTS, 0))
    banned = benchmark_ngrams(opts.data, used) if opts.decontaminate else set()
    seen: set[str] = set()
    records: list[dict[str, Any]] = []
    roots = _roots()
    linter = get_linter("fast")  # the undefined names lintseq's linter sees in the whole program
    from tqdm import tqdm

    files = list(package_files(opts.packages))  # counted first: all the installed packages take minutes
    for package, path in tqdm(files, unit="file", desc="data docstrings", disable=not opts.progress, leave=False):
        counts["files"] += 1
        try:
            # as Python reads it: a PEP 263 coding line (latin-1), a UTF-8 byte-order mark
            source = importlib.util.decode_source(path.read_bytes())
        except (UnicodeDecodeError, SyntaxError, LookupError, OSError) as e:  # SyntaxError, LookupError: a bad coding line
            counts["unreadable"] += 1
            _note(not_read, path, e)
            continue
        module = _module_name(path.resolve(), roots)
        # a package's __init__ is its own __package__; a file outside sys.path has none
        within = "" if module is None else module if path.name == "__init__.py" else module.rpartition(".")[0]
        try:
            found = list(functions(source, opts, within, counts))  # parsed before it counts
        # Python 2 files, templates, newer syntax than this Python's; RecursionError: a generated
        # expression too long for the parser, which must not end the run
        except (SyntaxError, ValueError, RecursionError) as e:
            counts["unparsable"] += 1
            _note(not_read, path, e)
            continue
        for name, doc, function, imports in found:
            counts["functions"] += 1
            # the function alone: a vendored copy imports from another place (pip._vendor.rich); its
            # docstring too: a copy of another version (pip's requests, a model's copied helpers)
            # differs a line or two, and an instruction twice with two programs is noise to train on
            keys = {hashlib.sha256(" ".join(text.split()).encode()).hexdigest() for text in (function, doc)}
            if keys & seen:
                counts["duplicates"] += 1
                continue
            seen |= keys
            program = f"{imports}\n\n\n{function}" if imports else function
            if opts.self_contained and linter.lint(program):
                counts["not_self_contained"] += 1
                continue
            if banned and (ngrams(program) & banned or ngrams(doc) & banned):
                counts["contaminated"] += 1
                continue
            records.append({"instruction": doc, "program": program, "package": package,
                            "source": f"{module or path}:{name}"})
    counts["kept"] = len(records)
    return records, counts


def _note(not_read: list[dict[str, str]] | None, path: Path, error: Exception) -> None:
    """Add ``path`` and why it was not read to ``not_read`` (when given)."""
    if not_read is not None:
        not_read.append({"file": str(path), "reason": f"{type(error).__name__}: {error}"})


def run_docstrings(opts: DocstringsOptions) -> Counter:
    """Mine pairs into ``opts.out`` (JSONL) and ``OUT_summary.json`` (counts, the files not read,
    settings, versions)."""
    from editseq.config import to_dict
    from editseq.io.lock import writing
    from editseq.io.outputs import check_writable, write_json, write_jsonl

    # held before OUT is looked at: two runs at once would each find no OUT, and the last replace the other's
    with writing(opts.out):
        if opts.out.is_file() and not opts.overwrite:  # a folder: refused below, which --overwrite does not mend
            raise ConfigError(f"{opts.out} exists; use --overwrite to replace it, or another --out")
        check_writable(opts.out)  # before the mining, which it would otherwise cost
        used: dict[str, Any] = {}
        not_read: list[dict[str, str]] = []
        records, counts = mine(opts, used, not_read)
        write_jsonl(opts.out, records)
        summary = {"counts": dict(counts), "not_read": not_read, "settings": to_dict(opts),
                   "decontaminated_against": used, "versions": versions()}
        write_json(summary_path(opts.out), summary)
        return counts


def summary_path(out: Path) -> Path:
    """Where ``run_docstrings`` writes the summary of the pairs at ``out``."""
    return out.with_name(out.name.removesuffix(".jsonl") + "_summary.json")


def _module_name(path: Path, roots: list[Path]) -> str | None:
    """Dotted module name of a file under a ``sys.path`` entry (None when none holds it)."""
    for root in roots:
        if path.is_relative_to(root):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts and parts[-1] == "__init__":
                parts.pop()
            return ".".join(parts)
    return None


def _roots() -> list[Path]:
    """``sys.path`` folders, longest first, so a file gets its most specific module name."""
    return sorted({Path(p).resolve() for p in sys.path if p and Path(p).is_dir()}, key=lambda p: -len(str(p)))
