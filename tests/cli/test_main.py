import importlib
import re
import warnings

import click
import pytest

from editseq.cli import COMMANDS, Resumable, _format_warning, cli, main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_each_command_has_teaching_help(capsys):
    for name in COMMANDS:
        assert main([name, "--help"]) == 0
        out = capsys.readouterr().out
        assert "Usage: editseq " + name in out and "--" in out


def test_every_optional_value_option_says_its_default():
    """Was: `editseq sample --help` showed no default for --min-p, --limit, --task-ids (nor lintseq
    for --instruction-field, mtpb perplexity for --results/--json-out): click shows none for None."""
    silent = [f"{name} {p.opts[0]}" for name, command in _leaf_commands().items() for p in command.params
              if isinstance(p, click.Option) and not p.is_flag and p.name != "config_file"
              and p.default in (None, "", ()) and not any(w in (p.help or "") for w in ("default", "[required]"))]
    assert silent == []


def test_option_help_names_only_options_of_its_command():
    """Was: `editseq mtpb evaluate --help` said --overwrite replaced results "judged under other
    settings (--stop, --timeout, ...)", the text of `editseq evaluate`'s option: mtpb evaluate has
    neither option, and no settings it refuses over. Another command's flags are named with it
    (`'editseq sample --format editseq'`)."""
    stray = [f"{name} {p.opts[0]}: {flag}" for name, command in _leaf_commands().items() for p in command.params
             if isinstance(p, click.Option)
             for flag in re.findall(r"--[a-z][a-z0-9-]*", re.sub(r"'editseq [^']*'|`editseq [^`]*`", "", p.help or ""))
             if flag not in {o for q in command.params for o in q.opts + q.secondary_opts}]
    assert stray == []


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "Error: No such command 'no-such-command'.\n" in capsys.readouterr().err
    # was: no suggestion at the top level (its subcommands are imported lazily), where `editseq
    # mtpb evalute` had click's
    assert main(["evalute", "x.jsonl"]) == 2
    assert "Error: No such command 'evalute'. Did you mean 'evaluate'?" in capsys.readouterr().err


def test_notices_print_as_one_plain_line():
    assert _format_warning(UserWarning("158 of 164 tasks are not scored"), UserWarning, "/x/run.py", 99,
                           "summary = summarize()") == "warning: 158 of 164 tasks are not scored\n"
    other = _format_warning(DeprecationWarning("old name"), DeprecationWarning, "/x/lib.py", 3, "f()")
    assert "DeprecationWarning: old name" in other and "/x/lib.py:3" in other  # libraries' as Python prints them
    before = warnings.formatwarning
    assert main(["--version"]) == 0
    assert warnings.formatwarning is before  # the CLI's format does not outlive the command


def test_an_unusable_output_path_is_an_error_not_a_traceback(tmp_path, capsys, shared_data):
    """A file where a folder belongs: exit 2 naming the path, for every command that writes."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "    return True\\n"}\n')
    for argv in (["evaluate", str(samples), "--out-dir", str(blocker / "x")],
                 ["lintseq", str(samples), str(blocker / "o.jsonl"), "--program-field", "completion"],
                 ["data", "docstrings", "--package", "json", "--out", str(blocker / "d.jsonl")]):
        assert main(argv) == 2, argv
        assert f"error: {blocker}" in capsys.readouterr().err  # the path, not "[Errno 20] ..."
    # and a folder where a file belongs: nothing left behind beside it
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    assert main(["data", "docstrings", "--package", "json", "--out", str(folder), "--overwrite"]) == 2
    assert f"error: {folder}: is a directory (a folder where a file is needed)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder.jsonl", "s.jsonl"]


def _leaf_commands(group: click.Group = cli, prefix: str = "") -> dict[str, click.Command]:
    ctx = click.Context(group)
    found: dict[str, click.Command] = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found.update(_leaf_commands(command, f"{prefix}{name} "))
        elif command is not None:
            found[prefix + name] = command
    return found


def test_only_commands_that_keep_their_work_are_resumable():
    resumable = {name for name, c in _leaf_commands().items() if isinstance(c, Resumable)}
    assert resumable == {"lintseq", "sample", "evaluate", "mtpb sample", "mtpb evaluate", "train sft",
                         "train pretrain"}
    assert {"report", "data docstrings", "mtpb perplexity"} <= set(_leaf_commands()) - resumable


def _interrupt(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


RESUMES = "Aborted. Rerun the same command to resume: finished work is kept.\n"
RESUMES_WITHOUT = "Aborted. Rerun it without --overwrite to resume: finished work is kept.\n"  # it would start over


@pytest.mark.parametrize(("argv", "target", "said"), [
    (["mtpb", "evaluate", "{samples}"], "editseq.mtpb.run.evaluate", RESUMES),
    (["mtpb", "evaluate", "{samples}", "--no-cache"], "editseq.mtpb.run.evaluate", "Aborted.\n"),
    (["mtpb", "evaluate", "{samples}", "--config", "{no_cache}"], "editseq.mtpb.run.evaluate", "Aborted.\n"),
    (["evaluate", "{samples}"], "editseq.evaluate.run.evaluate", RESUMES),
    (["evaluate", "{samples}", "--no-cache"], "editseq.evaluate.run.evaluate", "Aborted.\n"),
    (["mtpb", "perplexity", "--model", "m"], "editseq.mtpb.perplexity.prepare", "Aborted.\n"),
    (["report", "{samples}"], "editseq.cli.report_cmd.build_report", "Aborted.\n"),
    (["lintseq", "{samples}", "{out}"], "editseq.cli.lintseq_cmd.run_lintseq", RESUMES),
    (["lintseq", "{samples}", "{out}", "--overwrite"], "editseq.cli.lintseq_cmd.run_lintseq", RESUMES_WITHOUT),
    (["mtpb", "sample", "--model", "m", "--out", "{out}"], "editseq.mtpb.sample.prepare", RESUMES),
    (["mtpb", "sample", "--model", "m", "--out", "{out}", "--overwrite"], "editseq.mtpb.sample.prepare",
     RESUMES_WITHOUT),
])
def test_an_interruption_says_a_rerun_resumes_only_where_it_does(tmp_path, monkeypatch, capsys, argv,
                                                                   target, said):
    samples, no_cache = tmp_path / "s.jsonl", tmp_path / "no_cache.yaml"
    samples.write_text("")
    no_cache.write_text("cache: false\n")
    module, attr = target.rsplit(".", 1)
    monkeypatch.setattr(importlib.import_module(module), attr, _interrupt)
    argv = [a.format(samples=samples, no_cache=no_cache, out=tmp_path / "out.jsonl") for a in argv]
    assert main(argv) == 130
    assert capsys.readouterr().err.endswith(said)
