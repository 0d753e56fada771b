"""Differential tests in the EvalPlus style (HumanEval+, MBPP+), as a program for the sandbox.

The test program runs the reference solution and the candidate on every base and plus input
(deep-copied, so a mutating candidate cannot change the reference's view) and compares them as
EvalPlus does: exact equality, else for float results ``allclose`` with the task's ``atol``
(at least 1e-6) and ``rtol`` 1e-7 after checking type and length. Task-specific oracles are
named by the benchmark (never inferred from function names): ``poly_root`` (HumanEval/32:
any root within ``atol`` is right; evalplus 0.3.1 fails the correct solution here),
``or_always_true`` (Mbpp/164), ``or_always_zero`` (Mbpp/295) and ``truthy`` (Mbpp/737, 787,
794, whose references return ``re.Match`` objects: these never compare equal, so the canonical
solution would fail itself; MBPP's own asserts test only their truth value).

MBPP+ stores inputs as JSON; ``restore`` names how EvalPlus turns them back into tuples, sets
or complex numbers for that task.
"""

from __future__ import annotations

import json

HARNESS = '''

def _editseq_plus_check(candidate):
    import copy, io, json, math, os, sys

    def deep_tuple(x):
        return tuple(deep_tuple(i) for i in x) if isinstance(x, list) else x

    def restore(rule, inp):
        if rule == "args":
            return [tuple(a) for a in inp]
        if rule == "args_items":
            return [[tuple(x) for x in a] for a in inp]
        if rule == "args_items_then_args":
            return [tuple(tuple(x) for x in a) for a in inp]
        if rule == "first_items":
            return [[tuple(x) for x in inp[0]]] + inp[1:]
        if rule == "first":
            return [tuple(inp[0])] + inp[1:]
        if rule == "second":
            return [inp[0], tuple(inp[1])] + inp[2:]
        if rule == "first_sets":
            return [[set(x) if isinstance(x, list) and x else {} for x in inp[0]]]
        if rule == "float_complex":
            return [float(inp[0]), complex(inp[1])]
        if rule == "first_items_then_args":
            return [tuple(tuple(x) if isinstance(x, list) else x for x in inp[0])]
        if rule == "dict_values":
            return [{k: tuple(v) for k, v in inp[0].items()}] + inp[1:]
        if rule == "complex":
            return [complex(inp[0])]
        if rule == "deep":
            return deep_tuple(inp)
        return inp

    def is_floats(x):
        if isinstance(x, float):
            return True
        return isinstance(x, (list, tuple)) and all(isinstance(i, float) for i in x)

    def close(out, exp, atol):
        if isinstance(exp, (list, tuple)):
            return isinstance(out, (list, tuple)) and len(out) == len(exp) and all(
                close(o, e, atol) for o, e in zip(out, exp))
        try:
            return abs(out - exp) <= atol + 1e-07 * abs(exp)
        except TypeError:
            return out == exp

    def poly(xs, x):
        return sum(c * math.pow(x, i) for i, c in enumerate(xs))

    inputs = json.loads(_EDITSEQ_INPUTS)
    ref_ns = {"__name__": "editseq_reference"}
    exec(compile(_EDITSEQ_REFERENCE, "<reference>", "exec"), ref_ns)
    reference = ref_ns[_EDITSEQ_ENTRY]
    original_ok, always = True, True
    quiet = open(os.devnull, "w")
    for n, raw in enumerate(inputs):
        inp = restore(_EDITSEQ_RESTORE, raw)
        real_stdout, sys.stdout = sys.stdout, quiet
        try:
            exp = reference(*copy.deepcopy(inp))
            out = candidate(*copy.deepcopy(inp))
        finally:
            sys.stdout = real_stdout
        atol = _EDITSEQ_ATOL
        if _EDITSEQ_ORACLE == "poly_root":
            assert abs(poly(*inp, out)) <= atol, f"input {n}: not a root within {atol}"
            continue
        if _EDITSEQ_ORACLE == "truthy":
            assert bool(out) == bool(exp), f"input {n}: wrong truth value"
            continue
        if _EDITSEQ_ORACLE in ("or_always_true", "or_always_zero"):
            original_ok = original_ok and out == exp
            always = always and out == (True if _EDITSEQ_ORACLE == "or_always_true" else 0)
            assert original_ok or always, f"input {n}: wrong output"
            continue
        if out == exp:
            continue
        if atol == 0 and is_floats(exp):
            atol = 1e-6
        assert atol != 0, f"input {n}: wrong output"
        assert type(out) == type(exp), f"input {n}: got {type(out).__name__}, expected {type(exp).__name__}"
        assert close(out, exp, atol), f"input {n}: not within atol={atol}"

'''


def plus_test(entry_point: str, reference: str, inputs: list, atol: float,
              oracle: str = "", restore: str = "") -> str:
    """Test code appended to a candidate program; reaching its end means every input agreed."""
    header = (f"_EDITSEQ_INPUTS = {json.dumps(inputs)!r}\n"
              f"_EDITSEQ_REFERENCE = {reference!r}\n"
              f"_EDITSEQ_ENTRY = {entry_point!r}\n"
              f"_EDITSEQ_ATOL = {float(atol)!r}\n"
              f"_EDITSEQ_ORACLE = {oracle!r}\n"
              f"_EDITSEQ_RESTORE = {restore!r}\n")
    return "\n" + header + HARNESS + f"_editseq_plus_check({entry_point})\n"
