"""Options from config files: typed like flags, clear errors for bad files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from editseq.config import ConfigError, build, option


@dataclass
class Opts:
    samples: int = option(1, help="")
    timeout: float = option(2.0, help="")
    overwrite: bool = option(False, help="")
    name: str | None = option(None, help="")
    linter: Literal["fast", "pylint"] = option("fast", help="")
    packages: list[str] = option([], help="")  # noqa: RUF009
    out: Path | None = option(None, help="")  # noqa: RUF009
    max_lines: int = option(5, help="")


def from_file(tmp_path: Path, text: str, suffix: str = ".yaml", **flags: object) -> Opts:
    path = tmp_path / f"c{suffix}"
    path.write_text(text, encoding="utf-8")
    return build(Opts, flags, path)


def test_values_take_the_fields_types(tmp_path: Path) -> None:
    opts = from_file(tmp_path, 'samples: "3"\ntimeout: 1\noverwrite: "no"\nname: null\nlinter: pylint\n'
                               "packages: click\nout: runs/x.jsonl\n")
    assert (opts.samples, opts.timeout, opts.overwrite, opts.name) == (3, 1.0, False, None)
    assert (opts.linter, opts.packages, opts.out) == ("pylint", ["click"], Path("runs/x.jsonl"))
    assert from_file(tmp_path, "overwrite: yes\n").overwrite is True
    # ids YAML types as numbers (MBPP's task ids) are the ids' text; was "expected a list of strings"
    assert from_file(tmp_path, "packages: [11, b]\n").packages == ["11", "b"]
    assert from_file(tmp_path, "packages: 11\n").packages == ["11"]  # one id alone: was "expected a list"
    assert from_file(tmp_path, "samples: 4\n", samples=7).samples == 7  # a flag given wins
    # keys spelled as the flags are
    assert from_file(tmp_path, "max-lines: 7\n").max_lines == 7


def test_a_large_integer_is_kept_exactly(tmp_path: Path) -> None:
    # was read through float(): a seed of 12345678901234567891 became 12345678901234567168
    assert from_file(tmp_path, "samples: 12345678901234567891\n").samples == 12345678901234567891
    assert from_file(tmp_path, 'samples: "12345678901234567891"\n').samples == 12345678901234567891
    assert from_file(tmp_path, '{"samples": 12345678901234567891}', ".json").samples == 12345678901234567891
    assert from_file(tmp_path, 'samples: "1e3"\n').samples == 1000


def test_a_home_folder_in_a_path_option_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: ``out: ~/runs/x`` in a config file (or ``--out=~/x``, which the shell leaves alone)
    made a folder named ``~`` in the working folder."""
    @dataclass
    class WithModel:
        model: str = option("", help="", path=True)
        name: str = option("", help="")

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert from_file(tmp_path, "out: ~/runs/x.jsonl\n").out == tmp_path / "home" / "runs" / "x.jsonl"
    assert build(Opts, {"out": Path("~/y.jsonl")}).out == tmp_path / "home" / "y.jsonl"
    opts = build(WithModel, {"model": "~/m", "name": "~/m"})
    assert (opts.model, opts.name) == (str(tmp_path / "home" / "m"), "~/m")  # only paths are expanded
    assert build(WithModel, {"model": "smollm2-135m"}).model == "smollm2-135m"
    # a list of paths too (report's INPUTS): `inputs: [~/a.jsonl]` was looked for under ./~
    from editseq.report.build import ReportOptions

    (tmp_path / "r.yaml").write_text("inputs: [~/a.jsonl, b.jsonl]\n")
    assert build(ReportOptions, {}, tmp_path / "r.yaml").inputs == [tmp_path / "home" / "a.jsonl", Path("b.jsonl")]


@pytest.mark.parametrize(("text", "message"), [
    ('overwrite: "maybe"\n', "overwrite: expected bool"),
    ('samples: "two"\n', "samples: expected int"),
    ("samples: 2.5\n", "samples: expected int"),
    ("samples: null\n", "samples: a value is required"),
    ("samples: true\n", "samples: expected int"),
    ("timeout: [1]\n", "timeout: expected float"),
    ("timeout: .inf\n", "timeout: expected float, got inf"),
    ("timeout: .nan\n", "timeout: expected float, got nan"),
    ("linter: flake9\n", "linter: expected one of ['fast', 'pylint']"),
    ("packages: [1.5, 2]\n", "packages: expected a list of strings"),
    ("packages: [true]\n", "packages: expected a list of strings"),
    ("packages: {a: 1}\n", "packages: expected a list of strings"),
    ("samples: [\n", "not valid YAML"),
    ("- a\n- b\n", "must hold a mapping"),
    ("colour: red\n", "unknown option(s) ['colour']"),
])
def test_bad_values_and_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_file(tmp_path, text)
    assert message in str(err.value) and "c.yaml" in str(err.value)


def test_a_float_flag_must_be_finite(tmp_path: Path, capsys) -> None:
    """Was: click took "inf" and "nan", and ``lintseq --timeout inf`` ended in a worker's traceback."""
    from editseq.cli import main

    (tmp_path / "in.jsonl").write_text('{"program": "x = 1\\n"}\n')
    for value in ("inf", "nan", "-inf"):
        assert main(["lintseq", str(tmp_path / "in.jsonl"), str(tmp_path / "out.jsonl"), "--timeout", value]) == 2
        assert f"Invalid value for '--timeout': {value!r} is not a finite number" in capsys.readouterr().err
    assert not (tmp_path / "out.manifest.json").exists()


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    # YAML and JSON readers kept the last value: samples: 2 was dropped without a word
    with pytest.raises(ConfigError, match=r"c.yaml: 'samples' given more than once"):
        from_file(tmp_path, "samples: 2\ntimeout: 1\nsamples: 3\n")
    with pytest.raises(ConfigError, match=r"c.json: 'samples' given more than once"):
        from_file(tmp_path, '{"samples": 2, "samples": 3}', suffix=".json")
    assert from_file(tmp_path, "samples: 2\n").samples == 2


def test_a_yaml_suffix_in_capitals_is_yaml(tmp_path: Path) -> None:
    # was read as JSON: "not valid JSON (Expecting value at line 1, column 1)"
    assert from_file(tmp_path, "samples: 2\n", suffix=".YAML").samples == 2


def test_bad_json_and_bytes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid JSON .* line 1, column 2"):
        from_file(tmp_path, "{samples: 2}", suffix=".json")
    with pytest.raises(ConfigError, match=r"not valid JSON \(Unterminated string starting at line 1, column 2\)"):
        from_file(tmp_path, '{"samples: 2}', suffix=".json")  # was "starting at at line 1"
    (tmp_path / "b.yaml").write_bytes(b"samples: \xff\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        build(Opts, {}, tmp_path / "b.yaml")


def test_a_typed_flag_wins_over_the_file_even_at_its_default(tmp_path: Path) -> None:
    import json

    from editseq.cli import main

    (tmp_path / "in.jsonl").write_text(json.dumps({"program": "x = 1\nprint(x)\n"}) + "\n")
    (tmp_path / "c.yaml").write_text("samples: 3\nseed: 5\n")
    args = ["lintseq", str(tmp_path / "in.jsonl"), "--config", str(tmp_path / "c.yaml"), "--no-progress"]
    assert main([*args, str(tmp_path / "a.jsonl"), "--samples", "1"]) == 0
    settings = json.loads((tmp_path / "a.manifest.json").read_text())["settings"]
    assert settings["samples"] == 1 and settings["seed"] == 5  # typed flag at its default; file's seed
    assert main([*args, str(tmp_path / "b.jsonl")]) == 0
    assert json.loads((tmp_path / "b.manifest.json").read_text())["settings"]["samples"] == 3


def test_null_workers_in_a_config_file_means_all_cores(tmp_path: Path) -> None:
    from editseq.evaluate.run import EvaluateOptions

    (tmp_path / "e.yaml").write_text("workers: null\n")
    assert build(EvaluateOptions, {"samples": tmp_path / "s.jsonl"}, tmp_path / "e.yaml").workers == 0


def test_run_settings_name_files_by_content_and_folders_by_place(tmp_path: Path, monkeypatch) -> None:
    from editseq.config import run_settings

    @dataclass
    class Run:
        data: str = option("", help="", path=True)
        model: str = option("", help="", path=True)
        out: Path = option(Path("o.jsonl"), help="")  # noqa: RUF009
        n: int = 1

    (tmp_path / "d.jsonl").write_text('{"a": 1}\n')
    (tmp_path / "m").mkdir()
    monkeypatch.chdir(tmp_path)
    here = run_settings(Run("d.jsonl", "m"), ["out"])
    assert here == run_settings(Run(str(tmp_path / "m/../d.jsonl"), str(tmp_path / "m")), ["out"])
    assert here["data"].startswith("sha256:") and here["model"] == str(tmp_path / "m") and "out" not in here
    assert run_settings(Run("org/name", "smollm2-135m")) == {  # not local paths: kept as given
        "data": "org/name", "model": "smollm2-135m", "out": "o.jsonl", "n": 1}
    assert run_settings(Run("d.jsonl"), ["out"], data="sha256:given")["data"] == "sha256:given"
    (tmp_path / "d.jsonl").write_text('{"a": 2}\n')  # an edited input is another run
    assert run_settings(Run("d.jsonl", "m"), ["out"])["data"] != here["data"]


def test_only_path_options_count_by_what_they_name(tmp_path: Path, monkeypatch) -> None:
    """A text option that happens to match a file or folder in the working folder stays text."""
    from editseq.config import run_settings

    @dataclass
    class Run:
        data: str = option("", help="", path=True)
        split: str = option("train", help="")
        out: Path = option(Path("o.jsonl"), help="")  # noqa: RUF009

    (tmp_path / "train").mkdir()
    (tmp_path / "o.jsonl").write_text("x\n")
    monkeypatch.chdir(tmp_path)
    settings = run_settings(Run("train", "train"))
    assert settings["data"] == str(tmp_path / "train") and settings["split"] == "train"
    assert settings["out"].startswith("sha256:")  # typed Path: a path option
    assert run_settings(Run("x" * 300))["data"] == "x" * 300  # too long to be a path: kept


def test_a_manifest_from_before_paths_counted_by_content_still_resumes(tmp_path: Path) -> None:
    import json

    from editseq.io.outputs import claim_output

    @dataclass
    class Run:
        input: str = option("", help="", path=True)
        n: int = 1

    out, manifest = tmp_path / "o.jsonl", tmp_path / "o.manifest.json"
    manifest.write_text(json.dumps({"settings": {"input": "in.jsonl", "n": 1}}))
    out.write_text('{"a": 1}\n')
    now = {"input": "sha256:abc", "n": 1}
    claim_output(out, manifest, now, overwrite=False, options=Run("in.jsonl"))
    assert json.loads(manifest.read_text())["settings"] == now  # rewritten in the current form
    with pytest.raises(ConfigError, match=r"input: \"in.jsonl\" then"):
        manifest.write_text(json.dumps({"settings": {"input": "in.jsonl", "n": 1}}))
        claim_output(out, manifest, now, overwrite=False, options=Run("other.jsonl"))


def test_config_keys_as_flags_and_comma_lists(tmp_path: Path) -> None:
    @dataclass
    class Cmd:
        packages: list[str] = option([], help="", flag="--package")  # noqa: RUF009
        k: str = option("", help="", comma=True)
        name: str = option("", help="")

    path = tmp_path / "c.yaml"
    path.write_text("package: [a, b]\nk: [1, 10]\n")
    assert (build(Cmd, {}, path).packages, build(Cmd, {}, path).k) == (["a", "b"], "1,10")
    path.write_text("name: [a, b]\n")  # a plain text option is not a list
    with pytest.raises(ConfigError, match="name: expected str"):
        build(Cmd, {}, path)
    path.write_text("k: 1\nk-: 2\n".replace("k-", "packages") + "package: [c]\n")
    # named only the second key: "(as 'package' too)", not the 'packages' it clashed with
    with pytest.raises(ConfigError, match=r"option 'packages' is given twice \(as 'packages' and 'package'\)"):
        build(Cmd, {}, path)


def test_every_missing_required_option_is_named_at_once(tmp_path: Path) -> None:
    from editseq.train.sft import SFTOptions

    with pytest.raises(ConfigError, match=r"3 required options are missing .*--output-dir: folder.*--model: base model.*--data: training data"):
        build(SFTOptions, {})
    config = tmp_path / "sft.yaml"
    config.write_text("model: smollm2-135m\n")
    with pytest.raises(ConfigError, match=r"2 required options are missing \(flags, or keys of .*sft.yaml\): --output-dir.*--data"):
        build(SFTOptions, {}, config)
    with pytest.raises(ConfigError, match="--data is required"):  # one: the class's own message
        build(SFTOptions, {"output_dir": tmp_path / "o"}, config)


def test_a_choice_is_taken_in_any_case_and_recorded_canonically(tmp_path: Path, capsys) -> None:
    """Was: ``--benchmark HumanEval`` (or ``MBPP+``, as the benchmarks are written) was refused;
    choices are now matched in any case, flag or config file, and kept in their canonical form,
    the form manifests and summaries record."""
    from editseq.cli import main

    assert from_file(tmp_path, "linter: Pylint\n").linter == "pylint"
    with pytest.raises(ConfigError, match="expected one of"):
        from_file(tmp_path, "linter: pylnt\n")
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return False\\n"}\n')
    with pytest.warns(UserWarning, match="have no samples"):  # 163 of 164 tasks
        assert main(["evaluate", str(samples), "--benchmark", "HumanEval", "--workers", "1", "--no-progress"]) == 0
    summary = (tmp_path / "s_summary.json").read_text()
    assert '"benchmark": "humaneval"' in summary
