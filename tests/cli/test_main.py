import warnings

from editseq.cli import COMMANDS, _format_warning, main


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


def test_unknown_command_is_a_usage_error():
    assert main(["no-such-command"]) == 2


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
    folder = tmp_path / "folder"
    folder.mkdir()
    assert main(["data", "docstrings", "--package", "json", "--out", str(folder), "--overwrite"]) == 2
    assert f"error: {folder}: is a directory (a folder where a file is needed)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder", "s.jsonl"]
