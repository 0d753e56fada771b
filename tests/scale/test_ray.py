"""The Ray backends against a real local Ray cluster (2 CPUs): outputs identical to local runs."""

import gzip
import json
import os

import pytest

ray = pytest.importorskip("ray", reason="Ray backend tests need the 'ray' extra: pip install 'editseq[ray]'")

from editseq.evaluate.run import EvaluateOptions  # noqa: E402
from editseq.evaluate.run import evaluate as evaluate_samples  # noqa: E402
from editseq.lintseq.run import LintseqConfig, run_lintseq  # noqa: E402
from tests.lintseq.records import output_records  # noqa: E402

# Ray's own deprecation notices (its config names, `local://` paths used here to stand in for an
# object store) are not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_lintseq_on_ray_writes_what_the_local_backend_writes(tmp_path):
    rows = [json.dumps({"id": i, "program": f"def f(x):\n    y = x + {i}\n    return y\n\nprint(f({i}))\n"}) for i in range(60)]
    rows.insert(5, "{broken")
    (tmp_path / "in.jsonl").write_text("\n".join(rows) + "\n")
    for backend in ("local", "ray"):
        cfg = LintseqConfig(str(tmp_path / "in.jsonl"), str(tmp_path / f"{backend}.jsonl"), samples=2, seed=1,
                            backend=backend, workers=2, progress=False)
        summary = run_lintseq(cfg)
        assert (summary.converted, summary.failed) == (60, 1)
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert (tmp_path / "ray.errors.jsonl").read_bytes() == (tmp_path / "local.errors.jsonl").read_bytes()


def test_lintseq_reads_uris_through_ray_data(tmp_path):
    rows = [json.dumps({"program": f"x = {i}\nprint(x)\n"}).encode() for i in range(20)]
    rows[3] = b"{broken"
    rows[7] = b'{"program": "\xff"}'
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(rows) + b"\n\n")
    for backend, source in (("local", str(tmp_path / "in.jsonl")), ("ray", f"local://{tmp_path}/in.jsonl")):
        run_lintseq(LintseqConfig(source, str(tmp_path / f"{backend}.jsonl"), backend=backend, workers=2, progress=False))
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    errors = (tmp_path / "ray.errors.jsonl").read_text()
    assert errors == (tmp_path / "local.errors.jsonl").read_text()
    assert "in.jsonl line 4" in errors and "not UTF-8" in errors


def test_a_folder_uri_is_one_input_numbered_across_its_files(tmp_path):
    """Was: each file of a folder URI numbered its records from 0, so records of different files
    shared seeds and error-report indices, a resume skipped the first N records of every file (and
    lost them), and every record was keyed by the folder's name. The folder now reads as its files
    in path order, one input: what a local run of them joined writes, resumed alike."""
    rows = [json.dumps({"program": f"def f(x):\n    y = x + {i}\n    return y\n"}) for i in range(30)]
    rows[12] = "{broken"
    (tmp_path / "parts").mkdir()
    for part in range(3):
        (tmp_path / "parts" / f"part{part}.jsonl").write_text("\n".join(rows[10 * part:10 * part + 10]) + "\n")
    (tmp_path / "all.jsonl").write_text("\n".join(rows) + "\n")
    settings = {"samples": 2, "seed": 1, "workers": 2, "progress": False}
    run_lintseq(LintseqConfig(str(tmp_path / "all.jsonl"), str(tmp_path / "local.jsonl"), **settings))
    on_ray = LintseqConfig(f"local://{tmp_path}/parts", str(tmp_path / "ray.jsonl"), backend="ray", **settings)
    run_lintseq(on_ray)
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    (error,) = output_records(tmp_path / "ray.errors.jsonl")
    assert (error["index"], error["where"]) == (12, "part1.jsonl line 3")
    lines = (tmp_path / "ray.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "ray.jsonl").write_bytes(b"".join(lines[:30]))  # 15 records done: a run cut short
    assert run_lintseq(on_ray).resumed == 16
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()


def test_a_folder_uri_of_parquet_files_reads_their_rows(tmp_path):
    """Was: a folder URI's Parquet files were parsed as JSONL text, every "line" of their bytes an
    error record, and nothing converted."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    programs = [f"def f(x):\n    return x + {i}\n" for i in range(12)]
    pq.write_table(pa.table({"program": programs}), tmp_path / "all.parquet")
    (tmp_path / "parts").mkdir()
    for part in range(2):
        pq.write_table(pa.table({"program": programs[6 * part:6 * part + 6]}), tmp_path / "parts" / f"p{part}.parquet")
    settings = {"samples": 2, "workers": 2, "progress": False}
    run_lintseq(LintseqConfig(str(tmp_path / "all.parquet"), str(tmp_path / "local.jsonl"), **settings))
    summary = run_lintseq(LintseqConfig(f"local://{tmp_path}/parts", str(tmp_path / "ray.jsonl"), backend="ray", **settings))
    assert (summary.converted, summary.failed) == (12, 0)
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()


def _dies_on_record_260(batch, cfg):
    """``convert_batch``, but the worker converting record 260 dies, as under the OOM killer, each
    time Ray retries it."""
    from editseq.lintseq.convert import convert_batch

    if any(index == 260 for index, *_ in batch):
        os._exit(1)
    return convert_batch(batch, cfg)


def test_a_record_whose_workers_die_fails_alone_and_the_run_goes_on(tmp_path, monkeypatch, capsys):
    """Was: Ray's WorkerCrashedError once its retries were spent stopped the run, and every rerun, at
    the same batch; its records now convert again one task each, and only the record whose workers
    die goes to the error report."""
    import editseq.lintseq.run
    from editseq.cli import main

    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"program": f"x = {i}\n"}) + "\n" for i in range(300)))
    argv = ["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "o.jsonl"), "--linter", "none", "--no-progress"]
    monkeypatch.setattr(editseq.lintseq.run, "convert_batch", _dies_on_record_260)
    assert main([*argv, "--backend", "ray"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    errors = output_records(tmp_path / "o.errors.jsonl")
    assert [(e["index"], e["reason"]) for e in errors] == [
        (260, "the worker converting this record died (WorkerCrashedError, each time Ray retried it)")]
    monkeypatch.undo()
    assert main([*argv[:2], str(tmp_path / "local.jsonl"), *argv[3:]]) == 0
    local = [line for line in (tmp_path / "local.jsonl").read_text().splitlines(keepends=True)
             if json.loads(line)["program"] != "x = 260\n"]
    assert (tmp_path / "o.jsonl").read_text() == "".join(local)


def test_evaluate_on_ray_gives_the_local_verdicts(tmp_path, shared_data):
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as fh:
        problems = [json.loads(line) for line in fh][:6]
    samples = []
    for p in problems:
        samples.append({"task_id": p["task_id"], "completion": p["canonical_solution"]})
        samples.append({"task_id": p["task_id"], "completion": "    return None\n"})
        samples.append({"task_id": p["task_id"], "completion": "    import os\n    os._exit(0)\n"})
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    results = {}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        with pytest.warns(UserWarning, match="158 of 164 humaneval tasks have no samples"):
            summary = evaluate_samples(EvaluateOptions(tmp_path / "s.jsonl", benchmark="humaneval", data=shared_data,
                                               backend=backend, cache=False, progress=False, out_dir=out, workers=2))
        results[backend] = [(r["task_id"], r["status"], r["passed"]) for r in map(json.loads, (out / "s_results.jsonl").read_text().splitlines())]
        assert summary["pass@1"] == pytest.approx(1 / 3)
    assert results["ray"] == results["local"]


def test_the_ray_pool_takes_jobs_as_its_tasks_go_out():
    """Programs can be built on demand: at most the batches in flight have been taken."""
    from editseq.sandbox import Limits
    from editseq.scale.ray_backend import RaySandboxPool

    taken = []

    def jobs():
        for i in range(400):
            taken.append(i)
            yield i, f"assert {i} % 7"

    results = RaySandboxPool(Limits(timeout=2), batch=4).run(jobs())
    first = next(results)
    assert len(taken) <= 4 * 8 + 4  # 8 batches in flight (4 per CPU), the next one being cut
    got = dict([first, *results])
    assert len(taken) == 400 and {i for i, v in got.items() if not v.passed} == set(range(0, 400, 7))


def _waits_for_go(item, folder):
    """``item`` at once for 0, else once a file ``go`` appears in ``folder``."""
    import time
    from pathlib import Path

    while item and not (Path(folder) / "go").exists():
        time.sleep(0.05)
    return item


def test_tasks_still_out_when_the_caller_stops_reading_are_cancelled(tmp_path):
    """Was: a run stopped early (an error, Ctrl-C) left its tasks in flight running on the cluster,
    holding its CPUs, to their end (a LintSeq batch: up to its records' --timeout each)."""
    import time

    from editseq.scale.ray_backend import map_ordered

    idle = ray.cluster_resources()["CPU"]
    deadline = time.monotonic() + 60
    while ray.available_resources().get("CPU", 0) < idle:  # earlier tests' tasks still draining
        assert time.monotonic() < deadline, f"CPUs held by other work: {ray.available_resources()}"
        time.sleep(0.1)
    results = map_ordered(_waits_for_go, range(8), str(tmp_path), in_flight=4)
    try:
        assert next(results) == 0
        deadline = time.monotonic() + 30
        while ray.available_resources().get("CPU", 0) >= idle:  # the waiting tasks took CPUs
            assert time.monotonic() < deadline, "the waiting tasks never started"
            time.sleep(0.05)
        results.close()
        deadline = time.monotonic() + 30
        while ray.available_resources().get("CPU", 0) < idle:  # they were all held by waiting tasks
            assert time.monotonic() < deadline, f"tasks still hold CPUs: {ray.available_resources()}"
            time.sleep(0.1)
    finally:
        (tmp_path / "go").touch()  # ends any task still waiting, for the tests after this one


def test_mtpb_evaluate_on_ray_gives_the_local_outcomes(tmp_path, shared_data):
    from editseq.mtpb.run import MTPBEvaluateOptions, evaluate
    from tests.mtpb.test_run import write_oracle

    write_oracle(tmp_path / "m.jsonl", shared_data, ["1", "2"])  # runs that pass
    with (tmp_path / "m.jsonl").open("a") as fh:  # and runs that fail
        for c in range(5):
            fh.write(json.dumps({"problem_id": "1", "case": c, "sample": 1, "completions": ["x = 1"] * 5}) + "\n")
    outcomes = {}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        with pytest.warns(UserWarning, match="113 of 115 MTPB problems have no runs"):
            evaluate(MTPBEvaluateOptions(tmp_path / "m.jsonl", data=shared_data, backend=backend, out_dir=out, workers=2))
        outcomes[backend] = [(r["problem_id"], r["case"], r["status"]) for r in map(json.loads, (out / "m_results.jsonl").read_text().splitlines())]
    assert len(outcomes["local"]) == 15 and outcomes["ray"] == outcomes["local"]
    assert {status for *_, status in outcomes["local"]} == {"passed", "failed"}


def test_an_address_where_nothing_answers_is_refused_at_once(tmp_path):
    """Ray itself retries an unreachable head for minutes; the CLI says so in one line (a fresh
    process: this module's own local cluster is already joined)."""
    import subprocess
    import sys

    (tmp_path / "in.jsonl").write_text(json.dumps({"program": "x = 1\n"}) + "\n")
    for address in ("127.0.0.1:1", "ray://127.0.0.1:1"):
        run = subprocess.run([sys.executable, "-m", "editseq", "lintseq", str(tmp_path / "in.jsonl"),
                              str(tmp_path / "o.jsonl"), "--backend", "ray", "--address", address, "--no-progress"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 2, run.stderr[-2000:]
        assert f"error: --address {address}: nothing answers there" in run.stderr
        assert "Traceback" not in run.stderr


def test_an_address_where_something_else_answers_is_refused_at_once(tmp_path):
    """A port that accepts connections but is no Ray head (a web server, a dashboard given as
    host:port) made Ray retry for minutes, printing GCS timeouts; the CLI refuses it in one line."""
    import http.server
    import subprocess
    import sys
    import threading

    (tmp_path / "in.jsonl").write_text(json.dumps({"program": "x = 1\n"}) + "\n")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{server.server_address[1]}"
    try:
        run = subprocess.run([sys.executable, "-m", "editseq", "lintseq", str(tmp_path / "in.jsonl"),
                              str(tmp_path / "o.jsonl"), "--backend", "ray", "--address", address, "--no-progress"],
                             capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
    assert run.returncode == 2, run.stderr[-2000:]
    assert f"error: --address {address}: no Ray cluster answers there" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_sandbox_without_namespaces_on_the_nodes_is_reported_by_the_driver(tmp_path, shared_data):
    """The SandboxWarning of a node whose sandbox fell back to limits only stayed in its Ray
    worker (whose output is not sent to the driver), and the summary said only "ray"."""
    import subprocess
    import sys

    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as fh:
        problem = json.loads(fh.readline())
    (tmp_path / "s.jsonl").write_text(json.dumps({"task_id": problem["task_id"], "completion": problem["canonical_solution"]}) + "\n")
    run = subprocess.run([sys.executable, "-m", "editseq", "evaluate", str(tmp_path / "s.jsonl"), "--benchmark", "humaneval",
                          "--data", str(shared_data), "--backend", "ray", "--no-cache", "--no-progress"],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "EDITSEQ_SANDBOX_NAMESPACES": "0"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "a Ray node's sandbox" in run.stderr and "namespaces" in run.stderr
    summary = json.loads((tmp_path / "s_summary.json").read_text())
    assert summary["isolation"] == "ray (fallback)" and summary["pass@1"] == 1.0


@pytest.mark.parametrize("address", ["http://127.0.0.1:8265", "https://head.example:8265"])
def test_a_web_address_is_named_as_such(address: str) -> None:
    """Was: http://host:8265 (the dashboard, which Ray's own docs show for job submission) was
    refused as 'nothing answers there (Name or service not known)', reading 'http' as the host."""
    from editseq.config import ConfigError
    from editseq.scale.ray_backend import _check_reachable

    with pytest.raises(ConfigError, match=r"a web address .* pass the head's host:6379, or ray://host:10001"):
        _check_reachable(address)
