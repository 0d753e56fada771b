"""The one ``editseq`` command line.

Each subcommand lives in a small module of this package and is a thin wrapper over a library
function. Exit codes: 0 done; 1 failed (nothing usable came out, such as a LintSeq run that
converted no record, or a traceback: a bug, or something no check foresaw); 2 bad input or
options (one ``error:`` line that names the problem and the fix); 130 interrupted. Commands
whose finished work outlives an interruption are built as ``Resumable``, and only they tell the
user that a rerun resumes.
"""

from __future__ import annotations

import errno
import importlib
import signal
import sys
import warnings

import click

from editseq import __version__
from editseq.config import ConfigError
from editseq.io.records import InputError
from editseq.models.loading import ModelError

# what a command reports as "error: ..." with exit 2: bad options or input, models that cannot be
# found or loaded, and files or folders that cannot be read or written (a read-only --out, a
# folder where a file belongs)
USER_ERRORS: tuple[type[Exception], ...] = (ConfigError, InputError, ModelError, OSError)

_PYTHON_FORMAT = warnings.formatwarning

# subcommand name -> "module:attribute"; modules import their heavy dependencies lazily.
COMMANDS = {
    "lintseq": "editseq.cli.lintseq_cmd:lintseq",
    "evaluate": "editseq.cli.evaluate_cmd:evaluate",
    "sample": "editseq.cli.sample_cmd:sample_command",
    "data": "editseq.cli.data_cmd:data",
    "mtpb": "editseq.cli.mtpb_cmd:mtpb",
    "report": "editseq.cli.report_cmd:report",
    "train": "editseq.cli.train_cmd:train",
}


_KEEPS_WORK = "editseq.keeps_work"  # click context meta: does this run keep its finished work?
_RERUN = "editseq.rerun"  # click context meta: which rerun continues it
_SAYS = "editseq.says"  # click context meta: what an interruption says instead (``abort_says``)
SAME_COMMAND = "the same command"


class Interrupted(click.exceptions.Abort):
    """Ctrl-C (or an abort) during a ``Resumable`` command; ``resumes``: a rerun (``rerun``)
    continues its work."""

    def __init__(self, resumes: bool, rerun: str = SAME_COMMAND, says: str | None = None) -> None:
        super().__init__()
        self.resumes = resumes
        self.rerun = rerun
        self.says = says


class Resumable(click.Command):
    """A command whose finished work survives an interruption, so rerunning it continues.

    A command whose options can turn that off (``--no-cache``) says so with ``keeps_work``.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Abort, KeyboardInterrupt) as exc:
            raise Interrupted(ctx.meta.get(_KEEPS_WORK, True), ctx.meta.get(_RERUN, SAME_COMMAND),
                              ctx.meta.get(_SAYS)) from exc


def keeps_work(kept: bool = True, *, overwrite: bool = False) -> None:
    """Say, from inside a ``Resumable`` command, whether this run keeps its finished work
    (``False`` for ``--no-cache``) and whether it was started with ``--overwrite`` (then the same
    command would start over again: the rerun that continues it leaves that out), so an
    interruption is reported truthfully."""
    meta = click.get_current_context().meta
    meta[_KEEPS_WORK], meta[_RERUN] = kept, ("it without --overwrite" if overwrite else SAME_COMMAND)


def abort_says(text: str) -> None:
    """Say, from inside a ``Resumable`` command being interrupted, what a rerun does in words of
    its own, after "Aborted.": where work is kept only at points (training's checkpoints), "finished
    work is kept" would claim what was done since the last one, or all of it before the first."""
    click.get_current_context().meta[_SAYS] = text


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        """click's, with its "Did you mean ...?" for a mistyped command: click draws the
        suggestions from ``self.commands``, which a lazy group leaves empty."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            raise click.exceptions.NoSuchCommand(exc.command_name, possibilities=COMMANDS, ctx=ctx) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="editseq")
def cli() -> None:
    """editseq: teach code language models to write programs by editing.

    \b
    Pipeline:
      editseq data      installed sources -> (instruction, program) pairs (docstrings)
      editseq lintseq   programs -> LintSeq edit sequences (training data)
      editseq train     finetune (sft, program or edit-sequence data) or pretrain a tiny code LM
      editseq sample    model + benchmark prompts -> samples (programs or edit sequences)
      editseq evaluate  samples -> sandboxed verdicts, pass@k (HumanEval(+), MBPP(+))
      editseq mtpb      CodeGen's multi-turn benchmark: sample, evaluate, perplexity
      editseq report    results, MTPB results, LintSeq data -> report.html (+ JSON/CSV)
    Run `editseq COMMAND --help` for the options of each step.
    """


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (0 done, 2 bad input or options; see the module)."""
    plain = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        rv = cli.main(args=argv, prog_name="editseq", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        click.echo(abort_message(exc), err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except USER_ERRORS as exc:
        click.echo(f"error: {_describe(exc)}", err=True)
        return 2
    finally:
        warnings.formatwarning = plain
    return int(rv or 0)


def abort_message(exc: BaseException) -> str:
    """What an interruption says: that a rerun resumes only where the command keeps its work."""
    if isinstance(exc, Interrupted) and exc.says:
        return f"Aborted. {exc.says}"
    if isinstance(exc, Interrupted) and exc.resumes:
        return f"Aborted. Rerun {exc.rerun} to resume: finished work is kept."
    return "Aborted."


def _describe(exc: Exception) -> str:
    """A user error as one line; the OS's own errors name the path and what it is (Python's
    "[Errno 17] File exists: 'x'" leaves the reader to guess which path is wrong)."""
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        hints = {errno.EEXIST: " (a file where a folder is needed?)", errno.EISDIR: " (a folder where a file is needed)",
                 errno.ENOTDIR: " (a file where a folder is needed)", errno.EACCES: " (no permission)"}
        return f"{exc.filename}: {exc.strerror.lower()}{hints.get(exc.errno or 0, '')}"
    return str(exc)


def _format_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                    line: str | None = None) -> str:
    """Our notices (UserWarning: unscored tasks, sandbox fallback) as one plain line; others,
    such as libraries' deprecations, as Python prints them."""
    if issubclass(category, UserWarning):
        return f"warning: {message}\n"
    return _PYTHON_FORMAT(message, category, filename, lineno, line)


def run() -> None:
    """Console-script entry: exit with ``main``'s code. An interrupted run has stopped its work and
    said so by then; a Ctrl-C pressed again while Python shuts down (its atexit handlers join
    threads and processes) would kill it by SIGINT, exit status -2 instead of 130, as Python
    restores SIGINT's default action as it finalizes: the signal is ignored from there on."""
    code = main()
    if code == 130:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
