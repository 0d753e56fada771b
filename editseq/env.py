"""Environment settings, parsed in one place (each with its variable name in the error)."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_VAR = "EDITSEQ_DATA_DIR"


def data_dir() -> Path | None:
    """Local benchmark data folder: ``$EDITSEQ_DATA_DIR``, else ``../shared/data`` beside the checkout.

    Returns None when neither exists (loaders then fetch from the canonical public source).
    """
    value = os.environ.get(DATA_DIR_VAR)
    if value:
        path = Path(value).expanduser()
        if not path.is_dir():
            # imported here, not at the top: the sandbox worker imports this module
            from editseq.config import ConfigError

            raise ConfigError(f"{DATA_DIR_VAR}={value!r} is not a directory; unset it or point it at the data folder")
        return path
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return None


NAMESPACES_VAR = "EDITSEQ_SANDBOX_NAMESPACES"


def sandbox_namespaces() -> bool:
    """Whether the sandbox may use Linux namespaces (``$EDITSEQ_SANDBOX_NAMESPACES``, default 1).

    Set it to 0 where namespaces exist but misbehave (some container runtimes); the sandbox
    then falls back to resource limits only and says so.
    """
    value = os.environ.get(NAMESPACES_VAR, "1").strip().lower()
    if value not in ("0", "1", "true", "false", "yes", "no"):
        # imported here, as in data_dir: the sandbox worker imports this module
        from editseq.config import ConfigError

        raise ConfigError(f"{NAMESPACES_VAR}={value!r}: expected 1 or 0")
    return value in ("1", "true", "yes")


def versions(*packages: str) -> dict[str, str]:
    """What produced an output: editseq, Python, the platform, and the named distributions.

    Saved with every output so a result can be traced to its stack; read from the installed
    metadata, so naming a package never imports it (a missing one is "not installed").
    """
    import platform
    import sys
    from importlib import metadata

    from editseq import __version__

    found = {"editseq": __version__, "python": sys.version.split()[0], "platform": platform.platform()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def code_hash(*files: str | Path) -> str:
    """The first 16 hex digits of the sha256 of ``files``' bytes, in order: a version of the code
    that decides a stored result, so that no edit of it can be forgotten (result store keys)."""
    import hashlib

    digest = hashlib.sha256()
    for path in files:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]
