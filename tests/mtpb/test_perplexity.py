"""Prompt perplexity bookkeeping (what is scored given what), and the real model when present."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest

from editseq.mtpb import data, prompts
from editseq.mtpb.perplexity import MTPBPerplexityOptions, backend_scorer, perplexity, prepare


class LengthScorer:
    """NLL 1 per target character given any context; records every (context, target)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, context: str, target: str) -> tuple[float, int]:
        self.calls.append((context, target))
        return float(len(target)), len(target.split())


def test_what_is_scored(tmp_path: Path, shared_data: Path) -> None:
    results = tmp_path / "r_results.jsonl"
    rows = [{"problem_id": "3", "case": c, "completions": ["a = 1", "b = 2", "print(3)"],
             "passed": c == 0} for c in range(5)]
    rows += [{"problem_id": "4", "case": c, "completions": ["x", "y", "z"], "passed": False} for c in range(5)]
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    scorer = LengthScorer()
    out = perplexity(MTPBPerplexityOptions(model="m", results=results, problems="3,4", data=shared_data), scorer)
    context, target = scorer.calls[1]  # problem 3, case 0, turn 2
    assert target == "# Write a function that takes an integer hours and converts it to seconds.\n"
    assert context == prompts.PREFIX + "# Write a function that takes an integer minutes and converts it to seconds.\na = 1\n\n"
    context, target = scorer.calls[3]  # single-turn: the whole specification given PREFIX
    assert context == prompts.PREFIX and target.count("\n") == 3
    assert out["history"] == "prompts and completions"
    assert out["solved"]["problems"] == 1 and out["unsolved"]["problems"] == 1
    assert out["solved"]["multi"] == out["problems"]["3"]["multi"]
    # the figures from the scored parts: per case exp(sum NLL / sum tokens) over its turns (multi)
    # or of the whole specification (single); per problem the mean over cases; then over problems
    bench, calls = data.load(shared_data), iter(scorer.calls)

    def ppl(parts: list[tuple[str, str]]) -> float:
        return math.exp(sum(len(t) for _, t in parts) / sum(len(t.split()) for _, t in parts))

    for pid in ("3", "4"):
        problem = bench.problems[pid]
        cases = [([next(calls) for _ in problem.turn_prompts(c)], [next(calls)]) for c in range(len(problem.cases))]
        for mode, which in (("multi", 0), ("single", 1)):
            assert out["problems"][pid][mode] == pytest.approx(sum(ppl(c[which]) for c in cases) / len(cases))
    assert next(calls, None) is None
    for mode in ("multi", "single"):
        assert out[mode] == pytest.approx((out["problems"]["3"][mode] + out["problems"]["4"][mode]) / 2)


def test_results_without_problems_score_the_problems_they_cover(tmp_path: Path, shared_data: Path) -> None:
    """Was: --results of problem 3 without --problems scored all 115 problems, 114 of them with
    prompt-only histories (multi-turn = single-turn), averaged in under 'prompts and completions'."""
    results = tmp_path / "r_results.jsonl"
    results.write_text("".join(json.dumps({"problem_id": "3", "case": c, "completions": ["a", "b", "c"],
                                           "passed": False}) + "\n" for c in range(5)))
    out = perplexity(MTPBPerplexityOptions(model="m", results=results, data=shared_data), LengthScorer())
    assert list(out["problems"]) == ["3"] and out["multi"] == out["problems"]["3"]["multi"]


def test_a_group_with_no_problems_is_null_in_json(tmp_path: Path, shared_data: Path) -> None:
    results = tmp_path / "r_results.jsonl"
    results.write_text("".join(json.dumps({"problem_id": "3", "case": c, "completions": ["x", "y", "z"],
                                           "passed": False}) + "\n" for c in range(5)))
    out = perplexity(MTPBPerplexityOptions(model="m", results=results, problems="3", data=shared_data),
                     LengthScorer())
    assert out["solved"] == {"problems": 0, "multi": None, "single": None}
    assert json.loads(json.dumps(out, allow_nan=False)) == out  # strict JSON: no NaN anywhere


def test_problems_excluded_by_fixed_are_neither_solved_nor_unsolved(tmp_path: Path, shared_data: Path) -> None:
    """Was: ``mtpb evaluate --fixed`` writes 38's and 46's runs (never executed, their CSV files were
    never released) with status excluded and passed false, and they were averaged as unsolved."""
    results = tmp_path / "r_fixed_results.jsonl"
    rows = [{"problem_id": pid, "case": c, "completions": ["x"] * n, "passed": pid == "3",
             "status": "excluded" if pid == "38" else "passed" if pid == "3" else "failed"}
            for pid, n in (("3", 3), ("38", 5), ("4", 3)) for c in range(5)]
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 38 is excluded, not unjudged: no warning
        out = perplexity(MTPBPerplexityOptions(model="m", results=results, problems="3,38,4", data=shared_data),
                         LengthScorer())
    assert out["solved"]["problems"] == 1 and out["unsolved"]["problems"] == 1
    assert out["unsolved"]["multi"] == out["problems"]["4"]["multi"]


@pytest.mark.parametrize(("row", "message"), [
    ({"problem_id": "3", "case": 0, "completions": "abc"}, "'completions' must be a list of strings"),
    ({"problem_id": "3", "case": 0, "completions": ["a", "b", "c"], "passed": "false"},
     "'passed' must be true or false"),
    ({"problem_id": "3", "case": 9, "completions": ["a", "b", "c"]}, "'case' must be an integer 0-4"),
])
def test_results_are_checked_before_any_scoring(tmp_path: Path, shared_data: Path, row: dict,
                                                message: str) -> None:
    from editseq.io.records import InputError

    results = tmp_path / "r_results.jsonl"
    results.write_text(json.dumps(row) + "\n")
    opts = MTPBPerplexityOptions(model="m", results=results, problems="3", data=shared_data)
    with pytest.raises(InputError, match=r"r_results\.jsonl line 1") as err:
        prepare(opts)
    assert message in str(err.value)


def test_unknown_problem_ids_fail_before_the_model_loads(shared_data: Path) -> None:
    from editseq.config import ConfigError

    with pytest.raises(ConfigError, match="unknown ids"):
        prepare(MTPBPerplexityOptions(model="m", problems="3,999", data=shared_data))


def test_a_json_out_that_cannot_be_written_fails_before_the_model_loads(tmp_path: Path, shared_data: Path) -> None:
    """Was: a folder given as --json-out was found only when the figures were written, after the
    model had scored every problem (all 115 by default: many minutes on a CPU), which were lost."""
    (tmp_path / "figures").mkdir()
    with pytest.raises(IsADirectoryError):
        prepare(MTPBPerplexityOptions(model="m", problems="3", data=shared_data, json_out=tmp_path / "figures"))
    prepare(MTPBPerplexityOptions(model="m", problems="3", data=shared_data, json_out=tmp_path / "new" / "p.json"))
    assert (tmp_path / "new").is_dir() and not list((tmp_path / "new").iterdir())


def test_without_results_history_is_prompts_only(shared_data: Path) -> None:
    scorer = LengthScorer()
    out = perplexity(MTPBPerplexityOptions(model="m", problems="3", data=shared_data), scorer)
    assert scorer.calls[1][0] == prompts.PREFIX + "# Write a function that takes an integer minutes and converts it to seconds.\n"
    assert out["history"] == "prompts only" and "solved" not in out


@pytest.mark.slow
def test_real_model(shared_data: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from editseq.models.loading import load_backend
    from editseq.models.scoring import continuation_nll

    backend = load_backend("smollm2-135m", "transformers")
    out = perplexity(MTPBPerplexityOptions(model="smollm2-135m", problems="3,4", data=shared_data),
                     backend_scorer(backend))
    assert 1 < out["multi"] < 1000 and 1 < out["single"] < 1000
    problem = data.load(shared_data).problems["3"]
    single = []
    for case in range(len(problem.cases)):
        spec = prompts.single_turn_prompt(problem.turn_prompts(case))[len(prompts.PREFIX):]
        nll, tokens = continuation_nll(backend.model, backend.tokenizer, prompts.PREFIX, spec)
        single.append(math.exp(nll / tokens))
    assert out["problems"]["3"]["single"] == pytest.approx(sum(single) / len(single))
    print("SmolLM2-135M prompt perplexity on MTPB 3, 4:", out["multi"], out["single"])


def test_history_longer_than_the_model_is_refused_by_problem_and_case(shared_data: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its positions the real model still returns numbers (meaningless ones); a run whose
    history outgrows them is refused, naming problem and case, not averaged in."""
    pytest.importorskip("transformers")
    from editseq.io.records import InputError
    from editseq.models.loading import load_backend

    backend = load_backend("smollm2-135m", "transformers")
    monkeypatch.setattr(backend.model.config, "max_position_embeddings", 100)  # 8192 would take minutes
    problem = data.load(shared_data).problems["3"]
    rest = [""] * (len(problem.prompts) - 1)
    runs = [{"problem_id": "3", "case": c, "completions": ["x = 1\n" * (40 if c == 1 else 1), *rest]}
            for c in range(len(problem.cases))]
    results = tmp_path / "r.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in runs))
    opts = MTPBPerplexityOptions(model="smollm2-135m", results=results, problems="3", data=shared_data)
    with pytest.raises(InputError, match=r"problem 3, case 1: context and target are \d+ tokens, more than "
                                         r"the model's 100 positions"):
        perplexity(opts, backend_scorer(backend))


def test_cases_without_completions_are_named_when_results_are_given(tmp_path: Path, shared_data: Path) -> None:
    """Was: --problems 3,4 with results of problem 3's cases 0-3 averaged problem 4 and case 3/4 in
    with prompts-only histories (multi = single) under "prompts and completions", silently."""
    results = tmp_path / "r_results.jsonl"
    rows = [{"problem_id": "3", "case": c, "completions": ["a = 1", "b = 2", "print(3)"]} for c in range(4)]
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    opts = MTPBPerplexityOptions(model="m", results=results, problems="3,4", data=shared_data)
    with pytest.warns(UserWarning, match=r"6 cases \(problem/case\) have no multi-turn completions in --results, "
                                         r"scored with prompts-only histories: 3/4, 4/0, 4/1, 4/2, 4/3, 4/4;"):
        perplexity(opts, LengthScorer())
    opts = MTPBPerplexityOptions(model="m", results=results, problems="3", data=shared_data)
    with pytest.warns(UserWarning, match=r"^1 case \(problem/case\) has no multi-turn completions in --results, "
                                         r"scored with prompts-only histories: 3/4;"):
        perplexity(opts, LengthScorer())


def test_the_figures_name_what_produced_them(tmp_path: Path, shared_data: Path) -> None:
    """Was: --json-out held the figures alone, so two saved files could not tell which model,
    results or data each came from."""
    results = tmp_path / "r_results.jsonl"
    results.write_text("".join(json.dumps({"problem_id": "3", "case": c, "completions": ["a", "b", "c"]}) + "\n"
                               for c in range(5)))
    opts = MTPBPerplexityOptions(model="m", results=results, data=shared_data)
    out = json.loads(json.dumps(perplexity(opts, LengthScorer())))
    assert out["settings"]["model"] == "m" and out["settings"]["results"] == str(results)
    assert out["data"]["sha256"] == data.load(shared_data).sha256
    assert "transformers" in out["versions"]


def test_results_of_single_turn_runs_only_are_refused(tmp_path: Path, shared_data: Path) -> None:
    """Was: they were skipped without a word, and with nothing covered all 115 problems were
    scored prompts-only, with no solved/unsolved split."""
    from editseq.io.records import InputError

    results = tmp_path / "s_results.jsonl"
    results.write_text(json.dumps({"problem_id": "3", "case": 0, "mode": "single", "completions": ["x"],
                                   "passed": True}) + "\n")
    with pytest.raises(InputError, match=r"s_results\.jsonl: no multi-turn runs \(all 1 are single-turn\)"):
        prepare(MTPBPerplexityOptions(model="m", results=results, data=shared_data))


def test_problems_without_a_verdict_are_named(tmp_path: Path, shared_data: Path) -> None:
    """Was: with ``passed`` on problem 3's runs only, problem 4 fell in neither group without a
    word, and the solved and unsolved counts (1 + 0) missed the 2 problems scored."""
    results = tmp_path / "r_results.jsonl"
    rows = [{"problem_id": "3", "case": c, "completions": ["a", "b", "c"], "passed": True} for c in range(5)]
    rows += [{"problem_id": "4", "case": c, "completions": ["x", "y", "z"]} for c in range(5)]
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.warns(UserWarning, match=r"1 problems have no verdict \('passed'\) in --results .*: 4;"):
        out = perplexity(MTPBPerplexityOptions(model="m", results=results, problems="3,4", data=shared_data),
                         LengthScorer())
    assert out["solved"]["problems"] == 1 and out["unsolved"]["problems"] == 0 and len(out["problems"]) == 2
