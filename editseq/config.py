"""Command options as dataclasses: one definition gives the CLI flags, YAML/JSON configs and checks.

Each field carries its help text in ``metadata["help"]`` (documented once), an optional
``metadata["flag"]`` naming the flag, and ``metadata["argument"] = True`` for positional
arguments. Checks live in the dataclass's ``__post_init__`` and raise ``ConfigError``.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from editseq.io.identity import file_sha256
from editseq.io.records import json_problem
from editseq.text import one_line

T = TypeVar("T")


class ConfigError(ValueError):
    """An option has a bad value; the message names the option and the fix."""


def option(default: Any = dataclasses.MISSING, help: str = "", **meta: Any) -> Any:
    """A dataclass field with help text and optional metadata: ``flag=`` (its flag's name),
    ``argument=True`` (positional), ``required=True`` (said in --help; checked by the class),
    ``path=True`` (text naming a file or folder: see ``run_settings``), ``comma=True`` (a
    comma-separated list, which a config file may also write as a list)."""
    metadata = {"help": help, **meta}
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def parse_ks(text: str) -> list[int]:
    """The k of a comma-separated pass@k option (``1,10,100``), sorted, each at least 1."""
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError as exc:
        raise ConfigError(f"--k must be comma-separated integers like 1,10,100, got {text!r}") from exc
    if any(k < 1 for k in ks):
        raise ConfigError(f"--k values must be at least 1, got {text!r}")
    return ks


def _is_int(value: Any) -> bool:
    """An integer as YAML/JSON give it (``true`` is a bool there, though Python's bool is an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _base_type(tp: Any) -> tuple[Any, bool]:
    """Strip ``Optional``; return (type, is_optional)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


class _FiniteFloat(click.ParamType):
    """A float flag. Click's own also takes "nan" and "inf", which no option means and few checks
    catch (a comparison with nan is false): ``--timeout inf`` crashed lintseq's workers with a
    traceback, ``--lr inf`` and ``--weight-decay nan`` trained a model into NaN weights."""

    name = "float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def _click_type(tp: Any) -> Any:
    if typing.get_origin(tp) is typing.Literal:
        # HumanEval, MBPP+, Pylint: names are often typed as they are written; the choice given back is the canonical one
        return click.Choice([str(a) for a in typing.get_args(tp)], case_sensitive=False)
    return {int: int, float: _FiniteFloat(), str: str, Path: click.Path(path_type=Path), bool: bool}.get(tp, str)


def jsonl_out(value: str | Path) -> Path:
    """An ``--out`` file as a Path, refused unless it ends in .jsonl: the commands that read such
    an output (lintseq, train sft, evaluate, mtpb evaluate) take no other kind of file."""
    path = Path(value)
    if path.suffix != ".jsonl":
        raise ConfigError(f"--out must end in .jsonl, got {str(path)!r}")
    return path


def click_options(cls: type) -> typing.Callable[[typing.Callable], typing.Callable]:
    """Decorate a click command with one option (or argument) per dataclass field.

    The command's own fields come first in ``--help``, in the order its class declares them
    (a field it redeclares with its own default too), those it inherits (shared option groups
    such as ``scale.ScaleOptions``) after them.
    """
    hints = typing.get_type_hints(cls)
    own = list(inspect.get_annotations(cls))
    ordered = sorted(dataclasses.fields(cls), key=lambda f: own.index(f.name) if f.name in own else len(own))

    def decorate(fn: typing.Callable) -> typing.Callable:
        for f in reversed(ordered):
            tp, _ = _base_type(hints[f.name])
            meta = f.metadata
            default = _default_of(f)
            default = None if default is dataclasses.MISSING else default
            if meta.get("argument") and typing.get_origin(tp) in (list, tuple):
                # any number; none given leaves them to a config file (the class checks the count)
                inner = typing.get_args(tp)[0] if typing.get_args(tp) else str
                fn = click.argument(f.name, type=_click_type(inner), nargs=-1, required=False)(fn)
                continue
            if meta.get("argument"):
                fn = click.argument(f.name, type=_click_type(tp), required=default is None, default=default)(fn)
                continue
            flag = meta.get("flag", "--" + f.name.replace("_", "-"))
            # checked in __post_init__, not by click: a config file may give the value
            help_text = meta.get("help", "") + ("  [required]" if meta.get("required") else "")
            if tp is bool:
                fn = click.option(f"{flag}/--no-{flag[2:]}", f.name, default=default, show_default=True, help=help_text)(fn)
            elif typing.get_origin(tp) in (list, tuple):
                inner = typing.get_args(tp)[0] if typing.get_args(tp) else str
                fn = click.option(flag, f.name, type=_click_type(inner), multiple=True,
                                  default=tuple(default or ()), show_default=True, help=help_text)(fn)
            else:
                fn = click.option(flag, f.name, type=_click_type(tp), default=default,
                                  show_default=default not in (None, ""), help=help_text)(fn)
        return fn

    return decorate


config_file_option = click.option(
    "--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
    help="YAML/JSON file of these options (keys as the flags without --); flags given on the command line win, and paths in it are read from the working folder, as flags are.")
"""The ``--config FILE`` option every command built from an options dataclass takes."""


def build(cls: type[T], values: dict[str, Any], config_file: Path | None = None) -> T:
    """Make a ``cls`` from a config file (YAML or JSON) overlaid with explicit values.

    A file setting yields only to a flag that was typed on the command line (even one typed with
    its default value); outside a click command, to any value that differs from the default.
    """
    merged: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if config_file is not None:
        merged.update(_file_keys(load_config_file(config_file), fields, config_file))
    names = set(fields)
    unknown = sorted(set(merged) - names)
    if unknown:
        raise ConfigError(f"{config_file}: unknown option(s) {unknown}; valid options are {sorted(names)}")
    hints = typing.get_type_hints(cls)
    for key, value in merged.items():
        merged[key] = _coerce(value, hints[key], f"{config_file}: {key}", fields[key].metadata.get("comma", False))
    ctx = click.get_current_context(silent=True)

    def typed(key: str, value: Any) -> bool:
        if ctx is not None and key in ctx.params:
            source = ctx.get_parameter_source(key)
            return source not in (click.core.ParameterSource.DEFAULT, click.core.ParameterSource.DEFAULT_MAP)
        return not _is_default(cls, key, value)

    for key, value in values.items():
        if key not in names:
            continue
        if isinstance(value, tuple):
            value = list(value)
        if config_file is not None and key in merged and not typed(key, value):
            continue
        merged[key] = value
    for key in _path_fields(cls) & merged.keys():  # the shell expands ~ only in some places (not in files, not after =)
        merged[key] = _expand_home(merged[key])
    _check_required(fields, merged, config_file)
    return cls(**merged)


def _path_fields(cls: type) -> set[str]:
    """Options that name files or folders: typed ``Path`` or ``list[Path]`` (report's INPUTS), or
    marked ``option(..., path=True)``."""
    hints = typing.get_type_hints(cls)
    return {f.name for f in dataclasses.fields(cls)
            if f.metadata.get("path") or _base_type(hints[f.name])[0] in (Path, list[Path])}


def _expand_home(value: Any) -> Any:
    """``value`` (or each item of a list) with a leading ``~`` made the home folder."""
    if isinstance(value, list):
        return [_expand_home(v) for v in value]
    if isinstance(value, (str, Path)) and str(value).startswith("~"):
        return type(value)(Path(value).expanduser())
    return value


def _check_required(fields: dict[str, dataclasses.Field], values: dict[str, Any], config_file: Path | None) -> None:
    """Name every missing ``required`` option at once, with its help (the class's own checks would
    name them one per run)."""
    missing = [f for name, f in fields.items() if f.metadata.get("required") and values.get(name) in (None, "", [], ())]
    if len(missing) > 1:
        where = " (flags, or keys of --config)" if config_file is None else f" (flags, or keys of {config_file})"
        listed = "; ".join(f"{_flag(f)}: {f.metadata.get('help', '')}" for f in missing)
        raise ConfigError(f"{len(missing)} required options are missing{where}: {listed}")


def _flag(f: dataclasses.Field) -> str:
    return f.name.upper() if f.metadata.get("argument") else f.metadata.get("flag", "--" + f.name.replace("_", "-"))


def _file_keys(raw: dict[str, Any], fields: dict[str, dataclasses.Field], path: Path) -> dict[str, Any]:
    """A config file's keys as field names: each may be spelled as the field (``program_field``)
    or as its flag (``program-field``, a custom ``flag=``); two spellings of one option are refused."""
    spelled = {}
    for name, f in fields.items():
        for alias in (name, name.replace("_", "-"), str(f.metadata.get("flag", "")).lstrip("-")):
            if alias:
                spelled[alias] = name
    out: dict[str, Any] = {}
    keys: dict[str, str] = {}  # field name -> the key that gave it, to name both spellings
    for key, value in raw.items():
        name = spelled.get(str(key), str(key))  # unknown keys stay, and are reported by the caller
        if name in out:
            raise ConfigError(f"{path}: option {name!r} is given twice (as {keys[name]!r} and {key!r}); keep one")
        out[name], keys[name] = value, str(key)
    return out


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def _coerce(value: Any, hint: Any, where: str, comma: bool = False) -> Any:
    """A config file's value as the field's type, or ConfigError: files are not typed like flags
    are (``overwrite: "no"`` must not mean yes, ``samples: "two"`` must not reach the code)."""
    tp, optional = _base_type(hint)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{where}: a value is required (got null)")
    wrong = ConfigError(f"{where}: expected {getattr(tp, '__name__', tp)}, got {value!r}")
    if typing.get_origin(tp) is typing.Literal:
        choices = [str(a) for a in typing.get_args(tp)]
        canonical = {c.lower(): c for c in choices}.get(str(value).lower())
        if canonical is None:
            raise ConfigError(f"{where}: expected one of {choices}, got {value!r}")
        return canonical
    if typing.get_origin(tp) in (list, tuple):
        # YAML types bare numbers: MBPP's ``task-ids: [11, 12]`` means the ids "11" and "12", ``task-ids: 11`` the id "11"
        items = [value] if isinstance(value, str) or _is_int(value) else value
        if not isinstance(items, list) or not all(isinstance(v, str) or _is_int(v) for v in items):
            raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
        return [str(v) for v in items]
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise wrong
    if comma and isinstance(value, list) and all(isinstance(v, str) or _is_int(v) for v in value):
        return ",".join(map(str, value))  # a comma-separated option written as a list (``k: [1, 10]``)
    if isinstance(value, (bool, list, dict)):
        raise wrong
    try:
        if tp is int:
            if _is_int(value) or (isinstance(value, str) and value.strip().lstrip("+-").isdigit()):
                return int(value)  # exactly: float() rounds integers past 2**53 (a seed: 12345678901234567891)
            number = float(value)  # "1e3", "1_000", 2.0
            if not number.is_integer():
                raise wrong
            return int(number)
        if tp is float:
            number = float(value)
            if not math.isfinite(number):  # YAML's .inf and .nan, JSON's Infinity and NaN, "inf"
                raise wrong
            return number
    except (TypeError, ValueError) as exc:
        raise wrong from exc
    if tp is Path:
        return Path(str(value))
    return str(value)


def _default_of(f: dataclasses.Field) -> Any:
    """A field's default (its factory called), or ``dataclasses.MISSING``."""
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _is_default(cls: type, name: str, value: Any) -> bool:
    return _default_of(next(f for f in dataclasses.fields(cls) if f.name == name)) == value


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a YAML (needs PyYAML) or JSON config file into a dict."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if Path(path).suffix.lower() in (".yaml", ".yml"):  # sft.YAML too, not parsed as JSON
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover - depends on environment
            raise ConfigError(f"{path}: YAML configs need PyYAML: pip install pyyaml") from exc
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            if isinstance(node, yaml.MappingNode):
                _unique([(str(key.value), value) for key, value in node.value], path)
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({one_line(exc)})") from exc
    else:
        try:
            data = json.loads(text, object_pairs_hook=lambda pairs: _unique(pairs, path))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({json_problem(exc, line=True)})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must hold a mapping of option names to values")
    return data


def _unique(pairs: list[tuple[str, Any]], path: Path) -> dict[str, Any]:
    """A mapping of a config file as a dict, or ConfigError for a key it gives twice: YAML and
    JSON readers keep the last value and drop the first without a word."""
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ConfigError(f"{path}: {', '.join(map(repr, repeated))} given more than once; keep one")
    return dict(pairs)


def defaults(cls: type) -> dict[str, Any]:
    """A config dataclass's field defaults, JSON-ready like ``to_dict`` (fields without one left out)."""
    out = {}
    for f in dataclasses.fields(cls):
        default = _default_of(f)
        if default is not dataclasses.MISSING:
            out[f.name] = str(default) if isinstance(default, Path) else default
    return out


def run_settings(cfg: Any, leave_out: Iterable[str] = (), **identity: Any) -> dict[str, Any]:
    """What a resumed run must share with the run that started its output (``io.outputs.claim_output``).

    Every option of ``cfg`` but ``leave_out`` (what only changes how long, where or how fast).
    Options that name files or folders (typed ``Path``, or marked ``option(..., path=True)``)
    count by what they name: a local file by its content (sha256), so ``./x.jsonl`` and
    ``runs/../x.jsonl`` match and an edited input does not; a local folder by its absolute path
    only (which of its files count is the caller's to know: one that reads them adds their
    ``io.identity.files_identity`` through ``identity``, as `editseq train` and `lintseq` do). Other text
    options stay as given, whatever lies in the working folder. ``identity`` adds, or replaces,
    what the caller knows better (a benchmark's data fingerprint, whichever folder it was found in).
    """
    paths = _path_fields(type(cfg))
    settings = {}
    for key, value in to_dict(cfg).items():
        if key in leave_out:
            continue
        settings[key] = _local_identity(value) if key in paths and isinstance(value, str) and value else value
    return {**settings, **identity}


def _local_identity(value: str) -> str:
    """``sha256:<digest>`` of a local file, the absolute path of a local folder, else ``value``
    (an alias, a hub name, a URL)."""
    path = Path(value).expanduser()
    try:
        if path.is_file():
            return "sha256:" + file_sha256(path)
        if path.is_dir():
            return str(path.resolve())
    except OSError:  # a name too long to be a path, say
        pass
    return value


def to_dict(cfg: Any) -> dict[str, Any]:
    """JSON-ready dict of a config dataclass (paths, also in lists, as strings)."""
    out = {}
    for key, value in dataclasses.asdict(cfg).items():
        if isinstance(value, list):
            value = [str(v) if isinstance(v, Path) else v for v in value]
        out[key] = str(value) if isinstance(value, Path) else value
    return out
