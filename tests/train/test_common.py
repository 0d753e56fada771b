"""What SFT and pretraining share: the held-out split and the options' checks."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from editseq.io.records import InputError
from editseq.train.common import held_out
from editseq.train.pretrain import PretrainOptions
from editseq.train.sft import SFTOptions


@given(st.lists(st.integers(0, 12), min_size=2, max_size=60), st.floats(0.05, 0.95), st.integers(0, 2**32 - 1))
def test_held_out_keeps_each_group_on_one_side(groups: list[int], fraction: float, seed: int) -> None:
    items = list(range(len(groups)))  # each item's position, to find its group again
    distinct = len(set(groups))
    count = round(fraction * distinct)
    if not 0 < count < distinct:
        with pytest.raises(InputError, match=r"holds out (none|all) of them"):
            held_out(items, groups, fraction, seed, "groups")
        return
    trained, evaluated = held_out(items, groups, fraction, seed, "groups")
    assert sorted(trained + evaluated) == items and trained == sorted(trained)  # nothing lost, order kept
    out = {groups[i] for i in evaluated}
    assert len(out) == count and not out & {groups[i] for i in trained}
    assert held_out(items, groups, fraction, seed, "groups") == (trained, evaluated)  # the seed decides


def test_no_fraction_holds_nothing_out() -> None:
    assert held_out(["a", "b"], [1, 1], 0.0, 0, "groups") == (["a", "b"], [])


def test_epochs_given_with_max_steps_warn_that_they_go_unused(tmp_path: Path) -> None:
    """Was: --epochs was ignored under --max-steps in silence (only --help said so)."""
    with pytest.warns(UserWarning, match=r"--epochs 3 is ignored: --max-steps 2 sets the run's length"):
        PretrainOptions(data="c.jsonl", output_dir=tmp_path, max_steps=2, epochs=3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert PretrainOptions(data="c.jsonl", output_dir=tmp_path, max_steps=2).epochs == 1.0
        assert SFTOptions(model="m", data="d.jsonl", output_dir=tmp_path, format="program", max_steps=2).epochs == 10.0


def test_ddp_timeout_reaches_the_training_arguments_and_is_checked(tmp_path: Path) -> None:
    """The barrier other processes wait at while the main one packs a corpus or tokenizes a
    dataset timed out at transformers' 30 minutes, whatever the data's size."""
    from editseq.config import ConfigError
    from editseq.train.common import training_arguments

    assert training_arguments(PretrainOptions(data="c.jsonl", output_dir=tmp_path, max_steps=1)).ddp_timeout == 1800
    opts = PretrainOptions(data="c.jsonl", output_dir=tmp_path, max_steps=1, ddp_timeout=7200)
    assert training_arguments(opts).ddp_timeout == 7200
    with pytest.raises(ConfigError, match="--ddp-timeout must be at least 1"):
        PretrainOptions(data="c.jsonl", output_dir=tmp_path, max_steps=1, ddp_timeout=0)
