"""What a trial draws: the ``specials`` kind's NaN, infinities and masked rows (review 20: a relu that turned NaN into
0 and a logsumexp that lost Inductor's guard for rows of -inf passed every other kind; review 21: a relu that turned
rows of several NaNs into zeros passed one NaN a row)."""

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


def test_specials_come_in_the_shapes_real_tensors_hold_them():
    """Over a few draws of a 64x512 input: rows wholly -inf, wholly NaN, -inf runs from either end, rows of several
    NaNs, NaN alone in a row, +inf without -inf, -0.0, and rows left finite; sometimes a column of -inf in every row."""
    task = softmax_task()
    seen: set[str] = set()
    for seed in range(8):
        x = drawn_input(task, "specials", seed)
        finite_rows = torch.isfinite(x).all(dim=1)
        nans = x.isnan().sum(dim=1)
        if bool(finite_rows.any()):
            seen.add("finite row")
        if bool(((x == -math.inf).all(dim=1)).any()):
            seen.add("masked row")
        if bool((x.isnan().all(dim=1)).any()):
            seen.add("NaN row")
        if bool(((x[:, 0] == -math.inf) & torch.isfinite(x[:, -1])).any()):
            seen.add("-inf prefix")
        if bool(((x[:, -1] == -math.inf) & torch.isfinite(x[:, 0])).any()):
            seen.add("-inf suffix")
        if bool(((nans >= 2) & (nans < 100)).any()):
            seen.add("a few NaNs in a row")
        if bool((nans == 1).any()):
            seen.add("one NaN in a row")
        if bool(((x == math.inf).any(dim=1) & ~(x == -math.inf).any(dim=1)).any()):
            seen.add("+inf without -inf")
        if bool(((x == 0) & torch.signbit(x)).any()):
            seen.add("-0.0")
        if bool((x == -math.inf).all(dim=0).any()):
            seen.add("-inf column")
    assert seen == {"finite row", "masked row", "NaN row", "-inf prefix", "-inf suffix", "a few NaNs in a row",
                    "one NaN in a row", "+inf without -inf", "-0.0", "-inf column"}


def test_no_fixed_pattern_tells_the_specials_apart():
    """Which rows, how many, and on which scale all vary with the seed: a kernel right on NaN only where it
    recognises the trial is wrong on some draw."""
    task = softmax_task()
    draws = [drawn_input(task, "specials", seed) for seed in range(12)]
    masked = [(x == -math.inf).all(dim=1) for x in draws]
    assert len({int(m.sum()) for m in masked}) > 3
    assert len({tuple(m.nonzero().flatten().tolist()) for m in masked}) == len(draws)
    assert len({round(math.log10(float(x[torch.isfinite(x)].abs().max()))) for x in draws}) > 2


def test_a_tensor_of_few_rows_gets_specials_scattered():
    task = only_task(lambda x: torch.relu(x * 2), torch.randn(4096))  # one row: the whole tensor
    x = drawn_input(task, "specials")
    special = ~torch.isfinite(x) | ((x == 0) & torch.signbit(x))
    assert int(special.sum()) == x.numel() // SPECIALS_SPACING
    for seed in range(20):  # every special, every time: a short weight has few places
        x = drawn_input(task, "specials", seed)
        assert bool(x.isnan().any()) and bool((x == math.inf).any()) and bool((x == -math.inf).any())
        assert bool(((x == 0) & torch.signbit(x)).any())


def test_other_kinds_draw_no_specials():
    task = softmax_task()
    for kind in set(TRIAL_KINDS) - {"specials"}:
        assert bool(torch.isfinite(drawn_input(task, kind)).all()), kind


def test_a_scalar_input_gets_one_special_or_another():
    task = only_task(lambda x, s: x * s, torch.randn(64), torch.randn(()))  # a 0-d tensor: one element
    position = next(n for n, a in enumerate(task.args) if a.role == "in" and a.layout and a.layout.size == ())
    drawn = {str(call_values(task, build(task, Trial(seed, "specials")))[position].item()) for seed in range(24)}
    assert drawn == {"nan", "inf", "-inf", "-0.0"}
