"""Frames between the pool and its workers: what is sent is what arrives, whatever its size."""

from __future__ import annotations

import os
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from editseq.sandbox import protocol

VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
                      lambda inner: st.tuples(inner, inner) | st.lists(inner, max_size=4), max_leaves=12)


def _through_a_pipe(objs: list) -> list:
    r, w = os.pipe()
    try:
        # a writer thread: frames larger than the pipe buffer (64 KiB) block until read
        writer = threading.Thread(target=lambda: [protocol.send(w, o) for o in objs])
        writer.start()
        got = [protocol.recv(r) for _ in objs]
        writer.join()
        return got
    finally:
        os.close(r)
        os.close(w)


@settings(max_examples=50, deadline=None)
@given(st.lists(VALUES, min_size=1, max_size=5))
def test_frames_round_trip(objs: list) -> None:
    assert _through_a_pipe(objs) == objs


def test_a_large_program_and_verdict_arrive_whole() -> None:
    job = ("x = 1\n" * 200_000, (3.0, 2048, 1 << 20))  # 1.2 MB, many times a pipe's buffer
    verdict = ("failed", "AssertionError: " + "y" * 100_000, 0.5, 0.4, 10_000, "out")
    assert _through_a_pipe([job, verdict]) == [job, verdict]


def test_a_closed_pipe_is_eof_also_mid_frame() -> None:
    r, w = os.pipe()
    os.close(w)
    with pytest.raises(EOFError, match="pipe closed"):
        protocol.recv(r)
    os.close(r)
    r, w = os.pipe()
    os.write(w, (100).to_bytes(4, "little") + b"only part")  # a writer that died mid-frame
    os.close(w)
    with pytest.raises(EOFError, match="mid-frame"):
        protocol.recv(r)
    os.close(r)
