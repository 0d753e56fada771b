from editseq.cli import COMMANDS, main


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
