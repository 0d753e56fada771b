"""A pretraining corpus packed into token blocks on disk, which the Trainer reads memory-mapped.

Documents are tokenized a batch at a time and written to a file of token ids (nanoGPT's
``train.bin``: 2 bytes a token where the vocabulary has at most 65,536, else 4), in ``--output-dir``'s ``packed/`` folder. Neither the corpus's
text nor its token stream is held in memory, so a corpus larger than memory trains; the corpus
is read in passes instead (which documents train and which are held out, the BPE tokenizer's
training, then each side's packing). A resumed run reads the blocks it packed; the processes of
a distributed run read the main one's.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from editseq.io.records import InputError
from editseq.models.loading import opening_tokens
from editseq.train.common import held_out

_TYPECODES = {"uint16": "H", "int32": "i"}  # array's for numpy's
MANIFEST = "packed.json"  # written last: its presence says the blocks beside it are whole


@dataclass
class Split:
    """Which documents of a corpus read in order train and which are held out, by their indices
    (ascending); ``read``: how many were read, the empty ones dropped among them."""

    read: int
    trained: list[int]
    held_out: list[int]


@dataclass
class Packed:
    """A corpus's blocks, (blocks, block size) arrays of token ids, and its ``Split``'s counts."""

    blocks: Any
    held_out_blocks: Any | None
    records: int
    documents: int
    held_out: int


def split_documents(texts: Iterable[str], fraction: float, seed: int, source: str) -> Split:
    """``texts``'s documents that hold more than whitespace, whole distinct ones held out by
    ``fraction`` (``common.held_out``; a text repeated in the corpus, a licence or a vendored
    file, lands on one side only). Documents are known by a 16-byte digest, not held. An empty
    one (an ``__init__.py``) would pack as the opening and EOS alone, teaching the model that a
    text may end where it begins: those are dropped with a warning. None left is an error."""
    kept: list[int] = []
    digests: list[bytes] = []
    read = 0
    for read, text in enumerate(texts, 1):
        if text.strip():
            kept.append(read - 1)
            digests.append(hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest())
    if not kept:
        raise InputError(f"{source}: no documents found" + (f" ({read} empty)" if read else ""))
    if len(kept) < read:
        warnings.warn(f"{read - len(kept)} of {read} documents dropped: empty or whitespace only", stacklevel=2)
    trained, evaluated = held_out(kept, digests, fraction, seed, "distinct documents")
    return Split(read, trained, evaluated)


def chosen(texts: Iterable[str], indices: list[int]) -> Iterator[str]:
    """The documents of ``texts`` at ``indices`` (ascending), read no further than the last."""
    wanted = iter(indices)
    target = next(wanted, None)
    for i, text in enumerate(texts):
        if target is None:
            return
        if i == target:
            yield text
            target = next(wanted, None)


def pack(tokenizer: Any, texts: Iterable[str], block_size: int, what: str = "corpus",
         into: Path | None = None) -> Any:
    """Documents joined by end-of-sequence tokens, cut into full ``block_size`` blocks: an array
    (of ``token_dtype``) of shape (blocks, ``block_size``), memory-mapped from the file ``into`` where given
    (written whole, then renamed into place), else held in memory. Each document opens with
    what the tokenizer puts before a text (a Llama-style BOS; nothing for the shipped
    tokenizers), as ``editseq sample`` puts it before a prompt. A special token's text inside a
    document (``"<|endoftext|>"`` in code that handles tokenizers) is read as text: as the
    special token, it would end the document mid-way for the model. The tokens after the last
    full block are left out (up to ``block_size`` - 1), with a warning saying how many where they
    are over 5% of the corpus (a small corpus): fewer is every packing's rounding."""
    import numpy as np

    opening = opening_tokens(tokenizer)  # documents end with the EOS appended here
    dtype = token_dtype(tokenizer)
    part = None if into is None else into.with_name(f"{into.name}.{os.getpid()}.part")  # processes may pack at once
    tokens = 0
    try:
        with io.BytesIO() if part is None else part.open("wb") as sink:
            documents = iter(texts)
            while batch := list(islice(documents, 64)):  # a batch's encodings hold ~100 bytes a token until written
                stream = array(_TYPECODES[dtype])
                for ids in tokenizer(batch, add_special_tokens=False, split_special_tokens=True)["input_ids"]:
                    stream.extend(opening)
                    stream.extend(ids)
                    stream.append(tokenizer.eos_token_id)
                sink.write(stream.tobytes())
                tokens += len(stream)
            held = sink.getvalue() if part is None else None
        if into is not None and part is not None:
            os.replace(part, into)
    finally:
        if part is not None:
            part.unlink(missing_ok=True)
    left = tokens % block_size
    # with no full block at all, the caller's error says so
    if left > 0.05 * tokens and tokens > block_size:
        warnings.warn(f"the {what}'s last {left} of {tokens} tokens fill no whole --block-size "
                      f"{block_size} block and are left out", stacklevel=2)
    shape = ((tokens - left) // block_size, block_size)
    if into is None:
        return np.frombuffer(held, dtype=dtype)[:tokens - left].reshape(shape)
    return _blocks(into, shape, dtype)


def token_dtype(tokenizer: Any) -> str:
    """The narrowest type that holds ``tokenizer``'s ids, as nanoGPT stores GPT-2's in uint16:
    half the disk and page cache of int32 for the usual vocabularies (SmolLM2's 49,152; a
    trained BPE's 8,192)."""
    return "uint16" if len(tokenizer) <= 1 << 16 else "int32"


def _blocks(path: Path, shape: tuple[int, int], dtype: str) -> Any:
    """The blocks of a packed file, memory-mapped (mmap takes no empty file: no blocks, an empty array)."""
    import numpy as np

    if not shape[0]:
        return np.empty(shape, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)


def pack_corpus(tokenizer: Any, documents: Callable[[], Iterable[str]], split: Split, block_size: int,
                folder: Path, source: str, fraction: float, unchanged: Callable[[], None]) -> Packed:
    """``split``'s documents packed into ``folder`` (``train.bin``, ``held_out.bin``, then the
    manifest); ``documents`` reads the corpus again from its start. ``unchanged`` raises where the
    corpus changed since ``split`` read it: ``split``'s indices would then pick other documents
    (a held-out one trained on), so no manifest says the blocks are whole.

    The ``.part`` files of a packing killed mid-write (``kill -9``) are removed first, those whose
    process is gone: the processes of a node whose disk is not shared with the main one's pack
    beside each other."""
    folder.mkdir(parents=True, exist_ok=True)
    for part in folder.glob("*.part"):
        if _writer_gone(part):
            part.unlink(missing_ok=True)
    blocks = pack(tokenizer, chosen(documents(), split.trained), block_size, into=folder / "train.bin")
    if not len(blocks):
        raise InputError(f"{source}: the corpus has fewer than --block-size {block_size} tokens; "
                         "pass a smaller --block-size or more text")
    evaluation = None
    if split.held_out:
        evaluation = pack(tokenizer, chosen(documents(), split.held_out), block_size, "held-out documents",
                          into=folder / "held_out.bin")
        if not len(evaluation):
            raise InputError(f"{source}: the {len(split.held_out)} documents --eval-fraction {fraction:g} "
                             f"holds out have fewer than --block-size {block_size} tokens; pass a larger "
                             "--eval-fraction or a smaller --block-size")
    packed = Packed(blocks, evaluation, split.read, len(split.trained), len(split.held_out))
    manifest = {"block_size": block_size, "dtype": str(blocks.dtype), "blocks": len(blocks),
                "held_out_blocks": 0 if evaluation is None else len(evaluation),
                "records": packed.records, "documents": packed.documents, "held_out": packed.held_out}
    unchanged()
    part = folder / f"{MANIFEST}.{os.getpid()}.part"
    part.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(part, folder / MANIFEST)
    return packed


def _writer_gone(part: Path) -> bool:
    """Whether the process named in ``part``'s name (``NAME.PID.part``) has ended on this machine."""
    pid = part.name.rsplit(".", 2)[-2]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's live process
        return False
    return False


def packed_corpus(folder: Path) -> Packed | None:
    """The blocks ``pack_corpus`` wrote to ``folder``, memory-mapped; None where it did not finish,
    a file of it was deleted since, or its manifest lacks what this version records (211c3c3's
    had no dtype, its files int32 ids in ``train.int32``): packed again."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        block, dtype = manifest["block_size"], manifest["dtype"]
        evaluation = (_blocks(folder / "held_out.bin", (manifest["held_out_blocks"], block), dtype)
                      if manifest["held_out"] else None)
        blocks = _blocks(folder / "train.bin", (manifest["blocks"], block), dtype)
    except (FileNotFoundError, KeyError):
        return None
    return Packed(blocks, evaluation, manifest["records"], manifest["documents"], manifest["held_out"])


def as_dataset(blocks: Any) -> Any:
    """Packed blocks as what the Trainer reads: a torch map-style dataset whose items are
    ``input_ids`` and ``labels`` (the same ids: the model shifts them), each block made a tensor
    as it is read. A ``datasets.Dataset`` of them took some 30 to 50 bytes a token more as it
    was made (``benchmarks/pretrain_memory.py``)."""
    import torch

    class Blocks(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return len(blocks)

        def __getitem__(self, index: int) -> dict[str, Any]:
            ids = torch.from_numpy(blocks[index].astype("int64"))
            return {"input_ids": ids, "labels": ids}

    return Blocks()
