"""Peak memory of ``editseq train pretrain`` on a real corpus, for this checkout and another one.

    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/pretrain_memory.py --against /tmp/before [--corpus DIR] [--limit-mb 30] [--repeat R]

The corpus is the running interpreter's standard library (its .py files, site-packages left
out), written as one JSONL file of documents up to ``--limit-mb`` of text, ``--repeat`` times
(a larger corpus without another source; repeats change no memory but the packed stream's). Each tree trains a
``tiny-test`` model for one step on it (a BPE tokenizer of 8,192 tokens trained on the corpus,
256-token blocks): what dominates its memory is reading and packing the corpus. Each run is a
subprocess with the same interpreter and ``PYTHONPATH`` pointing at the tree; the script prints
each run's peak RSS (the process's own, from ``wait4``) and wall time, and the ratio.

Measured 2026-11-24, 2-core machine shared with other jobs (wall times move with them), against
e0ee1c7 (the stream packed as Python lists of ints, blocks made a ``datasets.Dataset``):
  --repeat 1, 8.3 M tokens: e0ee1c7 1,353 MB, 25.4 s; 758e5ac 776 MB, 40.5 s: 1.7x less memory
  --repeat 4, 33.1 M tokens: e0ee1c7 3,664 MB, 88.7 s; 758e5ac 991 MB, 71.1 s: 3.7x less memory
In process, at --repeat 4: packing added 1.2 GB (about 36 bytes a token) and the dataset 1.7 GB
before; at 758e5ac packing added 0.2 GB (a batch's encodings, freed as it is packed) and the dataset none.
About 325 MB of either peak is the imports (torch, transformers).

Measured 2026-11-24 against 758e5ac (the corpus's text read whole, the int32 stream in memory),
at 211c3c3 (the corpus read in passes, the blocks written to ``packed/`` and memory-mapped; then
as int32, since 2-byte ids for vocabularies of up to 65,536 tokens):
  --repeat 4, 33.1 M tokens: 758e5ac 995 MB, 99.3 s; 211c3c3 723 MB, 174.1 s: 1.4x less memory
  --repeat 8, 66.2 M tokens: 758e5ac 1,330 MB, 438.7 s; 211c3c3 731 MB, 297.6 s: 1.8x less memory
The peak no longer grows with the corpus (the imports, the BPE trainer's counts, a
batch's encodings); the extra passes read the JSONL in about 0.1 s each at --repeat 1.
"""

from __future__ import annotations

import argparse
import json
import sysconfig
import tempfile
from pathlib import Path

from peak import editseq_peak

HERE = Path(__file__).resolve().parents[1]


def write_corpus(path: Path, folder: Path, limit: int, repeat: int) -> tuple[int, int]:
    """The .py files under ``folder`` (site-packages left out) as JSONL documents, up to
    ``limit`` characters in all, ``repeat`` times over; returns (documents, characters)."""
    lines, characters = [], 0
    for file in sorted(folder.rglob("*.py")):
        if "site-packages" in file.parts or characters >= limit:
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        lines.append(json.dumps({"text": text}) + "\n")
        characters += len(text)
    with path.open("w", encoding="utf-8") as fh:
        for _ in range(repeat):
            fh.writelines(lines)
    return len(lines) * repeat, characters * repeat


def measure(tree: Path, corpus: Path, out: Path) -> tuple[float, float, dict]:
    """(peak RSS in MB, wall seconds, run record) of one ``editseq train pretrain`` run."""
    args = ["train", "pretrain", "--data", str(corpus), "--output-dir", str(out), "--preset", "tiny-test",
            "--vocab-size", "8192", "--block-size", "256", "--batch-size", "1", "--max-steps", "1"]
    peak, wall = editseq_peak(tree, args, corpus.parent)
    return peak, wall, json.loads((out / "editseq_train.json").read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", type=Path, required=True, help="another checkout (a git worktree)")
    ap.add_argument("--corpus", type=Path, default=Path(sysconfig.get_paths()["stdlib"]),
                    help="folder whose .py files make the corpus (default: the standard library)")
    ap.add_argument("--limit-mb", type=float, default=30.0, help="characters of text, in millions")
    ap.add_argument("--repeat", type=int, default=1, help="times the corpus is written over")
    args = ap.parse_args()
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        documents, characters = write_corpus(corpus, args.corpus, int(args.limit_mb * 1e6), args.repeat)
        print(f"corpus: {documents:,} documents, {characters / 1e6:.1f} M characters", flush=True)
        for label, tree in (("this checkout", HERE), (str(args.against), args.against.resolve())):
            peak, wall, record = measure(tree, corpus, Path(tmp) / label.replace("/", "_"))
            peaks[label] = peak
            tokens = record["blocks"] * record["block_size"]
            print(f"{label}: {tokens / 1e6:.1f} M tokens packed, peak RSS {peak:,.0f} MB, {wall:.1f} s", flush=True)
    mine, theirs = peaks["this checkout"], peaks[str(args.against)]
    print(f"peak memory {args.against} / this checkout: {theirs / mine:.1f}x")


if __name__ == "__main__":
    main()
