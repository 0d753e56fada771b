"""Length-prefixed pickle frames between the pool (trusted) and its workers (trusted code only).

Samples never touch these pipes: the worker closes them in every sample process.
"""

from __future__ import annotations

import os
import pickle
import struct
from typing import Any

_HEADER = struct.Struct("<I")


def send(fd: int, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(fd: int) -> Any:
    """Next object, or raises EOFError when the other side closed the pipe."""
    header = _read_exact(fd, _HEADER.size)
    if header is None:
        raise EOFError("pipe closed")
    body = _read_exact(fd, _HEADER.unpack(header)[0])
    if body is None:
        raise EOFError("pipe closed mid-frame")
    return pickle.loads(body)
