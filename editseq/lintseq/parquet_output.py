"""LintSeq's Parquet OUTPUT: the finished JSONL results, streamed into one Parquet file.

A Parquet file's schema is fixed when it is opened, but JSONL records need not agree on a field's
type batch by batch: a field may be null for thousands of records before its first value. So a
first pass reads the schema from every row (each batch's inferred column types unified: null
merges with any type, int with float, structs field by field) and a second pass writes the rows
against it; both hold one batch at a time, so memory stays flat however large the output. A field
that is text in one record and a number in another fits no Parquet column, and an integer beyond
2**53 fits no double column that a float in another record made (pyarrow will not round it): each
is an ``InputError`` naming the field, both types and their lines. The file is written under a
temporary name and renamed when complete, so OUTPUT is never a partial file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from editseq.io.records import InputError

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_LINES = 5000  # rows held at a time, in each pass

Seen = tuple["pa.DataType", int]  # a field's type so far, and the line of the value that made it so


def jsonl_to_parquet(src: Path, dst: Path, batch_lines: int = BATCH_LINES) -> None:
    """Write the records of ``src`` (JSONL) to ``dst`` (Parquet); ``src`` is kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    seen = _schema(src, dst, batch_lines)
    schema = pa.schema([pa.field(name, type_) for name, (type_, _) in seen.items()])
    part = dst.with_name(dst.name + ".part")
    try:
        with pq.ParquetWriter(part, schema) as writer:
            for first, rows in _batches(src, batch_lines):
                writer.write_table(_table(rows, first, schema, seen, src, dst))
        os.replace(part, dst)
    finally:
        part.unlink(missing_ok=True)


def _batches(path: Path, size: int) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """``(line number of the first row, rows)`` of ``size`` lines at a time."""
    with path.open(encoding="utf-8") as fh:
        first = 1
        while rows := [json.loads(line) for _, line in zip(range(size), fh, strict=False)]:
            yield first, rows
            first += len(rows)


def _schema(src: Path, dst: Path, batch_lines: int) -> dict[str, Seen]:
    """The type of each field over all rows of ``src`` and the line it took that type, fields in
    the order they first appear. A batch that changes a field's type is walked value by value,
    for the line of the value that changed it (which ``_misfit`` names)."""
    seen: dict[str, Seen] = {}
    for first, rows in _batches(src, batch_lines):
        for name in dict.fromkeys(name for row in rows for name in row):
            values = [row.get(name) for row in rows]
            if not _holds(seen.get(name), values):
                seen[name] = _walk(name, seen.get(name), values, first, src, dst)
    return seen


def _holds(seen: Seen | None, values: list[Any]) -> bool:
    """Whether the type seen so far is already the type of a column holding ``values`` too."""
    import pyarrow as pa

    if seen is None or pa.types.is_null(seen[0]):
        return False
    try:
        return _unify(seen[0], pa.array(values).type) == seen[0]
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return False


def _unify(old: pa.DataType, new: pa.DataType) -> pa.DataType:
    """One type for a column holding both; raises ``ArrowTypeError`` when none exists."""
    import pyarrow as pa

    schemas = [pa.schema([pa.field("x", old)]), pa.schema([pa.field("x", new)])]
    return pa.unify_schemas(schemas, promote_options="permissive").field("x").type


def _walk(name: str, seen: Seen | None, values: list[Any], first: int, src: Path, dst: Path) -> Seen:
    """The type of field ``name`` after ``values`` (lines from ``first``), from ``seen``, and the
    line of the value that made it so (an all-null column: null, at ``first``). A value no Parquet
    type holds, or of a type that unifies with no type seen before it, is an ``InputError`` naming
    the field, both types and both lines."""
    import pyarrow as pa

    if seen is not None and pa.types.is_null(seen[0]):  # only nulls so far: the first value sets the type
        seen = None
    for offset, value in enumerate(values):
        if value is None:
            continue
        line = first + offset
        try:
            here = pa.array([value]).type
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as inner:  # [1, "a"], or an int over 64 bits
            raise _error(f"{src} line {line}: field {name!r} holds a value no Parquet type can ({inner})", dst, src) from None
        if seen is None or here == seen[0]:
            seen = seen or (here, line)
            continue
        try:
            merged = _unify(seen[0], here)
        except pa.ArrowTypeError:
            raise _error(f"{src} line {line}: field {name!r} is {here} here but {seen[0]} at line {seen[1]}, "
                         "and a Parquet column holds one type", dst, src) from None
        seen = seen if merged == seen[0] else (merged, line)
    return seen or (pa.null(), first)


def _table(rows: list[dict[str, Any]], first: int, schema: pa.Schema, seen: dict[str, Seen], src: Path,
           dst: Path) -> pa.Table:
    """``rows`` (lines from ``first``) as a table of ``schema``. Types that unify may still not hold
    each other's values: an integer beyond 2**53 in a column that a float elsewhere made a double
    (no double holds it exactly), which pyarrow refuses with a traceback; that is an
    ``InputError`` naming the field, the value's type and line and where the column took its type."""
    import pyarrow as pa

    try:
        return pa.Table.from_pylist(rows, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        problem = _misfit(rows, first, seen, src)
        if problem is None:
            raise
    raise _error(problem, dst, src)


def _misfit(rows: list[dict[str, Any]], first: int, seen: dict[str, Seen], src: Path) -> str | None:
    """The first value of ``rows`` its column's type does not hold, said with the reason."""
    import pyarrow as pa

    for name, (type_, since) in seen.items():
        for offset, row in enumerate(rows):
            try:
                pa.array([row.get(name)], type=type_)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
                return (f"{src} line {first + offset}: field {name!r} is {pa.array([row[name]]).type} here but "
                        f"{type_} at line {since}, and a Parquet column holds one type ({exc})")
    return None


def _error(problem: str, dst: Path, src: Path) -> InputError:
    """``problem`` with its consequence and the fixes (JSONL holds any JSON value)."""
    return InputError(f"{problem}, so {dst} is not written. Write an OUTPUT ending in .jsonl instead, "
                      f"or change the field in the input; the converted records are kept in {src}")
