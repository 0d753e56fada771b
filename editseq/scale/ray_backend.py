"""Run editseq's work on a Ray cluster: LintSeq batches and sandboxed program execution.

The driver keeps everything that decides the output (reading and keying input records, the
result store, ordering, writing), and Ray workers only compute. So a Ray run writes exactly what a
local run writes for the same settings, failed records included, and resumes the same way.
Workers use the project's own code: ``convert_record`` for LintSeq and a ``SandboxPool`` per task
for execution (every sample still runs in the sandbox on the worker's machine).
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from editseq.sandbox import Limits, Verdict
from editseq.text import one_line


def connect(address: str | None) -> None:
    """Join the Ray cluster at ``address`` (``auto``, ``host:port``, ``ray://host:port``), or start
    a local one. An address where nothing answers is refused at once: Ray itself would retry for
    minutes."""
    from editseq.config import ConfigError

    try:
        import ray
    except ImportError as exc:
        raise ConfigError("the Ray backend needs the 'ray' extra: pip install 'editseq[ray]'") from exc
    if ray.is_initialized():
        return
    from editseq.env import NAMESPACES_VAR

    env_vars = {"PYTHONPATH": os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH", "")) if p)}
    if NAMESPACES_VAR in os.environ:  # part of the result store's key: the nodes run as the driver says
        env_vars[NAMESPACES_VAR] = os.environ[NAMESPACES_VAR]
    env = {"env_vars": env_vars}
    if not address:
        ray.init(include_dashboard=False, runtime_env=env, log_to_driver=False)
        return
    _check_reachable(address)
    try:
        ray.init(address=address, runtime_env=env, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"--address {address}: Ray could not start or join the cluster ({one_line(exc)})") from exc


def _check_reachable(address: str, seconds: float = 5.0) -> None:
    """Refuse ``host:port`` (or ``ray://host:port``) when no server accepts a connection there."""
    import socket

    from editseq.config import ConfigError

    if address.startswith(("http://", "https://")):  # Ray would take "http" for the host name
        raise ConfigError(f"--address {address}: a web address (the dashboard and job API, port 8265, are "
                          "no cluster address); pass the head's host:6379, or ray://host:10001")
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", "local": Ray finds the cluster itself
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=seconds).close()
    except OSError as exc:
        raise ConfigError(f"--address {address}: nothing answers there ({exc.strerror or exc}); start the "
                          "cluster's head with `ray start --head` or pass its address") from exc
    if not _speaks_grpc(address.removeprefix("ray://"), seconds):
        raise ConfigError(f"--address {address}: no Ray cluster answers there (the server does not speak gRPC, "
                          "as a Ray head's GCS port, 6379 by default, and its client port, ray://host:10001, do); "
                          "pass the address `ray start --head` printed")


def _speaks_grpc(target: str, seconds: float) -> bool:
    """Whether a gRPC channel to ``host:port`` becomes ready: Ray's GCS and client server are gRPC
    servers; a web server (the dashboard's 8265) or any other service is not, and Ray would retry
    it for minutes."""
    import grpc  # a dependency of ray

    channel = grpc.insecure_channel(target)
    try:
        grpc.channel_ready_future(channel).result(timeout=seconds)
        return True
    except grpc.FutureTimeoutError:
        return False
    finally:
        channel.close()


def map_ordered(fn: Callable[..., Any], items: Iterable[Any], *args: Any, in_flight: int | None = None,
                address: str | None = None, lost: Callable[[Any, Exception], Any] | None = None) -> Iterator[Any]:
    """``fn(item, *args)`` for each item as Ray tasks, results in input order, bounded in flight;
    for an item whose workers died under it through Ray's retries (``lost_workers``), ``lost(item,
    error)`` in its place, if given (else the error is raised). Stopped early (an error, Ctrl-C, a caller that stops reading), it ends the tasks still out: on
    a cluster that outlives the run they went on to the end, each batch up to its records' time
    limits, holding the CPUs of the next run. Forced, as Ray's interrupt of a task just starting
    can be lost (the driver keeps all the work; a killed worker holds none)."""
    import ray

    connect(address)
    remote = ray.remote(fn)
    limit = in_flight or 4 * max(1, int(ray.cluster_resources().get("CPU", 1)))
    shared = [ray.put(a) for a in args]
    pending: deque = deque()
    try:
        for item in items:
            pending.append((item, remote.remote(item, *shared)))
            if len(pending) >= limit:
                yield _result(*pending.popleft(), lost)
        while pending:
            yield _result(*pending.popleft(), lost)
    finally:
        for _, task in pending:
            ray.cancel(task, force=True)


def _result(item: Any, task: Any, lost: Callable[[Any, Exception], Any] | None) -> Any:
    import ray

    try:
        return ray.get(task)
    except lost_workers() as exc:
        if lost is None:
            raise
        return lost(item, exc)


def lost_workers() -> tuple[type[Exception], ...]:
    """Ray's errors for a task whose worker or node died under it (the OOM killer, a node gone),
    after Ray's own retries; not the errors a task raised itself (``RayTaskError``, shown as they are)."""
    from ray.exceptions import NodeDiedError, OutOfMemoryError, WorkerCrashedError

    return WorkerCrashedError, OutOfMemoryError, NodeDiedError


def read_records_ray(uri: str, address: str | None = None) -> Iterator[tuple[int, str, Any]]:
    """``editseq.io.records.read_records``'s stream for a URI Ray Data reads (``s3://``, ``gs://``,
    ``local://`` ...): Parquet rows, or JSONL parsed line by line by the same code as local files,
    so malformed lines become the same error records. A folder's (or a glob's) files are one input,
    read in the order of their paths and numbered across them, each record keyed by its own file:
    a record's number is its seeds' key and what a resume skips to."""
    import ray.data

    connect(address)
    if uri.endswith(".parquet"):
        name = uri.rstrip("/").rsplit("/", 1)[-1]
        for index, row in enumerate(_in_order(ray.data.read_parquet(uri)).iter_rows()):
            yield index, f"{name} row {index}", dict(row)
        return
    index = 0
    for row in _in_order(ray.data.read_binary_files(uri, include_paths=True)).iter_rows():
        for _, key, record in _file_records(row["path"].rsplit("/", 1)[-1], row["bytes"]):
            yield index, key, record
            index += 1


def _file_records(name: str, data: bytes) -> Iterator[tuple[int, str, Any]]:
    """The records of one file of a folder URI: a Parquet file's rows (its bytes were parsed as
    JSONL, every "line" an error), else its JSONL lines."""
    from editseq.io.records import parquet_rows, parse_jsonl_lines

    if name.endswith(".parquet"):
        import pyarrow as pa

        return parquet_rows(pa.BufferReader(data), name)
    return parse_jsonl_lines(data.splitlines(keepends=True), name)


def _in_order(dataset: Any) -> Any:
    """``dataset``, read in its files' order: by default Ray Data hands on blocks as its read tasks
    finish, so records' numbers could change from one run to the next."""
    dataset.context.execution_options.preserve_order = True
    return dataset


def _run_batch(jobs: list[tuple], limits: Limits,
               preload: tuple[str, ...]) -> tuple[str, str, list[tuple[Hashable, Verdict]]]:
    """The batch's verdicts, with the sandbox's isolation on this node and its warning, if any:
    a Ray worker's own warnings never reach the driver's terminal."""
    import warnings

    from editseq.sandbox import SandboxPool, SandboxWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SandboxWarning)
        pool = SandboxPool(1, limits, preload)
    with pool:
        results = list(pool.run(jobs))
    notes = [str(w.message) for w in caught if issubclass(w.category, SandboxWarning)]
    return pool.isolation, notes[0] if notes else "", results


class RaySandboxPool:
    """``SandboxPool``'s ``run`` interface, executed by Ray tasks (one sandbox worker per task)."""

    def __init__(self, limits: Limits, address: str | None = None, batch: int = 64,
                 preload: tuple[str, ...] = ()) -> None:
        connect(address)
        self.limits = limits
        self.preload = preload
        self.batch = batch
        self.address = address
        # "ray", then the weakest isolation a batch reported: "ray (namespaces)" or "ray (fallback)"
        self.isolation = "ray"

    def run(self, jobs: Iterable[tuple], concurrency: int | None = None,
            limits: Limits | None = None) -> Iterator[tuple[Hashable, Verdict]]:
        """Yield ``(key, verdict)`` per ``(key, program[, limits])`` job; ``concurrency=1`` runs
        one program at a time (the load-independent re-check of wall-clock timeouts). Batches are
        cut from ``jobs`` as tasks go out, so only the batches in flight are held."""
        size = 1 if concurrency == 1 else self.batch
        source = iter(jobs)
        batches = iter(lambda: list(itertools.islice(source, size)), [])
        for isolation, warning, results in map_ordered(_run_batch, batches, limits or self.limits, self.preload,
                                                       in_flight=1 if concurrency == 1 else None,
                                                       address=self.address):
            self._note(isolation, warning)
            yield from results

    def _note(self, isolation: str, warning: str) -> None:
        """Keep the weakest isolation the nodes reported, and warn here, once, of a fallback."""
        if self.isolation.endswith("(fallback)"):
            return
        self.isolation = f"ray ({isolation})"
        if isolation != "namespaces":
            import warnings

            from editseq.sandbox import SandboxWarning

            warnings.warn(f"a Ray node's sandbox: {warning or isolation}", SandboxWarning, stacklevel=3)

    def close(self) -> None:
        """Nothing to release: Ray tasks end with their batch."""

    def __enter__(self) -> RaySandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
