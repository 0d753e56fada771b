"""Length-prefixed ``marshal`` frames between the pool (trusted) and its workers (trusted code only).

Only plain values cross: a job is ``(program, limit values)``, a verdict a tuple of its fields.
``marshal`` is built into the interpreter and encodes such values in C, so the worker needs
neither ``pickle`` nor the dataclass reduce machinery, whose Python-level work on every frame
would touch (and, after each fork, copy) pages of the forking process. Samples never touch
these pipes: the worker closes them in every sample process.
"""

from __future__ import annotations

import marshal
import os
from typing import Any

_HEADER_SIZE = 4


def frame(obj: Any) -> bytes:
    """``obj`` as the bytes ``recv`` reads back."""
    data = marshal.dumps(obj)
    return len(data).to_bytes(_HEADER_SIZE, "little") + data


def send(fd: int, obj: Any) -> None:
    """Write one frame to a blocking ``fd``."""
    view = memoryview(frame(obj))
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunk = os.read(fd, n)
    if len(chunk) == n:  # the common case: one read
        return chunk
    chunks, got = [chunk], len(chunk)
    while got < n:
        if not chunk:
            return None
        chunk = os.read(fd, n - got)
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(fd: int) -> Any:
    """Next object, or raises EOFError when the other side closed the pipe."""
    header = _read_exact(fd, _HEADER_SIZE)
    if header is None:
        raise EOFError("pipe closed")
    body = _read_exact(fd, int.from_bytes(header, "little"))
    if body is None:
        raise EOFError("pipe closed mid-frame")
    return marshal.loads(body)
