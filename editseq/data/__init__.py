"""Data the package ships: a few instruction+program records written for editseq (MIT)."""

from pathlib import Path

EXAMPLES = Path(__file__).with_name("examples.jsonl")
