"""Docstring pairs: extraction, deduplication, HumanEval(+)/MBPP(+) decontamination."""

from __future__ import annotations

import ast
import gzip
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from editseq.config import ConfigError
from editseq.corpus.docstrings import DocstringsOptions, functions, mine

SOURCE = '''
import functools


@functools.cache
def scaled(values, factor=2):
    """Multiply every value by a factor and return the new list of values."""
    out = []
    for v in values:
        out.append(v * factor)
    return out


def _private(x):
    """A private helper that is long enough to be kept otherwise."""
    y = x + 1
    return y


def short_doc(x):
    """Too short."""
    y = x
    return y


def only_doc():
    """A function whose body is nothing but this long docstring here."""


def same_line(): """A docstring on the same line as the def statement."""; return 1
'''


def _install(root: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> None:
    """Write ``files`` (path under ``root``: text) and put ``root`` on ``sys.path``."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    monkeypatch.syspath_prepend(str(root))


def test_functions_drop_docstring_keep_decorator(tmp_path: Path) -> None:
    opts = DocstringsOptions(out=tmp_path / "o.jsonl")
    found = list(functions(SOURCE, opts))
    assert [name for name, *_ in found] == ["scaled"]
    _, doc, program, imports = found[0]
    assert imports == "import functools"
    assert doc.startswith("Multiply every value")
    assert program.startswith("@functools.cache\ndef scaled(values, factor=2):\n    out = []")
    assert '"""' not in program
    ast.parse(program)
    with_private = DocstringsOptions(out=tmp_path / "o.jsonl", private=True)
    assert [n for n, *_ in functions(SOURCE, with_private)] == ["scaled", "_private"]


def test_mine_dedups_and_decontaminates(tmp_path: Path, shared_data: Path, monkeypatch) -> None:
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as fh:
        first = json.loads(fh.readline())
    leaked = first["prompt"] + first["canonical_solution"]  # HumanEval/0 with its docstring
    pkg = tmp_path / "minedpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(SOURCE)
    # the same function again, indented by 2 and spaced apart: a duplicate all the same
    (pkg / "copy.py").write_text(SOURCE.replace("    ", "  ").replace("out = []\n", "out = []\n\n"))
    (pkg / "leak.py").write_text(leaked)
    # Mbpp/2 is outside MBPP's test split: only MBPP+ (and sanitized MBPP) hold it
    (pkg / "plusleak.py").write_text(
        'def similar_elements(test_tup1, test_tup2):\n'
        '    """Write a function to find the shared elements from the given two lists."""\n'
        '    shared = set(test_tup1) & set(test_tup2)\n'
        '    return tuple(set(test_tup1) & set(test_tup2))\n')
    (pkg / "py2.py").write_text('print "python 2"\n')  # counted, not silently skipped
    monkeypatch.syspath_prepend(str(tmp_path))
    opts = DocstringsOptions(out=tmp_path / "o.jsonl", packages=["minedpkg"], data=shared_data)
    records, counts = mine(opts)
    assert [r["source"] for r in records] == ["minedpkg:scaled"]
    assert counts["duplicates"] == 1 and counts["contaminated"] == 2 and counts["unparsable"] == 1
    assert records[0]["package"] == "minedpkg"
    kept_anyway, _ = mine(DocstringsOptions(out=tmp_path / "o.jsonl", packages=["minedpkg"],
                                            decontaminate=False))
    assert {r["source"] for r in kept_anyway} == {"minedpkg:scaled", "minedpkg.leak:has_close_elements",
                                                  "minedpkg.plusleak:similar_elements"}


def test_out_must_be_jsonl(tmp_path: Path) -> None:
    """Was: --out d.txt wrote JSONL to d.txt (and d.txt_summary.json), which lintseq then refused."""
    with pytest.raises(ConfigError, match=r"--out must end in \.jsonl, got '.*d\.txt'"):
        DocstringsOptions(out=tmp_path / "d.txt")


def test_packages_may_be_comma_separated(tmp_path: Path) -> None:
    """Was: --package json,csv failed as "json,csv: not installed" (--task-ids takes commas)."""
    opts = DocstringsOptions(out=tmp_path / "d.jsonl", packages=["json,csv", "textwrap"])
    assert opts.packages == ["json", "csv", "textwrap"]


@pytest.mark.parametrize("line_break", ["\x0c", "\u2028", "\x85", "\x1c"])
def test_programs_keep_their_code_whatever_splitlines_breaks_at(tmp_path: Path, line_break: str) -> None:
    # str.splitlines breaks at these and ast does not, so every later line number was off by one:
    # the program lost its def line and kept the docstring ('\n    """Return the value ...')
    outside = "\x0c" if line_break == "\x0c" else ""  # a form feed is whitespace; the rest live in text
    source = (f"import os\n{outside}\nNOTE = 'a{line_break}b'  # c{line_break}d\n\n"
              'def f(x):\n    """Return the value of x plus one, which is quite useful."""\n'
              "    y = x + 1\n    return y\n")
    [(_, _, program, imports)] = functions(source, DocstringsOptions(out=tmp_path / "o.jsonl"))
    assert (program, imports) == ("def f(x):\n    y = x + 1\n    return y", "")


def test_a_statement_on_the_docstrings_line_is_not_lost(tmp_path: Path) -> None:
    # the docstring's whole line was dropped, and with it 'y = x + 1': the program used y unbound
    source = ('def f(x):\n    """Return the value of x plus one, which is quite useful."""; y = x + 1\n'
              "    z = y\n    return z\n")
    assert list(functions(source, DocstringsOptions(out=tmp_path / "o.jsonl"))) == []


def test_a_dotted_package_whose_parent_is_missing_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # find_spec imports a dotted name's parent: was a ModuleNotFoundError traceback
    from editseq.cli import main

    assert main(["data", "docstrings", "--package", "no_such_pkg.sub", "--out", str(tmp_path / "d.jsonl")]) == 2
    assert "--package no_such_pkg.sub: not installed" in capsys.readouterr().err


def test_a_package_installed_under_a_tests_folder_is_mined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # every file of a package whose path held a 'test' or 'tests' folder (a project at ~/tests,
    # its .venv inside) was skipped as a test file: "0 files"
    from editseq.corpus.docstrings import package_files

    package = tmp_path / "tests" / "site" / "minedpkg"
    (package / "tests").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "core.py").write_text("")
    (package / "tests" / "test_core.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "tests" / "site"))
    assert [p.relative_to(package).as_posix() for _, p in package_files(["minedpkg"])] == ["__init__.py", "core.py"]


def test_a_file_two_package_names_reach_is_mined_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a name given twice, or a module of a package given too, was mined twice: its files counted
    # twice and every function of them reported as a duplicate
    pkg = tmp_path / "twicepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "core.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    opts = DocstringsOptions(out=tmp_path / "o.jsonl", packages=["twicepkg", "twicepkg.core", "twicepkg"],
                             decontaminate=False)
    records, counts = mine(opts)
    sys.modules.pop("twicepkg", None)  # imported to find twicepkg.core: not left to later tests
    assert (counts["files"], counts["functions"], counts["duplicates"]) == (2, 1, 0)
    assert [r["package"] for r in records] == ["twicepkg"]


def test_a_frozen_stdlib_module_is_mined_from_its_source(tmp_path: Path) -> None:
    # Python 3.11+ freezes os, codecs, posixpath into the interpreter (spec origin "frozen"): was "0 files"
    from editseq.corpus.docstrings import package_files

    assert [p.name for _, p in package_files(["posixpath"])] == ["posixpath.py"]


def test_a_package_without_python_source_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # a compiled module (math) mined nothing and the run ended well: "0 files"
    from editseq.cli import main

    assert main(["data", "docstrings", "--package", "math", "--out", str(tmp_path / "d.jsonl")]) == 2
    assert "--package math: no Python source to mine" in capsys.readouterr().err
    assert not (tmp_path / "d.jsonl").exists()


def test_a_benchmark_function_with_its_docstring_reworded_is_contaminated(
        tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # HumanEval/53 (add) under another docstring was kept: with the docstring removed its signature
    # meets its body, a 13-gram of neither the prompt nor the solution
    pkg = tmp_path / "rewordpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        'def add(x: int, y: int):\n'
        '    """Return the sum of the two given integers, as a plain int value."""\n'
        '\n'
        '    return x + y\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    opts = DocstringsOptions(out=tmp_path / "o.jsonl", packages=["rewordpkg"], min_lines=2, data=shared_data)
    records, counts = mine(opts)
    assert (records, counts["contaminated"]) == ([], 1)


def test_files_in_an_encoding_python_reads_are_mined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # were read as plain UTF-8: a latin-1 file with its coding line counted unreadable, one starting
    # with a UTF-8 byte-order mark unparsable
    body = '    """Return the price with the tax of this café added, as a float."""\n    rate = 1.2\n    return x * rate\n'
    pkg = tmp_path / "encodedpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "latin.py").write_bytes(("# -*- coding: latin-1 -*-\ndef taxed(x):\n" + body).encode("latin-1"))
    (pkg / "bom.py").write_bytes(("def priced(x):\n" + body.replace("café", "shop")).encode("utf-8-sig"))
    monkeypatch.syspath_prepend(str(tmp_path))
    records, counts = mine(DocstringsOptions(out=tmp_path / "o.jsonl", packages=["encodedpkg"], decontaminate=False))
    assert (counts["unreadable"], counts["unparsable"]) == (0, 0)
    assert sorted(r["source"] for r in records) == ["encodedpkg.bom:priced", "encodedpkg.latin:taxed"]
    assert any("café" in r["instruction"] for r in records)


@pytest.mark.parametrize("given", [[""], [" , "], ["", ""]])
def test_a_package_option_naming_nothing_is_refused(tmp_path: Path, given: list[str]) -> None:
    # meant the default, the whole standard library (an empty $PKG in --package "$PKG")
    with pytest.raises(ConfigError, match="names no package"):
        DocstringsOptions(out=tmp_path / "o.jsonl", packages=given)
    assert DocstringsOptions(out=tmp_path / "o.jsonl").packages == []


def test_a_program_imports_what_its_function_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # programs held the function alone: 459 of the standard library's 935 used a name the module
    # imports (os, re, np) unbound, so a model trained on them learnt to call modules it never imports
    _install(tmp_path, monkeypatch, {
        "importpkg/__init__.py": "",
        "importpkg/sub/__init__.py": "def helper(x):\n    return x\n",
        "importpkg/sub/core.py":
        'from __future__ import annotations\n'
        'import os, sys\n'
        'import json as js\n'
        'import xml.etree.ElementTree\n'
        'from collections import OrderedDict, defaultdict as dd, Counter\n'
        'from . import helper\n'
        'from ..sub import helper as again\n'
        'try:\n'
        '    import textwrap\n'
        'except ImportError:\n'
        '    textwrap = None\n'
        '\n'
        '\n'
        'def load(path: os.PathLike) -> dict:\n'
        '    """Load a JSON file at the given path into an ordered dict of its keys."""\n'
        '    with open(os.path.join(path, "x.json")) as fh:\n'
        '        data = js.load(fh, object_pairs_hook=OrderedDict)\n'
        '    counts = dd(int, tree=xml.etree.ElementTree.fromstring("<a/>"))\n'
        '    return helper(again(textwrap.dedent(data)))\n'
        '\n'
        '\n'
        'def plain(x):\n'
        '    """Add one to the given value and return the result of the addition."""\n'
        '    y = x + 1\n'
        '    return y\n'})
    records, _ = mine(DocstringsOptions(out=tmp_path / "o.jsonl", packages=["importpkg"], decontaminate=False))
    programs = {r["source"]: r["program"] for r in records}
    assert programs["importpkg.sub.core:load"] == (
        'from __future__ import annotations\n'
        'import os\n'
        'import json as js\n'
        'import xml.etree.ElementTree\n'
        'from collections import OrderedDict, defaultdict as dd\n'
        'from importpkg.sub import helper\n'
        'from importpkg.sub import helper as again\n'
        'import textwrap\n'
        '\n'
        '\n'
        'def load(path: os.PathLike) -> dict:\n'
        '    with open(os.path.join(path, "x.json")) as fh:\n'
        '        data = js.load(fh, object_pairs_hook=OrderedDict)\n'
        '    counts = dd(int, tree=xml.etree.ElementTree.fromstring("<a/>"))\n'
        '    return helper(again(textwrap.dedent(data)))')
    # no annotation: the __future__ import changes nothing there
    assert programs["importpkg.sub.core:plain"] == "def plain(x):\n    y = x + 1\n    return y"
    exec(compile(programs["importpkg.sub.core:load"], "load", "exec"), {})  # every import resolves


def test_the_blank_lines_after_a_docstring_go_with_it(tmp_path: Path) -> None:
    # they set the docstring off from the code; left behind, 138 of the standard library's 935
    # programs opened their body with a blank line, which the model learnt to write after every def
    source = ('def f(x):\n    """Add two to the given value and return the result of the addition."""\n'
              "\n  \n    # the comment stays\n    y = x + 2\n\n    return y\n")
    [(_, _, program, _)] = functions(source, DocstringsOptions(out=tmp_path / "o.jsonl"))
    assert program == "def f(x):\n    # the comment stays\n    y = x + 2\n\n    return y"


def test_a_vendored_copy_of_another_version_is_a_duplicate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # only whitespace-equal programs were duplicates: pip._vendor.requests' cookiejar_from_dict and
    # requests' (one line apart) and 400 more such copies on the installed packages were all kept
    func = ('def merge(a, b):\n'
            '    """Merge the settings of b into those of a, b winning where both are set."""\n'
            '    out = dict(a)\n'
            '    out.update(b)\n'
            '    return out\n')
    for name, text in (("origpkg", func), ("vendorpkg", func.replace("dict(a)", "a.copy()"))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    opts = DocstringsOptions(out=tmp_path / "o.jsonl", packages=["origpkg", "vendorpkg"], decontaminate=False)
    records, counts = mine(opts)
    assert [r["source"] for r in records] == ["origpkg:merge"]
    assert (counts["functions"], counts["duplicates"], counts["kept"]) == (2, 1, 1)


def test_a_docstring_example_sharing_only_data_with_a_benchmark_is_kept(tmp_path: Path, shared_data: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # a 13-gram of literals and punctuation alone ('[1, 2, 3, 4, 5, 6' of HumanEval/126's prompt)
    # made a pair contaminated: 286 of the 364 dropped from the installed packages and the standard
    # library (numpy's roll, networkx's bfs_tree), none a benchmark's code; one now holds names too
    pkg = tmp_path / "datapkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("""def rotate(values, k):
    \"\"\"Rotate the values by k places to the right.

    >>> rotate([1, 2, 3, 4, 5, 6, 7], 2)
    [6, 7, 1, 2, 3, 4, 5]
    \"\"\"
    k %= len(values)
    return values[-k:] + values[:-k]
""")
    monkeypatch.syspath_prepend(str(tmp_path))
    records, counts = mine(DocstringsOptions(out=tmp_path / "o.jsonl", packages=["datapkg"], data=shared_data))
    assert ([r["source"] for r in records], counts["contaminated"]) == (["datapkg:rotate"], 0)


def test_a_file_too_deep_for_the_parser_is_counted_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ast.parse raises RecursionError on a long enough expression (a generated table, say): the
    # whole run ended in a traceback, every other file's pairs lost
    pkg = tmp_path / "deeppkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("x = 1" + " + 1" * 200_000 + "\n")
    (pkg / "core.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    not_read: list[dict[str, str]] = []
    records, counts = mine(DocstringsOptions(out=tmp_path / "o.jsonl", packages=["deeppkg"], decontaminate=False),
                           not_read=not_read)
    assert [r["source"] for r in records] == ["deeppkg.core:scaled"]
    assert counts["unparsable"] == 1 and not_read[0]["reason"].startswith("RecursionError: ")


def test_documented_functions_the_options_leave_out_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # "943 documented functions" said the standard library, which documents 1,762 top-level ones:
    # those the options leave out (private, short docstrings, sizes) were counted nowhere
    pkg = tmp_path / "filterpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    _, counts = mine(DocstringsOptions(out=tmp_path / "o.jsonl", packages=["filterpkg"], decontaminate=False))
    # _private, short_doc, only_doc (no code) and same_line (docstring on the def's line) are out
    assert (counts["documented"], counts["filtered"], counts["functions"], counts["kept"]) == (5, 4, 1, 1)


def test_self_contained_keeps_only_programs_binding_every_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # imports come along, but 706 of the standard library's 935 programs still use a module's own
    # constant or helper that they do not hold: --self-contained keeps the ones that run as they are
    pkg = tmp_path / "boundpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "import math\n\nLIMIT = 10\n\n\n"
        'def capped(x):\n    """Cap the given value at the module limit and return the result."""\n'
        "    y = min(x, LIMIT)\n    return y\n\n\n"
        'def root(x):\n    """Return the square root of the given value, rounded down to an int."""\n'
        "    y = math.sqrt(x)\n    return int(y)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for self_contained, kept in ((False, ["boundpkg:capped", "boundpkg:root"]), (True, ["boundpkg:root"])):
        opts = DocstringsOptions(out=tmp_path / "o.jsonl", packages=["boundpkg"], decontaminate=False,
                                 self_contained=self_contained)
        records, counts = mine(opts)
        assert [r["source"] for r in records] == kept
        assert counts["not_self_contained"] == 2 - len(kept) and counts["functions"] == 2


def test_a_relative_import_in_the_function_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the module's relative imports were resolved, the function's own were left as they were:
    # 188 programs of the installed packages (PIL's Image.new: from . import ImageColor) failed
    # standing alone with "attempted relative import with no known parent package"
    _install(tmp_path, monkeypatch, {
        "relpkg/__init__.py": "def helper(x):\n    return x\n",
        "relpkg/sub/__init__.py": "",
        "relpkg/sub/core.py": 'def load(x):\n    """Load the given value through the helpers of the package above."""\n'
                              "    from .. import helper\n    from ..sub.core import load as again\n"
                              "    if x:  # from . import nothing\n        from .import core\n    return helper(x)\n"})
    records, _ = mine(DocstringsOptions(out=tmp_path / "o.jsonl", packages=["relpkg"], decontaminate=False))
    assert records[0]["program"] == (
        "def load(x):\n    from relpkg import helper\n    from relpkg.sub.core import load as again\n"
        "    if x:  # from . import nothing\n        from relpkg.sub import core\n    return helper(x)")


def test_a_name_the_function_binds_itself_brings_no_import(tmp_path: Path) -> None:
    # every name read in the function counted, its own locals too: 243 programs of the installed
    # packages headed by an import the function shadows (accelerate's model_info = verify(...)),
    # which pyflakes reports imported but unused
    source = ("import re\nimport os\nfrom hub import model_info\nimport json\n\n\n"
              'def check(name):\n    """Check the given model name on the hub and say what it is."""\n'
              "    import re\n    model_info = re.sub('x', '', name)\n"
              "    def inner():\n        json = 1\n        return json\n"
              "    return model_info, os.sep, json.dumps(inner())\n")
    [(_, _, _, imports)] = functions(source, DocstringsOptions(out=tmp_path / "o.jsonl"))
    assert imports == "import os\nimport json"


def test_the_original_of_a_vendored_copy_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the first copy mined was kept: with pip named before requests, pip._vendor.requests' 45
    # functions were kept and requests' own dropped as duplicates, the programs importing from
    # pip._vendor.urllib3; vendored files are now mined after all others
    func = ('import os\n\n\ndef merge(a, b):\n'
            '    """Merge the settings of b into those of a, b winning where both are set."""\n'
            '    out = dict(a, sep=os.sep)\n    out.update(b)\n    return out\n')
    _install(tmp_path, monkeypatch, {"apkg/__init__.py": "", "apkg/_vendor/__init__.py": "",
                                     "apkg/_vendor/merging.py": func, "apkg/core.py": func.replace("erge", "use"),
                                     "merging/__init__.py": func})
    opts = DocstringsOptions(out=tmp_path / "o.jsonl", packages=["apkg", "merging"], decontaminate=False)
    records, counts = mine(opts)
    assert [r["source"] for r in records] == ["apkg.core:muse", "merging:merge"] and counts["duplicates"] == 1


def test_an_import_fallback_brings_the_module_that_exists(tmp_path: Path) -> None:
    # of two imports binding a name the later in the file was taken (xml.dom.minidom alone, so
    # xml.etree was unbound in a program using both), or of a try/except fallback the first, the
    # Python 2 cPickle, which no Python 3 has
    source = ("try:\n    import cPickle as pickle\nexcept ImportError:\n    import pickle\n"
              "import xml.etree.ElementTree\nimport xml.dom.minidom\n\n\n"
              'def f(x):\n    """Dump the value with pickle and read it back as two kinds of xml."""\n'
              "    y = pickle.dumps(x)\n    return xml.dom.minidom.parseString(y), xml.etree.ElementTree.XML(y)\n")
    [(_, _, _, imports)] = functions(source, DocstringsOptions(out=tmp_path / "o.jsonl"))
    assert imports == "import pickle\nimport xml.etree.ElementTree\nimport xml.dom.minidom"
    # but only those it uses: http.cookiejar's request_host uses urllib.parse, not urllib.request
    [(_, _, _, imports)] = functions(source.replace(", xml.etree.ElementTree.XML(y)", ""),
                                     DocstringsOptions(out=tmp_path / "o.jsonl"))
    assert imports == "import pickle\nimport xml.dom.minidom"


def test_a_docstring_decoding_to_a_lone_surrogate_is_left_out(tmp_path: Path) -> None:
    # its escape ('\udc80' in a docstring on surrogateescape) became the instruction's character,
    # which editseq train sft refuses, so one such pair stopped training on the whole file
    source = ('def f(x):\n    """Decode bytes the way surrogateescape does, b\'\\\\x80\' becoming \'\\udc80\'."""\n'
              "    y = x.decode('utf-8', 'surrogateescape')\n    return y\n")
    counts: Counter = Counter()
    assert list(functions(source, DocstringsOptions(out=tmp_path / "o.jsonl"), counts=counts)) == []
    assert (counts["documented"], counts["filtered"]) == (1, 1)
