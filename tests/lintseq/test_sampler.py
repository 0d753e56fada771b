import random
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from editseq.lintseq.analysis import ProgramError
from editseq.lintseq.diffs import apply_edit_path, edit_path_from_steps, split_lines
from editseq.lintseq.sampler import EditSampler, SamplerConfig, derive_seed

from .programs import check_sequence, programs, states

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(programs(), st.integers(0, 2**32), st.sampled_from(["indent", "uniform"]))
def test_states_are_clean_and_path_is_lossless(program, seed, choice):
    sampler = EditSampler(program, SamplerConfig(choice=choice))
    steps = sampler.sample(random.Random(seed))
    lines = sampler.lines
    assert all(steps), "every step deletes at least one line"
    assert sorted(i for s in steps for i in s) == list(range(len(lines))), "each line deleted once"
    assert apply_edit_path(edit_path_from_steps(lines, steps)) == split_lines(program)
    check_sequence(lines, steps, pyflakes=False)


def test_commented_code_after_a_line_separator_stays_commented():
    """str.splitlines breaks at U+2028, which Python does not: the print would become live code."""
    program = 'x = 1  # a\u2028print("pwned")\ny = x\n'
    sampler = EditSampler(program)
    assert sampler.lines == ['x = 1  # a\u2028print("pwned")', "y = x"]
    steps = sampler.sample(random.Random(0))
    assert apply_edit_path(edit_path_from_steps(sampler.lines, steps)) == sampler.lines


@SETTINGS
@given(programs(dels=False), st.integers(0, 2**32))
# pyflakes misses the full program's `await c` before `c = 0` (see undefined_in_functions)
@example("from __future__ import annotations\nasync def a():\n    await c\n    a = [c for a in range(3)]\n    c = 0\n\na = 0\n\na = 0\n\nc = a", 0)
def test_states_have_no_new_pyflakes_errors(program, seed):
    sampler = EditSampler(program)
    check_sequence(sampler.lines, sampler.sample(random.Random(seed)), pyflakes=True)


@SETTINGS
@given(programs(), st.integers(0, 2**32))
def test_strict_mode_states_are_clean_of_all_errors(program, seed):
    sampler = EditSampler(program, SamplerConfig(strict=True))
    steps = sampler.sample(random.Random(seed))
    from .programs import fast_errors

    for kept in states(len(sampler.lines), steps)[1:]:
        assert not fast_errors(sampler.lines, kept)


@pytest.fixture(scope="module")
def pylint_linter():
    from editseq.lintseq.pylint_linter import PylintLinter

    return PylintLinter()


@settings(SETTINGS, max_examples=5)  # pylint lints each state: a few programs, each a second or less
@given(programs(), st.integers(0, 2**32), st.booleans())
def test_pylint_in_the_loop_states_have_no_pylint_error_the_program_lacks(pylint_linter, program, seed, strict):
    """The paper's setting on generated programs (nested blocks, backslash joins, declarations):
    no state has a pylint error that the full program lacks (strict: none at all)."""
    from editseq.lintseq.diffs import join_lines

    sampler = EditSampler(program, SamplerConfig(linter="pylint", strict=strict), pylint_linter)
    lines = sampler.lines
    full = set() if strict else {(f.line - 1, f.code) for f in pylint_linter.lint(join_lines(lines))}
    steps = sampler.sample(random.Random(seed))
    for kept in states(len(lines), steps)[1:-1]:
        found = {(kept[f.line - 1], f.code) for f in pylint_linter.lint(join_lines(lines[i] for i in kept))}
        assert found <= full, join_lines(lines[i] for i in kept)
    assert apply_edit_path(edit_path_from_steps(lines, steps)) == split_lines(program)


def test_same_seed_same_sequence_and_seeds_differ_by_key():
    program = "import os\n\ndef f(a):\n    b = a + 1\n    if b:\n        return os.sep\n    return b\n\nprint(f(1))\n"
    sampler = EditSampler(program)
    runs = [sampler.sample(random.Random(derive_seed(7, "k", 0))) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
    assert len({derive_seed(7, "k", 0), derive_seed(7, "k", 1), derive_seed(7, "j", 0), derive_seed(8, "k", 0)}) == 4
    assert derive_seed(7, "12", 3) != derive_seed(7, "1", 23)  # record 12's sample 3 is not record 1's 23rd


@pytest.mark.parametrize("bad", [{"choice": "weighted"}, {"max_lint_rounds": 0}])
def test_bad_sampler_settings_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        SamplerConfig(**bad)


def test_deletion_closure_follows_dependencies():
    program = "x = 1\ny = x + 1\nprint(y)\n"
    sampler = EditSampler(program)
    # whichever line goes first, deleting x = 1 must take y and print(y) with it
    for seed in range(30):
        steps = sampler.sample(random.Random(seed))
        first_with_x = next(s for s in steps if 0 in s)
        assert {1, 2} <= set(first_with_x) | {i for s in steps[: steps.index(first_with_x)] for i in s}


def test_block_structure_is_kept():
    program = "try:\n    a = 1\nexcept ValueError:\n    a = 2\nelse:\n    b = 3\nfinally:\n    c = 4\nprint(c)\n"
    sampler = EditSampler(program)
    for seed in range(50):
        check_sequence(sampler.lines, sampler.sample(random.Random(seed)))


def test_a_use_broken_in_the_full_program_goes_with_its_outer_bindings_not_one_of_them():
    """Not strict (the reference): ``print(x)`` before the local ``x = 2`` is an error already,
    relaxed to "some outer x is bound", so deleting ``x = 1`` alone leaves it (strict: it goes)."""
    sampler = EditSampler("x = 1\nx = 3\ndef f():\n    print(x)\n    x = 2\n")
    assert any(sampler.sample(random.Random(seed))[0] == [0] for seed in range(60))


def test_pylint_in_the_loop_deletes_what_breaks_and_keeps_what_was_broken():
    """With a real linter after each deletion: deleting ``y = 1`` takes ``print(y)``; the full
    program's own finding (the undefined name) deletes nothing (not strict)."""
    sampler = EditSampler("x = undefined_name\ny = 1\nprint(y)\n", SamplerConfig(linter="pylint"))
    runs = [sampler.sample(random.Random(seed)) for seed in range(5)]
    assert [2] in [steps[0] for steps in runs]  # print(y) alone: line 0 stays, broken as before
    for steps in runs:
        for kept in states(len(sampler.lines), steps)[1:]:
            assert 1 in kept or 2 not in kept


def test_random_deletion_ablation_ignores_names():
    program = "x = 1\ny = x + 1\nprint(y)\n"
    sampler = EditSampler(program, SamplerConfig(linter="none"))
    sizes = {tuple(len(s) for s in sampler.sample(random.Random(seed))) for seed in range(40)}
    assert (1, 1, 1) in sizes  # one line per step: undefined names are allowed to remain


@pytest.mark.parametrize("program", ["", "   \n\n", "def f(:\n  pass", "return 1"])
def test_unusable_programs_raise(program):
    with pytest.raises(ProgramError):
        EditSampler(program)


def test_comment_only_program_is_one_edit():
    sampler = EditSampler("# just a comment\n\n# another")
    steps = sampler.sample(random.Random(0))
    assert steps == []
    path = edit_path_from_steps(sampler.lines, steps)
    assert len(path) == 1 and apply_edit_path(path) == sampler.lines


@pytest.mark.parametrize(("choice", "deep_weight", "total", "comment"), [
    ("indent", 2, 16, ""), ("uniform", 1, 13, ""),
    ("indent", 2, 16, "  # an indented comment does not set the indent width\n"),
])
def test_line_choice_weights(choice: str, deep_weight: int, total: int, comment: str) -> None:
    """The first deletion picks a line with probability proportional to its weight: the
    indentation in units of the program's indent width ("indent", the reference; 1 at the top
    level) or 1 ("uniform"). Eight unused top-level lines and three lines two levels deep (each
    deletable alone) make the two choices differ: 6/16 vs 3/13 for a deep line."""
    program = "".join(f"z{i} = {i}\n" for i in range(8)) + comment + "if True:\n    if True:\n        c = 3\n        d = 4\n        e = 5\n"
    sampler = EditSampler(program, SamplerConfig(choice=choice))
    runs = 4000
    firsts = [sampler.sample(random.Random(seed))[0] for seed in range(runs)]
    at = 10 + len(split_lines(comment))
    for lines, weight in ((range(at, at + 3), 3 * deep_weight), (range(8), 8)):
        p = weight / total
        hits = sum(len(f) == 1 and f[0] in lines for f in firsts)
        assert abs(hits / runs - p) < 4 * (p * (1 - p) / runs) ** 0.5, (choice, list(lines), hits)


@pytest.mark.parametrize(
    ("program", "line"),
    [
        # the iterable names the function's own ``os``, assigned on that very line: unbound there
        ("import os\n\ndef f(b):\n    os = [x for x in os]\n    return os\n", 4),
        # a lambda in the first iterable sees the enclosing scope, not the comprehension's ``c``
        ("ys = [c for c in (lambda: c)()]\n", 1),
    ],
)
def test_first_iterable_of_a_comprehension_is_evaluated_in_the_enclosing_scope(program, line):
    """Python (and pyflakes) evaluate a comprehension's first iterable outside the comprehension;
    resolving it inside hid these errors, so deleting ``os = b`` or ``c = 1`` left them behind."""
    from editseq.lintseq.analysis import FastLinter

    assert line in {f.line for f in FastLinter().lint(program)}
    full = "import os\n\ndef f(b):\n    os = b\n    os = [x for x in os]\n    return os\n"
    sampler = EditSampler(full)
    for seed in range(40):
        for kept in states(len(sampler.lines), sampler.sample(random.Random(seed)))[1:]:
            assert 3 in kept or 4 not in kept  # os = [... in os] (line 4) never outlives os = b (line 3)


@pytest.mark.parametrize(
    "program",
    [
        "import token\n__all__ = token.__all__ + ['gone']\n",  # tokenize.py's form
        "__all__ = ['os'] + ['gone']\nimport os\n",
        "__all__ = []\n__all__ += ['gone']\n",
        "__all__: list = ('a',) + ('gone',)\na = 1\n",
    ],
)
def test_names_exported_by_list_concatenation_and_augmented_all_are_uses(program):
    """pyflakes reads ``__all__`` from list concatenations and ``+=`` too (its ExportBinding);
    only plain lists were read, so deleting ``def tokenize`` from tokenize.py kept
    ``"tokenize"`` in its ``__all__ = token.__all__ + [...]``."""
    from editseq.lintseq.analysis import FastLinter

    assert [f.message for f in FastLinter().lint(program)] == ["undefined name 'gone' in __all__"]
    full = "def f():\n    pass\n__all__ = []\n__all__ += ['x'] + ['f']\nx = 1\n"
    sampler = EditSampler(full)
    for seed in range(40):
        for kept in states(len(sampler.lines), sampler.sample(random.Random(seed)))[1:]:
            assert 0 in kept or 3 not in kept  # the export of f never outlives def f


def test_nonlocal_finds_its_binding_through_a_class_body():
    """``nonlocal`` skips class bodies to the enclosing function (as unittest's and asyncio's
    tests use it); the search stopped at the class, so the binding counted as missing in the full
    program, never caused deletions, and deleting ``x = 0`` left a state that does not compile."""
    from editseq.lintseq.analysis import FastLinter

    program = "def f():\n    x = 0\n    class C:\n        def m(self):\n            nonlocal x\n            x = 1\n    return C\n"
    assert FastLinter().lint(program) == []
    sampler = EditSampler(program)
    for seed in range(40):
        for kept in states(len(sampler.lines), sampler.sample(random.Random(seed)))[1:]:
            assert 1 in kept or 4 not in kept  # nonlocal x never outlives x = 0
            compile("\n".join(sampler.lines[i] for i in kept), "<state>", "exec")


def test_global_and_nonlocal_in_a_class_body_declare_the_name():
    """A class body's ``global x`` and ``nonlocal x`` declare ``x`` as a function's do (Python
    and pyflakes alike); they were skipped. So ``x = 0`` could go before ``nonlocal x``, a state
    that does not compile, and ``print(x)`` after ``global x`` counted as an undefined name of the
    full program, so it outlived the declaration, a state pyflakes flags."""
    from editseq.lintseq.analysis import FastLinter

    nonlocal_ = "def f():\n    x = 0\n    class C:\n        nonlocal x\n        x = 1\n    return C\n"
    global_ = "class A:\n    global x\n    x = 1\nprint(x)\n"
    for program, binding, use in ((nonlocal_, 1, 3), (global_, 1, 3)):
        assert FastLinter().lint(program) == []
        sampler = EditSampler(program)
        for seed in range(40):
            steps = sampler.sample(random.Random(seed))
            for kept in states(len(sampler.lines), steps)[1:]:
                assert binding in kept or use not in kept
            check_sequence(sampler.lines, steps)


def test_a_class_bodys_global_inside_a_handler_of_the_same_name_defines_nothing_later():
    """pyflakes binds a ``global b`` at module level only where ``b`` is unbound there; in a class
    body under ``except ... as b`` it is bound, and the handler's end unbinds it: a function's
    ``b`` then needs ``b = 1``, but the declaration counted as defining it, so the function
    outlived ``b = 1`` (found by the generated programs)."""
    program = "try:\n    pass\nexcept Exception as b:\n    class B:\n        global b\ndef f():\n    return b\nb = 1\n"
    sampler = EditSampler(program)
    for seed in range(20):
        steps = sampler.sample(random.Random(seed))
        for kept in states(len(sampler.lines), steps)[1:]:
            assert 7 in kept or 6 not in kept  # return b never outlives b = 1
        check_sequence(sampler.lines, steps)


@pytest.mark.parametrize(
    "program",
    [
        "def f():\n    e = None\n    try:\n        pass\n    except Exception as e:\n        del e\n    return e\n",
        "e = None\ntry:\n    pass\nexcept Exception as e:\n    del e\ndef g():\n    return e\n",
    ],
)
def test_del_of_an_except_name_ends_with_its_handler(program):
    """After ``except ... as e`` pyflakes restores the binding ``e`` had before the handler, even
    when the handler ``del``s ``e``; the ``del`` hid it for good, so ``return e`` counted as an
    error of the full program, never caused deletions, and outlived ``e = None``."""
    from editseq.lintseq.analysis import FastLinter

    assert FastLinter().lint(program) == []
    sampler = EditSampler(program)
    lines = sampler.lines
    binding, use = lines.index(next(x for x in lines if "e = None" in x)), len(lines) - 1
    for seed in range(40):
        for kept in states(len(lines), sampler.sample(random.Random(seed)))[1:]:
            assert binding in kept or use not in kept


def test_a_syntax_error_without_a_line_is_reported_without_one():
    """Python gives no line for a null byte; the error report read '... null bytes (line None)'."""
    with pytest.raises(ProgramError, match="null bytes") as info:
        EditSampler("a = '\x00'\n")
    assert "None" not in str(info.value)


def test_a_backslash_joins_lines_into_one_unit_outside_comments_and_strings():
    """``a = 1; \\`` and ``b = 2`` are one logical line though the AST ends the first statement on
    the first line: deleting ``b = 2`` alone left ``a = 1; \\`` joined to the line after it (or to
    nothing: a syntax error). A backslash ending a comment or inside a string joins nothing."""
    program = "a = 1; \\\nb = 2\nc = 3  # no join \\\nd = '''x\\\ny'''\nprint(a, b, c, d)\n"
    line_unit = EditSampler(program).structure.line_unit
    assert line_unit[0] == line_unit[1]
    assert len({line_unit[1], line_unit[2], line_unit[3], line_unit[5]}) == 4
    assert line_unit[3] == line_unit[4]  # the string's own lines


@pytest.mark.parametrize("decorator", ["@staticmethod", "@(\n        staticmethod\n    )"])
def test_a_decorated_first_method_is_not_part_of_its_class_header(decorator):
    """The AST starts a decorated ``def`` at ``def``, so a class whose first method is decorated
    (``@property``, ``@staticmethod``) took the decorator into its header: deleting that method, or
    only its decorator, deleted the whole class in one step."""
    program = f"class A:\n    {decorator}\n    def x():\n        return 1\n    def y(self):\n        return 2\n"
    sampler = EditSampler(program)
    lines = sampler.lines
    line_unit = sampler.structure.line_unit
    assert line_unit[0] != line_unit[1]
    method = set(range(1, lines.index("    def y(self):")))  # its decorator, header and body
    class_kept = 0
    for seed in range(20):
        steps = sampler.sample(random.Random(seed))
        class_kept += 0 not in next(step for step in steps if method & set(step))
        check_sequence(lines, steps)
    assert class_kept > 5  # the method (or its decorator) is deleted and the class stays


@pytest.mark.parametrize("program", ["def d(f):\n    return f\n@(\n    d\n)\ndef f():\n    pass\nprint(f)\n",
                                     "def d(f):\n    return f\n@(d\n)\n@(\n  d)\nclass A:\n    pass\n"])
def test_a_parenthesised_decorator_over_several_lines_is_one_unit(program):
    """``@(`` ... ``)`` (any expression, since Python 3.9): the AST ends the decorator inside its
    parentheses, so the closing line joined the next decorator or the ``def``, and deleting that
    left the parenthesis unclosed, or deleting the decorator left it unmatched."""
    sampler = EditSampler(program)
    for seed in range(20):
        check_sequence(sampler.lines, sampler.sample(random.Random(seed)))


@pytest.mark.parametrize("program", ["x = 1\nif x:\n    pass\nelse \\\n:\n    y = 2\n    pass\n",
                                     "try:\n    pass\nfinally\\\n   :\n    y = 2\n    pass\n"])
def test_else_and_finally_continued_onto_the_next_line_are_found(program):
    """``else \\`` then ``:`` on the next line is valid Python; the clause's line was looked for as
    ``else:`` alone, and the program was refused with "ValueError: no 'else' line"."""
    compile(program, "<program>", "exec")
    sampler = EditSampler(program)
    for seed in range(20):
        check_sequence(sampler.lines, sampler.sample(random.Random(seed)))


@pytest.mark.parametrize("future", ["", "from __future__ import annotations\n"])
def test_names_inside_an_annotations_literal_are_uses(future):
    """pyflakes reads ``Literal[E.A]``'s contents as values, not types, but reads them: the names
    there are uses. They were skipped, so ``def f(x: Literal[E.A])`` outlived ``class E`` (found
    on anyio's lowlevel.py)."""
    program = future + "import enum\nfrom typing import Literal\nclass E(enum.Enum):\n    A = 1\ndef f(x: Literal[E.A]) -> None:\n    pass\n"
    sampler = EditSampler(program)
    lines = sampler.lines
    cls, use = lines.index("class E(enum.Enum):"), lines.index("def f(x: Literal[E.A]) -> None:")
    for seed in range(20):
        steps = sampler.sample(random.Random(seed))
        for kept in states(len(lines), steps)[1:]:
            assert cls in kept or use not in kept
        check_sequence(lines, steps)


def test_an_annotateds_metadata_is_no_annotation():
    """``Annotated[int, "meta"]``: pyflakes reads the metadata as values, so the string is no
    forward reference; it was read as one, an undefined name ``meta`` that strict mode deleted."""
    from editseq.lintseq.analysis import FastLinter

    program = "from typing import Annotated\nclass M:\n    pass\nx: Annotated[int, 'meta', M()] = 1\n"
    assert FastLinter().lint(program) == []
    assert [f.message for f in FastLinter().lint(program.replace("class M:\n    pass\n", ""))] == ["undefined name 'M'"]


def test_deleting_the_future_import_takes_only_the_annotations_that_need_it():
    """Without ``from __future__ import annotations`` an annotation is read where it stands: it
    needs only names bound before it. Every postponed annotation required the import, so deleting
    it deleted every annotated function, ``def f(p: os.PathLike) -> int`` too; only a forward
    reference (``-> B`` before ``class B``) must go with it. String annotations never need it."""
    program = ("from __future__ import annotations\nimport os\ndef f(p: os.PathLike) -> int:\n    return 1\n"
               "def g(x: 'B') -> None:\n    pass\nclass A:\n    def m(self) -> B:\n        return B()\n"
               "class B:\n    pass\n")
    sampler = EditSampler(program)
    lines = sampler.lines
    for seed in range(30):
        steps = sampler.sample(random.Random(seed))
        alive = set(range(len(lines)))
        for step in steps:
            if 0 in step:  # the future import goes: f and g stay, m's forward reference goes
                assert not {2, 4} & (alive & set(step))
            alive -= set(step)
        check_sequence(lines, steps)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="type parameters and aliases are Python 3.12 syntax")
def test_type_parameters_bind_and_a_type_alias_may_name_what_comes_later():
    """``def first[T]``'s ``T`` was an undefined name (so strict mode deleted every generic
    function and class in its first step), and ``type Later = Fwd``'s value, which Python evaluates
    only when used, was read at once: its use of ``Fwd`` counted as an error of the full program
    and outlived ``class Fwd``, a state pyflakes flags."""
    from editseq.lintseq.analysis import FastLinter

    program = "def first[T](xs: list[T]) -> T:\n    return xs[0]\ntype Later = Fwd\nclass Fwd:\n    pass\n"
    assert FastLinter().lint(program) == []
    for strict in (False, True):
        sampler = EditSampler(program, SamplerConfig(strict=strict))
        for seed in range(20):
            steps = sampler.sample(random.Random(seed))
            for kept in states(len(sampler.lines), steps)[1:]:
                assert 3 in kept or 2 not in kept  # the alias never outlives class Fwd
            check_sequence(sampler.lines, steps)


def test_a_match_header_over_several_lines_is_one_unit():
    """``match (`` ... ``):``: the AST ends the header at its subject, so the line closing it joined
    the first ``case``, and deleting that case left ``match (`` unclosed (a syntax error)."""
    program = "x = 1\nmatch (\n    x\n):\n    case 1:\n        pass\n    case _:\n        pass\n"
    sampler = EditSampler(program)
    line_unit = sampler.structure.line_unit
    assert line_unit[1] == line_unit[2] == line_unit[3] != line_unit[4]
    for seed in range(20):
        check_sequence(sampler.lines, sampler.sample(random.Random(seed)))


@pytest.mark.parametrize("program", ["def f():\n    pass\n  \\\n\ndef g():\n    return f\n",
                                     "if True:\n    x = 1 \\\n\n  \\\n\ny = 2\n"])
def test_a_program_pythons_tokenizer_takes_and_the_tokenize_module_refuses_converts(program):
    """The tokenize module, which finds the backslashes that join lines, is not Python's tokenizer:
    it refuses a line of a lone backslash indented as no block is ("unindent does not match"),
    which Python reads as a blank line. Such programs were lost, with IndentationError."""
    compile(program, "<program>", "exec")
    sampler = EditSampler(program)
    for seed in range(10):
        steps = sampler.sample(random.Random(seed))
        assert apply_edit_path(edit_path_from_steps(sampler.lines, steps)) == split_lines(program)
        check_sequence(sampler.lines, steps)


@pytest.mark.parametrize(
    "use",
    [
        'T = TypeVar("T", bound="A")',  # pip's temp_dir.py
        'print(cast("A", 1))',
        'Handler = typing.Callable[["A"], None]',  # prompt_toolkit's mouse_handlers.py
        'Fields = TypedDict("Fields", {"a": "A"})',  # moto's events/utils.py
        'Alias: TypeAlias = "list[A]"',  # pydantic's plugin/__init__.py
    ],
)
def test_strings_that_pyflakes_reads_as_types_are_uses(use):
    """pyflakes reads the strings of typing's subscripts and functions (and of a ``TypeAlias``) as
    forward references; only annotations' strings were, so deleting ``class A`` left states that
    pyflakes flags (undefined name 'A'), found on third-party packages."""
    from editseq.lintseq.analysis import FastLinter

    imports = "import typing\nfrom typing import TypeAlias, TypedDict, TypeVar, cast\n"
    assert [f.message for f in FastLinter().lint(imports + use + "\n")] == ["undefined name 'A'"]
    program = imports + "class A:\n    pass\n" + use + "\n"
    assert FastLinter().lint(program) == []
    sampler = EditSampler(program)
    for seed in range(20):
        steps = sampler.sample(random.Random(seed))
        for kept in states(len(sampler.lines), steps)[1:]:
            assert 2 in kept or 4 not in kept  # the use never outlives class A
        check_sequence(sampler.lines, steps)
    literal = imports + "x: typing.Literal['A'] = typing.cast(typing.Literal['A'], 1)\n"
    assert FastLinter().lint(literal) == []  # Literal's strings are values, not types


def test_a_typing_import_shadowed_by_a_later_binding_reads_no_types_until_that_binding_goes():
    """pyflakes reads ``typing.Callable[["A"], None]``'s string as a type only while ``typing`` is
    bound by its import: ``typing = None`` after it makes the string a string, and deleting that
    line makes it a type again (found by the generated programs)."""
    from editseq.lintseq.analysis import FastLinter

    shadowed = "import typing\ntyping = None\nX = typing.Callable[['A'], None]\n"
    assert FastLinter().lint(shadowed) == []
    program = "import typing\nclass A:\n    pass\ntyping = None\nX = typing.Callable[['A'], None]\n"
    sampler = EditSampler(program)
    for seed in range(30):
        steps = sampler.sample(random.Random(seed))
        for kept in states(len(sampler.lines), steps)[1:]:
            assert 1 in kept or 3 in kept or 4 not in kept
        check_sequence(sampler.lines, steps)


@pytest.mark.parametrize("program", ["x = 1 \\\n\n", "y = 2\nx = y \\\n\nprint(x)\n", "a = 1; \\\n\n\n",
                                     "if True:\n    x = 1 \\\n\n"])
def test_a_backslash_onto_an_empty_last_line_converts_losslessly(program):
    """Python compiles these (the backslash joins the empty line, whose line end ends the
    statement); they were refused as "unexpected EOF", parsed without their final line end."""
    compile(program, "<program>", "exec")
    sampler = EditSampler(program)
    for seed in range(10):
        steps = sampler.sample(random.Random(seed))
        assert apply_edit_path(edit_path_from_steps(sampler.lines, steps)) == split_lines(program)
        check_sequence(sampler.lines, steps, pyflakes=False)


def test_pylint_in_the_loop_reads_a_state_ending_in_a_backslash_onto_an_empty_line_as_valid():
    """Was: the state left by deleting ``y = 2`` was linted without its final line end, a syntax
    error to pylint, so ``x = 1 \\\\`` was deleted in the same step."""
    sampler = EditSampler("y = 2\nx = 1 \\\n\n", SamplerConfig(linter="pylint", strict=True))
    assert sorted(sampler.sample(random.Random(seed)) for seed in range(6)) == [[[0], [1, 2]]] * 3 + [[[1, 2], [0]]] * 3


@pytest.mark.parametrize("program", ["x = 1 + \\\n", "x = 1 + \\\n\n", "x = \\\n\n", "x = 1 \\"])
def test_a_backslash_with_nothing_to_join_is_the_syntax_error_python_reports(program):
    with pytest.raises(SyntaxError) as python:
        compile(program, "<program>", "exec")
    with pytest.raises(ProgramError) as ours:
        EditSampler(program)
    assert str(ours.value) == f"syntax error: {python.value.msg} (line {python.value.lineno})"
