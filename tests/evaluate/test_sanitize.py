"""The sanitizer: what the entry point needs stays, the script around it goes, nothing breaks."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from editseq.evaluate.sanitize import names_read, sanitize


def run(program: str, call: str) -> object:
    """``call`` evaluated after ``program`` has run (stdin is never read by a sanitized program)."""
    scope: dict = {"__name__": "__main__"}
    exec(compile(program, "<sanitized>", "exec"), scope)
    return eval(call, scope)


SCRIPT = textwrap.dedent('''\
    """A model's whole answer."""
    import sys
    from functools import lru_cache
    sys.setrecursionlimit(10000)
    N = 10
    TABLE = [0] * N
    for i in range(N):
        TABLE[i] = i * i
    n = int(input())

    def unused():
        return 1

    class Helper:
        class Inner:
            BONUS = 1

        def get(self, k):
            return TABLE[k] + OFFSET + self.Inner.BONUS

    OFFSET = 3

    @lru_cache(maxsize=None)
    def f(n):
        return Helper().get(n) + 0 * sys.maxsize

    assert f(2) == 5
    print(f(int(input())))
    while True:
        f(1)
    if __name__ == "__main__":
        print(f(3))
    ''')


def test_the_entry_points_dependencies_stay_and_the_script_goes() -> None:
    out = sanitize(SCRIPT, "f")
    for kept in ("import sys", "from functools import lru_cache", "sys.setrecursionlimit(10000)", "N = 10",
                 "TABLE[i] = i * i", "class Inner:", "OFFSET = 3", "@lru_cache(maxsize=None)\ndef f(n):"):
        assert kept in out
    # `n = int(input())` stays out: f's `n` is its parameter, not that global
    for dropped in ("input()", "def unused", "assert", "print", "while True", "__main__", "A model's"):
        assert dropped not in out
    assert run(out, "f(2)") == 4 + 3 + 1


def test_what_the_test_calls_stays_too() -> None:
    # HumanEval/38's test encodes with the prompt's encode_cyclic, which decode_cyclic never calls
    program = "def encode(s):\n    return s[::-1]\n\ndef decode(s):\n    return s[::-1]\n\nprint(decode('ab'))\n"
    assert "def encode" not in sanitize(program, "decode")
    assert sanitize(program, "decode", names_read("assert candidate(encode('ab')) == 'ab'")) == (
        "def encode(s):\n    return s[::-1]\ndef decode(s):\n    return s[::-1]\n")


def test_a_global_the_function_rebinds_or_a_table_it_fills_stays() -> None:
    program = ("count = 0\nmemo = {}\nmemo.update({0: 1})\ndef f():\n    global count\n    count += 1\n"
               "    return memo[0] + count\nf = f\nf()\n")
    out = sanitize(program, "f")
    assert out == "count = 0\nmemo = {}\nmemo.update({0: 1})\ndef f():\n    global count\n    count += 1\n" \
                  "    return memo[0] + count\nf = f\n"
    assert run(out, "f()") == 2


def test_programs_it_cannot_judge_come_back_unchanged() -> None:
    for program, entry in [("def f(:\n    pass\nprint(1)\n", "f"),  # a syntax error
                           ("def f():\n    return 1\nreturn 2\n", "f"),  # a compile-time error
                           ("if __name__ == '__main__':\n    def f():\n        return 1\n", "f"),  # no f at the top
                           ("def g():\n    return 1\nprint(g())\n", "f"),  # the entry point is missing
                           ("", "f")]:
        assert sanitize(program, entry) == program


STATEMENTS = ["import math", "X = 2", "Y = X + 1", "def g(a):\n    return a * Y", "def f(a):\n    return g(a) + math.pi",
              "assert f(1) == 0", "print(f(2))", "f(3)", "L = []", "L.append(f(1))", "def h():\n    return L",
              "if __name__ == '__main__':\n    print(f(4))", "for k in range(2):\n    print(k)", "Y = 5"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(STATEMENTS), max_size=12))
def test_sanitizing_is_idempotent_and_keeps_the_entry_points_value(chosen: list[str]) -> None:
    program = "\n".join(chosen) + "\n"
    out = sanitize(program, "f")
    assert sanitize(out, "f") == out
    assert all(line in program.splitlines() for line in out.splitlines())
    if "def f(a)" in program and out != program:
        # what the statements dropped could not change f: f(5) is what the whole program computes
        # once its last binding of every name f reads has run (no statement here fails before f is called)
        try:
            expected = run(program.replace("assert f(1) == 0", "pass"), "f(5)")
        except NameError:
            return  # f reads a name the program binds only after calling it
        assert run(out, "f(5)") == expected
