"""Parquet OUTPUT of ``editseq lintseq``: the schema comes from every row, the file appears only
when complete, and a field with two types is one clear error (real runs of the command)."""

import json

import pytest

from editseq.cli import main

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROWS = 5100  # more than one batch of the Parquet writer (5,000 lines)
ARGS = ["--workers", "1", "--linter", "none", "--no-progress"]


def _write(path, notes):
    path.write_text("".join(json.dumps({"program": "x = 1\n", "note": note}) + "\n" for note in notes))


def test_a_field_null_for_the_first_batch_gets_its_type_from_later_rows(tmp_path):
    """Was: the types of the first 5,000 rows, then 'Unsupported cast from string to null' and a
    Parquet file of 5,000 rows."""
    _write(tmp_path / "big.jsonl", [None] * 5050 + ["late"] * (ROWS - 5050))
    assert main(["lintseq", str(tmp_path / "big.jsonl"), str(tmp_path / "big.parquet"), *ARGS]) == 0
    table = pq.read_table(tmp_path / "big.parquet")
    assert table.num_rows == ROWS and table.schema.field("note").type == pa.string()
    assert table.column("note")[ROWS - 1].as_py() == "late" and table.column("note")[0].as_py() is None
    assert not (tmp_path / "big.parquet.part").exists()


def test_a_field_of_two_types_is_named_and_no_parquet_file_is_left(tmp_path, capsys):
    """Was: 'Expected bytes, got a 'int' object' (or a failed cast) as a traceback, with the rows
    of the batches before it left in OUTPUT. Now: exit 2 naming the field, both types and the
    lines; the JSONL records stay for resuming, and a rerun says the same."""
    _write(tmp_path / "in.jsonl", ["text"] + [None] * 5049 + [7] * (ROWS - 5050))
    out = tmp_path / "out.parquet"
    for _ in range(2):
        assert main(["lintseq", str(tmp_path / "in.jsonl"), str(out), *ARGS]) == 2
        err = capsys.readouterr().err
        assert "field 'note' is int64 here but string at line 1" in err
        assert "out.partial.jsonl line 5051" in err and "OUTPUT ending in .jsonl" in err
        assert "Traceback" not in err
        assert not out.exists() and not (tmp_path / "out.parquet.part").exists()
        assert len((tmp_path / "out.partial.jsonl").read_text().splitlines()) == ROWS


def test_two_types_within_one_batch_are_named_too(tmp_path, capsys):
    _write(tmp_path / "in.jsonl", ["a", None, 2])
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.parquet"), *ARGS]) == 2
    err = capsys.readouterr().err
    assert "o.partial.jsonl line 3: field 'note' is int64 here but string at line 1" in err
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize("notes, line, since", [
    ([2**53 + 1] + [None] * 5049 + [0.5] * (ROWS - 5050), 1, 5051),  # the float in a later batch
    ([0.5, None, 2**53 + 1], 3, 1),
])
def test_an_integer_a_double_cannot_hold_beside_a_float_is_named(tmp_path, capsys, notes, line, since):
    """An integer beyond 2**53 and a float in one field unify to a double column, which cannot hold
    the integer exactly. Was: pyarrow's ArrowInvalid traceback from the writing pass when the float
    came in another batch, and "lines 1-3 ... fits no one Parquet type" within one. Now: the field,
    the integer's line and the line that made the column a double."""
    _write(tmp_path / "in.jsonl", notes)
    assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.parquet"), *ARGS]) == 2
    err = capsys.readouterr().err
    assert f"o.partial.jsonl line {line}: field 'note' is int64 here but double at line {since}" in err
    assert "exactly representable" in err and "OUTPUT ending in .jsonl" in err and "Traceback" not in err
    assert not (tmp_path / "o.parquet").exists() and not (tmp_path / "o.parquet.part").exists()
