"""Outputs: claiming an output under its settings, append-only JSONL that survives a kill, atomic files.

A run's output is claimed with the settings that made it (``claim_output``), so a rerun resumes
only what the same settings would write; JSONL grows one flushed line at a time and a torn last
line is cut on reopen; summaries and results are replaced in one step (``write_atomic``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from editseq.io.records import InputError, recorded


def claim_output(out: Path, manifest: Path, settings: dict[str, Any], overwrite: bool,
                 flag: str = "--out", can_overwrite: bool = True, companions: Iterable[Path] = (),
                 options: Any = None, write: bool = True, assumed: dict[str, Any] | None = None,
                 located: dict[str, str] | None = None) -> None:
    """Start ``out`` (a file, or a folder such as a training run's), or resume it only under the
    ``settings`` its ``manifest`` recorded.

    Appending runs drawn under other settings would mix them silently, so that is refused (with
    the keys that differ); ``overwrite`` removes ``out``, the manifest and the ``companions`` (files
    a run writes beside ``out``, such as an errors file) and starts over. An ``out`` that holds
    nothing yet (a start that failed, say on a mistyped model) may be claimed again. The manifest
    also records the versions that started the run. ``options`` (the command's options
    dataclass) lets manifests of older editseq versions resume: a setting they lack counts as
    unchanged at the option's default (the option did not exist), and one they recorded as typed
    (before files were recorded by content) as unchanged when it is typed the same now; the
    manifest is then rewritten in the current form; ``assumed`` gives the same treatment to
    settings that are no option (the value they had before editseq recorded them).
    ``located`` maps a setting that names where an input lies (a folder's path) to the setting
    that holds its content's identity (``io.identity.files_identity``): the input moved elsewhere,
    its content recorded the same, resumes, with a warning naming both places, and the manifest
    records the new one (``write=False`` only checks: no overwrite, no manifest, no warning). A
    manifest that lacks such an identity (older editseq versions did not record it) takes the
    input as it is now, as ``assumed`` would.
    """
    from editseq.config import ConfigError
    from editseq.env import versions

    companions, located = list(companions), located or {}
    assumed = {**{content: settings.get(content) for content in located.values()}, **(assumed or {})}
    hint = f"use --overwrite or another {flag}" if can_overwrite else f"use another {flag}"
    if overwrite and write:
        for path in (out, manifest, *companions):
            path.unlink(missing_ok=True)
    files = [p for p in (out, *companions) if p.is_file() and p.stat().st_size > 0]
    holds = bool(files) or (out.is_dir() and any(p != manifest for p in out.iterdir()))
    moved: dict[str, Any] = {}
    if manifest.exists() and holds:
        moved = _resumable(out, manifest, settings, hint, options, assumed, located)
    elif files:  # no manifest; a folder (a training run's) needs none
        raise ConfigError(f"{files[0]} exists without {manifest.name}; {hint}")
    if write:
        for key, old in moved.items():
            warnings.warn(f"{key} {old} moved to {settings[key]}, its content the same ({located[key]}): "
                          f"{out} resumes, and {manifest.name} records the new place", UserWarning, stacklevel=2)
        write_json(manifest, {"settings": settings, "versions": versions()})


def _resumable(out: Path, manifest: Path, settings: dict[str, Any], hint: str, options: Any,
               assumed: dict[str, Any], located: dict[str, str]) -> dict[str, Any]:
    """``claim_output``'s check of ``settings`` against those ``manifest`` recorded: raises naming
    the settings that differ, else returns the ``located`` ones that moved (their old values)."""
    from editseq.config import ConfigError, defaults, to_dict

    previous = recorded(manifest, "settings")
    if not isinstance(previous, dict):  # was a traceback (edited by hand, say, or cut short)
        raise ConfigError(f"{manifest} does not parse as the settings {out} was started with, so whether "
                          f"it may resume under these cannot be told; restore it, or {hint}")
    unset = "(not set)"
    default, given = (defaults(type(options)), to_dict(options)) if options is not None else ({}, {})
    default = {**assumed, **default}
    changed = {k: previous.get(k, default.get(k, unset)) for k in sorted(settings)}
    changed = {k: old for k, old in changed.items() if old not in (settings[k], given.get(k, unset))}
    # a path whose content is recorded the same: the input moved, not changed
    moved = {k: changed.pop(k) for k, content in located.items()
             if k in changed and content in settings and previous.get(content) == settings[content]}
    if changed:
        shown = "; ".join(f"{k}: {_short(old)} then, {_short(settings[k])} now"
                          for k, old in list(changed.items())[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        raise ConfigError(f"{out} was started with other settings ({shown}{more}; see {manifest}); "
                          f"{hint}, or rerun with the same settings to resume")
    return moved


def _short(value: Any) -> str:
    """A setting's value for an error message (a file's digest shortened; "sha256:" says what it is).
    A long text keeps both ends: two paths that differ only in their last folder must not read
    the same."""
    text = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith("sha256:"):
        return f"content sha256 {value[7:19]}..."
    if len(text) <= 60:
        return text
    return text[:22] + "..." + text[-35:] if isinstance(value, str) else text[:57] + "..."


def dumps(record: dict[str, Any]) -> str:
    """One JSONL line (no trailing newline); non-ASCII kept as is.

    A lone surrogate (valid in JSON's ``\\ud800`` escapes, not encodable as UTF-8) keeps its
    escape instead of crashing the writer: the line stays valid JSON and reads back the same.
    """
    text = json.dumps(record, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(record)
    return text


class JsonlAppender:
    """Append-only JSONL writer that survives ``kill -9``: a torn last line is cut on reopen.

    Every write is flushed, so after a crash of this process a record is either fully on disk or
    not at all; an fsync every ``FSYNC_EVERY`` records (and on close) bounds what a machine crash
    can take.
    """

    FSYNC_EVERY = 256

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        truncate_torn_tail(self.path)
        self._fh: TextIO = self.path.open("a", encoding="utf-8")
        self._since_sync = 0

    def write(self, record: dict[str, Any]) -> None:
        self.write_many([record])

    def write_many(self, records: Iterable[dict[str, Any]]) -> None:
        """Write several records in one write call (one record's sequences land together)."""
        lines = [dumps(r) + "\n" for r in records]
        with _naming(self.path):
            self._fh.write("".join(lines))
            self._fh.flush()
            self._since_sync += len(lines)
            if self._since_sync >= self.FSYNC_EVERY:
                os.fsync(self._fh.fileno())
                self._since_sync = 0

    def close(self) -> None:
        with _naming(self.path):
            self._fh.flush()
            os.fsync(self._fh.fileno())
        self._fh.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Name ``path`` in an error of writing it that names no file: a full disk's write fails with
    "[Errno 28] No space left on device" alone, leaving which disk to free to guess."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


def check_writable(*paths: Path) -> None:
    """Fail now, not when the work is done, where ``write_atomic`` could not write ``paths``: a
    folder in a file's place, a file in its folder's (the parent is created), or a folder that
    takes no new file (no permission, a read-only file system: tried, as only trying tells).
    Results written only at the end of a long run (an evaluation without its cache) would
    otherwise be lost."""
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        try:
            fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        except OSError as exc:  # named by the probe's random name: name the file the run would write
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        os.close(fd)
        os.unlink(probe)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step: a reader, or a crash, never sees half a file."""
    check_writable(path)
    tmp = path.with_name(path.name + ".part")
    try:
        with _naming(path):
            tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """A JSON document (a summary, a manifest), written atomically."""
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """A whole JSONL file (results), written atomically."""
    write_atomic(path, "".join(dumps(r) + "\n" for r in records))


def truncate_torn_tail(path: Path) -> None:
    """Cut a partially written last line (no trailing newline) left by a crash."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 1))
        if fh.read(1) == b"\n":
            return
        # walk back to the previous newline
        pos = size - 1
        chunk = 65536
        while pos > 0:
            start = max(0, pos - chunk)
            fh.seek(start)
            data = fh.read(pos - start)
            nl = data.rfind(b"\n")
            if nl != -1:
                fh.truncate(start + nl + 1)
                return
            pos = start
        fh.truncate(0)


def read_jsonl_records(path: str | Path, required: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file written by this package; a malformed line, or a record without
    the ``required`` fields (an edited or foreign file being resumed), raises naming the line."""
    p = Path(path)
    if not p.exists():
        return
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p} line {lineno}: not valid JSON ({exc.msg}); delete the line or the file") from exc
            missing = [f for f in required if f not in record] if isinstance(record, dict) else list(required)
            if missing:
                raise InputError(f"{p} line {lineno}: no {', '.join(map(repr, missing))} field (editseq "
                                 "did not write this record); delete the line, or start over with --overwrite")
            yield record
