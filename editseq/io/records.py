"""Records in: JSONL (and JSON arrays), Parquet and Hugging Face ``datasets``.

Every reader yields ``(index, key, record)`` where ``key`` locates the record for error messages
(``"file.jsonl line 12"``, ``"file.parquet row 12"``). Malformed JSONL lines are not skipped
silently: they come back as ``BadRecord`` so the caller can report them with their reason.
What identifies an input, so that a resumed run can tell that it changed, is ``identity``.
"""

from __future__ import annotations

import json
import os
import socket
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from editseq.text import listing, one_line

T = TypeVar("T")


class InputError(ValueError):
    """Bad input: the message names the file, line, field, what was expected and the fix."""


@dataclass(frozen=True)
class BadRecord:
    """A line that could not be read as a JSON object, with the reason."""

    reason: str


def count_records(path: str | Path) -> int | None:
    """Number of records if cheap to know (JSONL lines, Parquet rows), else None."""
    p = Path(path)
    if p.suffix == ".parquet":
        return _parquet_file(p).metadata.num_rows
    if p.suffix in (".jsonl", ".json") and p.is_file() and not is_json_array(p):
        with p.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    return None


_BOM = b"\xef\xbb\xbf"
_JSONL_SUFFIXES = (".jsonl", ".json", ".jsonlines", ".gz")


def read_records(source: str | Path, split: str = "train",
                 loaded: Any = None) -> Iterator[tuple[int, str, dict[str, Any] | BadRecord]]:
    """Yield ``(index, key, record)`` from JSONL, Parquet or a Hugging Face dataset (path or hub name).

    ``index`` counts records from 0 in input order (blank JSONL lines are not records).
    ``loaded``: the dataset ``source`` names, where the caller loaded it already (``load_hf``) to
    fingerprint it: its rows are read, not those of a second load.
    """
    check_source(source)
    p = Path(source)
    if p.is_file() and split != "train":
        warnings.warn(f"--split {split} is for Hugging Face datasets; {p} is a file, read whole", UserWarning, stacklevel=2)
    if p.is_file() and p.suffix == ".parquet":
        yield from parquet_rows(p, p.name)
    elif p.is_file() and p.suffix in _JSONL_SUFFIXES:
        yield from _read_jsonl(p)
    else:
        yield from _read_hf(str(source), split, loaded)


def check_source(source: str | Path, also: tuple[str, ...] = ()) -> None:
    """Refuse, at once, a local file ``read_records`` cannot read: one of an unknown type, or a
    mistyped file name (not a hub dataset: asking the hub for it would take a minute; a bare
    name may still be a cached or legacy hub dataset, such as "mbpp"). Callers check before they
    create any output. ``also``: the suffixes of files the caller reads itself (pretraining's
    text files), named among those expected."""
    p = Path(source)
    if p.is_file() and p.suffix not in (*_JSONL_SUFFIXES, ".parquet", *also):
        raise InputError(f"{p}: unknown file type {p.suffix!r}; expected {', '.join(('.jsonl', '.parquet', *also))} "
                         "or a Hugging Face dataset")
    if p.is_file() and _json_document_opening(p):
        next(_read_jsonl(p))  # its error
    if p.is_file() and p.suffix in (".jsonl", ".json", ".jsonlines"):
        _refuse_binary(p)
    if p.is_file() and p.suffix == ".parquet":
        _parquet_file(p)  # a file that is no Parquet fails here, before any output exists
    if not p.exists() and "://" in str(source):  # no hub name holds one
        raise InputError(f"{source}: a URI, which only `editseq lintseq --backend ray` reads (through Ray "
                         "Data); pass a local file or folder, or a Hugging Face dataset name")
    if not p.exists() and (p.suffix in (*_JSONL_SUFFIXES, ".parquet", *also) or str(source).startswith((".", "/", "~"))):
        raise InputError(f"{source}: no such file (Hugging Face hub datasets are named like 'org/name')")


def record_where(source: str | Path, key: str) -> str:
    """"SOURCE line N" (or "row N") for a record ``read_records`` keyed, whose key names only the
    file, not the path the user gave."""
    return f"{source} {' '.join(key.rsplit(' ', 2)[-2:])}"  # the key ends in "line N" or "row N"


def not_text(record: dict[str, Any], field: str, flag: str = "") -> str:
    """Why ``record[field]`` is no text: the field is missing (naming the fields it has, so a
    mistyped name is fixed at once), is null (a Parquet column's missing value) or holds another
    type. ``flag``, the option naming the field, adds the fix: another field for a missing one or
    one of another type; for a null, the record mended or left out (the field is the right one)."""
    if field not in record:
        why, fix = f"missing field {field!r} (fields: {', '.join(sorted(record)) or 'none'})", "field"
    elif record[field] is None:
        why, fix = f"field {field!r} is null, not text", "record"
    else:
        why, fix = f"field {field!r} must be text, got {type(record[field]).__name__}", "field"
    if not flag:
        return why
    return why + ("; fill it in, or leave the record out" if fix == "record" else f"; name the right one with {flag}")


def check_unicode(where: str, field: str, text: str) -> None:
    """Refuse ``text`` holding a lone surrogate, which a JSON ``\\ud800`` escape spells but no
    Unicode text holds: tokenizers fail on it with a traceback (``UnicodeEncodeError``, or
    "TextEncodeInput must be Union[...]"), in training after the data has all been read."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"{where}: field {field!r} holds a lone surrogate (U+{ord(text[exc.start]):04X}, a JSON "
                         "escape of no Unicode character), which no tokenizer encodes; mend or leave out "
                         "the record") from exc


def check_all(path: str | Path, check: Callable[[str, dict[str, Any]], T], shown: int = 10) -> list[T]:
    """``check(where, record)`` of every record of a local JSONL/Parquet file that must be whole
    (samples, results, runs), ``where`` = "PATH line N" (Parquet: "PATH row N", from 0).

    A malformed record, or one ``check`` refuses by raising ``InputError``, does not stop the
    reading: every bad record is named in one ``InputError`` at the end (the first ``shown`` and a
    count), so a file is mended in one pass rather than one rerun per line.
    """
    if not Path(path).is_file():
        raise InputError(f"{path}: " + ("a folder; pass the JSONL file" if Path(path).is_dir() else "no such file"))
    return check_each(path, ((record_where(path, key), rec) for _, key, rec in read_records(path)), check, shown)


def check_each(path: str | Path, items: Iterable[tuple[str, dict[str, Any] | BadRecord]],
               check: Callable[[str, dict[str, Any]], T], shown: int = 10) -> list[T]:
    """``check_all`` over records already read from ``path``, as ``(where, record)``."""
    checked: list[T] = []
    problems: list[str] = []
    for where, rec in items:
        try:
            if isinstance(rec, BadRecord):
                raise InputError(f"{where}: {rec.reason}")
            checked.append(check(where, rec))
        except InputError as exc:
            problems.append(str(exc))
    if len(problems) == 1:
        raise InputError(problems[0])
    if problems:
        more = f"\n  ... and {len(problems) - shown} more" if len(problems) > shown else ""
        raise InputError(f"{len(problems)} bad records in {path}:\n  " + "\n  ".join(problems[:shown]) + more)
    return checked


def read_valid_records(path: str | Path) -> list[tuple[str, dict[str, Any]]]:
    """``(where, record)`` of every record of a local JSONL/Parquet file (see ``check_all``)."""
    return check_all(path, lambda where, rec: (where, rec))


def _read_jsonl(path: Path) -> Iterator[tuple[int, str, dict[str, Any] | BadRecord]]:
    import gzip

    if is_json_array(path):
        yield from _read_json_array(path)
        return
    opening = _json_document_opening(path)
    if opening == b"{":
        raise InputError(f"{path}: one JSON object over several lines (a summary or settings file?), "
                         "not records: expected JSONL, one JSON object per line")
    if opening == b"[":
        raise InputError(f"{path}: one JSON array over several lines, not JSONL (one JSON object per "
                         "line); name the file .json to read the array's items as records")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        try:
            yield from parse_jsonl_lines(fh, path.name)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:  # was "error: Unknown compression method"
            raise InputError(f"{path}: not a readable gzip file ({one_line(exc)})") from exc


def is_json_array(path: Path, of_arrays: bool = False) -> bool:
    """A ``.json`` file holding one array of records (MBPP's sanitized release), not JSONL;
    ``of_arrays``: one whose first item is itself an array (bigcode-evaluation-harness's
    generations, one array per task)."""
    if path.suffix != ".json":
        return False
    with path.open("rb") as fh:
        head = fh.read(4096).removeprefix(_BOM).lstrip()
    return head[:1] == b"[" and (not of_arrays or head[1:].lstrip()[:1] == b"[")


def _json_document_opening(path: Path) -> bytes | None:
    """``{`` or ``[`` for a pretty-printed JSON document (a ``_summary.json``; a ``json.dump(...,
    indent=2)`` saved as .jsonl): its first line is a lone bracket, which no JSONL record is, and
    read as JSONL it would be a bad record on every line. None otherwise (a .json array is read)."""
    if path.suffix not in (".json", ".jsonl"):
        return None
    with path.open("rb") as fh:
        first = fh.read(4096).removeprefix(_BOM).lstrip().split(b"\n", 1)[0].strip()
    return first if first == b"{" or (first == b"[" and path.suffix == ".jsonl") else None


def _refuse_binary(path: Path) -> None:
    """Refuse a file named as JSON text that holds Parquet (``df.to_parquet("x.jsonl")``) or gzip
    (a .jsonl.gz that lost its .gz), known by their first bytes: read as JSONL, every line of it
    was a bad record ("not UTF-8", "not valid JSON"), and nothing said what the file was."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == b"PAR1":
        raise InputError(f"{path}: a Parquet file (it begins with Parquet's magic bytes), not JSON text; "
                         f"name it {path.with_suffix('.parquet').name}")
    if head[:2] == b"\x1f\x8b":
        raise InputError(f"{path}: gzip-compressed, not JSON text; name it {path.name}.gz")


def load_json_array(path: Path) -> list[Any]:
    """The items of a JSON array file; the file is one document, so a syntax error fails it whole."""
    try:
        return json.loads(path.read_bytes().removeprefix(_BOM).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: a JSON array file that does not parse ({one_line(exc)}); "
                         "fix it, or write one record per line (JSONL)") from exc


def _read_json_array(path: Path) -> Iterator[tuple[int, str, dict[str, Any] | BadRecord]]:
    for index, obj in enumerate(load_json_array(path)):
        key = f"{path.name} item {index}"
        yield index, key, obj if isinstance(obj, dict) else BadRecord(f"expected a JSON object, got {type(obj).__name__}")


def parse_jsonl_lines(lines: Iterable[bytes], name: str) -> Iterator[tuple[int, str, dict[str, Any] | BadRecord]]:
    """``(index, "NAME line N", record or BadRecord)`` for raw JSONL lines (blank lines skipped)."""
    index = 0
    for lineno, raw in enumerate(lines, start=1):
        if lineno == 1:
            raw = raw.removeprefix(_BOM)  # written by some Windows editors; not part of the JSON
        if not raw.strip():
            continue
        key = f"{name} line {lineno}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield index, key, BadRecord(f"not UTF-8 ({exc.reason} at byte {exc.start}); re-encode the file as UTF-8")
            index += 1
            continue
        try:  # without its line ending, which a line cut short reads as a control character in a string
            obj = json.loads(text.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield index, key, BadRecord(f"not valid JSON ({json_problem(exc)})")
            index += 1
            continue
        if not isinstance(obj, dict):
            yield index, key, BadRecord(f"expected a JSON object, got {type(obj).__name__}")
        else:
            yield index, key, obj
        index += 1


def json_problem(exc: json.JSONDecodeError, line: bool = False) -> str:
    """What a ``JSONDecodeError`` says, and where (``line``: the line too, for a multi-line file).
    Its messages that end in "at" ("Unterminated string starting at") read "at at column 7" with
    the place appended as the exception's own text appends it."""
    where = f"line {exc.lineno}, column {exc.colno}" if line else f"column {exc.colno}"
    return f"{exc.msg.removesuffix(' at')} at {where}"


def _parquet_file(path: Path | Any, name: str | None = None) -> Any:
    """``pyarrow.parquet.ParquetFile(path)`` (``path`` a file object: ``name``, the file it holds);
    a file that is no Parquet is an ``InputError`` naming it (pyarrow's ``ArrowInvalid`` came out
    as a traceback)."""
    import pyarrow
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pyarrow.ArrowException, OSError) as exc:
        raise InputError(f"{name or path}: not a readable Parquet file ({one_line(exc)})") from exc


def parquet_rows(source: Path | Any, name: str) -> Iterator[tuple[int, str, dict[str, Any] | BadRecord]]:
    """``(index, "NAME row N", row)`` for the rows of the Parquet file ``source`` (a path, or a file
    object: a file Ray Data read), a batch at a time."""
    index = 0
    for batch in _parquet_file(source, name).iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            yield index, f"{name} row {index}", row
            index += 1


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the Hugging Face hub (``HF_ENDPOINT``) opens within ``timeout``.

    Without a network, ``datasets`` retries a hub name for about 25 s before it fails; one
    connection attempt tells the same in well under a second.
    """
    url = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        socket.create_connection((url.hostname or "", url.port or (80 if url.scheme == "http" else 443)),
                                 timeout=timeout).close()
    except OSError:
        return False
    return True


def _go_offline() -> None:
    """Read datasets from the local cache only (one fetched earlier still loads): the documented
    ``HF_HUB_OFFLINE`` for this process, and the settings ``datasets`` and ``huggingface_hub``
    already took from it when they were imported."""
    import datasets.config
    import huggingface_hub.constants

    os.environ["HF_HUB_OFFLINE"] = "1"
    datasets.config.HF_HUB_OFFLINE = huggingface_hub.constants.HF_HUB_OFFLINE = True


def _read_hf(name: str, split: str, loaded: Any = None) -> Iterator[tuple[int, str, dict[str, Any] | BadRecord]]:
    for index, row in enumerate(load_hf(name, split) if loaded is None else loaded):
        yield index, f"{name}[{split}] row {index}", dict(row)


def load_hf(name: str, split: str) -> Any:
    """``split`` of the dataset ``name`` (a folder or a hub name) as a ``datasets.Dataset``; what
    fails to load is an ``InputError`` naming it."""
    try:
        import datasets
    except ImportError as exc:
        raise InputError(
            f"{name!r} is not a file; reading Hugging Face datasets needs the 'hf' extra: pip install 'editseq[hf]'"
        ) from exc
    unreachable = not Path(name).is_dir() and not datasets.config.HF_HUB_OFFLINE and not hub_reachable()
    if unreachable:
        _go_offline()
    saved = False  # from save_to_disk: split is ours to apply (load_dataset applies it itself)
    try:
        if Path(name).is_dir():
            try:
                ds, saved = datasets.load_from_disk(name), True
            except FileNotFoundError:  # not saved by save_to_disk: a folder of data files, or a hub repo
                ds = datasets.load_dataset(name, split=split)
        else:
            ds = datasets.load_dataset(name, split=split)
    except Exception as exc:  # the library's own errors (no such dataset, unreadable files, offline)
        hint = ("; the Hugging Face hub cannot be reached from here, so only datasets in the local cache"
                " load: pass a .jsonl or .parquet file or a saved dataset folder") if unreachable else ""
        what = "not a readable dataset" if Path(name).exists() else "no such file or folder here, nor a dataset on the hub"
        because, held = _one_table(name, exc)
        raise InputError(f"{name}: {what} ({type(exc).__name__}: {one_line(exc)}{because}){held}{hint}") from exc
    if isinstance(ds, datasets.DatasetDict):
        if split not in ds:
            raise InputError(f"{name}: no split {split!r}; available: {sorted(ds)}; pass one with --split")
        ds = ds[split]
    elif saved and split != "train":
        warnings.warn(f"--split {split} is for datasets saved with splits; {name} has none, read whole",
                      UserWarning, stacklevel=2)
    return ds


def _one_table(name: str, exc: Exception) -> tuple[str, str]:
    """Why a folder of several files failed to load, and what it holds (else two empty texts):
    ``datasets`` reads its data files as one table, and said only "An error occurred while
    generating the dataset" of `editseq lintseq`'s output folder, whose manifest and summary
    (JSON) joined its records."""
    folder = Path(name)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts)) if folder.is_dir() else []
    if len(files) < 2:
        return "", ""
    cause = exc.__cause__ or exc.__context__
    because = f": {type(cause).__name__}: {one_line(cause, 120)}" if cause is not None else ""
    return because, (f"; its {len(files)} files ({listing(files, 5)}) are read as one table, so each must "
                     "hold records of the same fields: pass the data file itself")


def recorded(path: Path, *keys: str) -> Any:
    """The value under ``keys`` of a JSON file an earlier run wrote (a manifest, a summary, a run
    record), or None where the file, a key or a level is missing or the file is unreadable: what a
    run recorded is a hint to later runs, never a reason for them to fail."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
