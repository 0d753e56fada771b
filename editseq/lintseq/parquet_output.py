"""LintSeq's Parquet OUTPUT: the finished JSONL results, streamed into one Parquet file.

A Parquet file's schema is fixed when it is opened, but JSONL records need not agree on a field's
type batch by batch: a field may be null for thousands of records before its first value. So a
first pass reads the schema from every row (each batch's inferred column types unified: null
merges with any type, int with float, structs field by field) and a second pass writes the rows
against it; both hold one batch at a time, so memory stays flat however large the output. A field
that is text in one record and a number in another fits no Parquet column: that is an
``InputError`` naming the field, both types and their lines. The file is written under a
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

Seen = tuple["pa.DataType", int]  # a field's type so far, and the line of its first value


def jsonl_to_parquet(src: Path, dst: Path, batch_lines: int = BATCH_LINES) -> None:
    """Write the records of ``src`` (JSONL) to ``dst`` (Parquet); ``src`` is kept."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _schema(src, dst, batch_lines)
    part = dst.with_name(dst.name + ".part")
    try:
        with pq.ParquetWriter(part, schema) as writer:
            for _, rows in _batches(src, batch_lines):
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
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


def _schema(src: Path, dst: Path, batch_lines: int) -> pa.Schema:
    """The types of all rows of ``src``, fields in the order they first appear."""
    import pyarrow as pa

    seen: dict[str, Seen] = {}
    for first, rows in _batches(src, batch_lines):
        for name in dict.fromkeys(name for row in rows for name in row):
            values = [row.get(name) for row in rows]
            try:
                batch_type = pa.array(values).type
                merged = batch_type if name not in seen else _unify(seen[name][0], batch_type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
                raise _conflict(name, seen.get(name), values, first, src, dst, exc) from None
            known = name in seen and not pa.types.is_null(seen[name][0])
            seen[name] = (merged, seen[name][1] if known else first + _first_value(values))
    return pa.schema([pa.field(name, type_) for name, (type_, _) in seen.items()])


def _unify(old: pa.DataType, new: pa.DataType) -> pa.DataType:
    """One type for a column holding both; raises ``ArrowTypeError`` when none exists."""
    import pyarrow as pa

    schemas = [pa.schema([pa.field("x", old)]), pa.schema([pa.field("x", new)])]
    return pa.unify_schemas(schemas, promote_options="permissive").field("x").type


def _first_value(values: list[Any]) -> int:
    """Offset of the first non-null value (0 for an all-null batch, whose line is replaced when a
    value comes)."""
    return next((i for i, value in enumerate(values) if value is not None), 0)


def _conflict(name: str, seen: Seen | None, values: list[Any], first: int, src: Path, dst: Path,
              exc: Exception) -> InputError:
    """The error for a batch whose ``name`` values fit no one type: value by value from the type
    seen before the batch, the first value that does not fit names both types and both lines."""
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
            return _error(f"{src} line {line}: field {name!r} holds a value no Parquet type can ({inner})", dst, src)
        if seen is None:
            seen = (here, line)
            continue
        try:
            seen = (_unify(seen[0], here), seen[1])
        except pa.ArrowTypeError:
            return _error(f"{src} line {line}: field {name!r} is {here} here but {seen[0]} at line {seen[1]}, "
                          "and a Parquet column holds one type", dst, src)
    return _error(f"{src} lines {first}-{first + len(values) - 1}: field {name!r} fits no one Parquet type ({exc})", dst, src)


def _error(problem: str, dst: Path, src: Path) -> InputError:
    """``problem`` with its consequence and the fixes (JSONL holds any JSON value)."""
    return InputError(f"{problem}, so {dst} is not written. Write an OUTPUT ending in .jsonl instead, "
                      f"or change the field in the input; the converted records are kept in {src}")
