"""What a trial draws: the ``specials`` kind's NaN, infinities and masked rows (review 20: a relu that turned NaN into
0 and a logsumexp that lost Inductor's guard for rows of -inf passed every other kind)."""

from __future__ import annotations

import math

import torch
from conftest import only_task, softmax_task

from aikg_inductor.verify.correctness import TRIAL_KINDS, default_trials
from aikg_inductor.verify.values import SPECIALS_SPACING, Trial, build, call_values


def drawn_input(task, kind: str, seed: int = 0) -> torch.Tensor:
    (position,) = [n for n, a in enumerate(task.args) if a.role == "in"]
    return call_values(task, build(task, Trial(seed, kind)))[position]


def test_every_verification_runs_a_specials_trial():
    assert "specials" in TRIAL_KINDS
    assert "specials" in {t.kind for t in default_trials(7)}


def row_sorts(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Masks of the rows all -inf, the rows all finite, and the rest."""
    masked, finite = (x == -math.inf).all(dim=1), torch.isfinite(x).all(dim=1)
    return masked, finite, ~masked & ~finite


def test_rows_of_minus_infinity_and_scattered_specials_beside_finite_rows():
    task = softmax_task()
    x = drawn_input(task, "specials")  # 64 rows of 512
    masked, finite, spotted = row_sorts(x)
    assert 1 <= int(masked.sum()) <= 21 and 1 <= int(finite.sum()) <= 21, "a reduction's NaN hides no finite row"
    assert int(spotted.sum()) == 64 - int(masked.sum()) - int(finite.sum())
    rest = x[spotted]
    assert bool(rest.isnan().any()) and bool((rest == math.inf).any()) and bool((rest == -math.inf).any())
    assert bool(((rest == 0) & torch.signbit(rest)).any())
    assert all(int(torch.isfinite(row).sum()) >= row.numel() - 4 for row in rest)


def test_no_fixed_pattern_tells_the_specials_apart():
    """How many rows of each sort, where, and on which scale, all vary with the seed: a kernel right on NaN only
    where it recognises the trial is wrong on some draw."""
    task = softmax_task()
    draws = [drawn_input(task, "specials", seed) for seed in range(12)]
    assert len({int(row_sorts(x)[0].sum()) for x in draws}) > 3
    assert len({tuple(row_sorts(x)[0].nonzero().flatten().tolist()) for x in draws}) == len(draws)
    assert len({round(math.log10(float(x[torch.isfinite(x)].abs().max()))) for x in draws}) > 2


def test_a_tensor_of_few_rows_gets_specials_scattered():
    task = only_task(lambda x: torch.relu(x * 2), torch.randn(4096))  # one row: the whole tensor
    x = drawn_input(task, "specials")
    special = ~torch.isfinite(x) | ((x == 0) & torch.signbit(x))
    assert int(special.sum()) == x.numel() // SPECIALS_SPACING
    assert int(x.isnan().sum()) > 0 and int((x == math.inf).sum()) > 0 and int((x == -math.inf).sum()) > 0


def test_other_kinds_draw_no_specials():
    task = softmax_task()
    for kind in set(TRIAL_KINDS) - {"specials"}:
        assert bool(torch.isfinite(drawn_input(task, kind)).all()), kind
