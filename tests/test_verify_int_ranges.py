"""Integer inputs are drawn over the whole range their kernel may legally receive (issue 17).

The interception records each integer input's legal range from the ATen ops of its kernel that use it
(``KernelArg.int_range``): an index over the indexed dimension (from minus its size where the op wraps negative
indices as ``w[i]`` does), a value used only in arithmetic over any value, an input whose use aikg does not follow
as unknown. The verifier's trials draw across that range (``values.draw_integers``), its ends included, so a gather
of row ``i & 3`` (exact on indices 0..3, the old draw) is wrong on every trial, while the baseline is never sent out
of bounds. The suite's case is benchmarks/adversarial/cpp/c5_index_low_bits.cpp.

Values the kernel compares an input with (cross-entropy's ignore_index, -100: ``where(t != -100, t, 0)`` guards the
gather) are recorded as the range's specials and drawn in a share of every trial's elements, so a kernel without
the test is wrong on every trial (benchmarks/adversarial/cpp/c5_ignore_index_never_drawn.cpp).

An index that reaches its op through a clamp by constants (the masked losses of hand-written training code:
``labels.clamp(min=0)`` before a gather, then a mask of ``labels != -100``) may hold every value the clamp maps into
the dimension: that side of its range is open and drawn far past the bound, and -100 is kept
(benchmarks/adversarial/cpp/c5_clamped_labels_range_unknown.cpp, review 13). Specials are kept where the range is
unknown, and thresholds (``t < k``) are specials too: the constant and both its neighbours.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest
import torch
import torch.nn.functional as F
from conftest import embedding_task, only_task

from aikg_inductor.task import IntRange, KernelTask
from aikg_inductor.verify import WorkerPool, verify_candidate
from aikg_inductor.verify.correctness import TRIAL_KINDS
from aikg_inductor.verify.fresh_values import Redraw, timed_sets
from aikg_inductor.verify.values import (INT_INPUT_HIGH, SPECIAL_SHARE, VALUE_MAGNITUDE, WIDE_SHARE, Trial, as_bytes,
                                         build, call_values, draw_integers, integer_bounds, timing_trial)

CLASSES = 512

ROWS = 1000


# A correct embedding kernel written by hand (not Inductor's): the row pointer computed once per row, a negative
# index wrapped as aten.index does, no bounds check.
HAND_WRITTEN_GATHER = """#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const int64_t* in_ptr0,
                       const float* in_ptr1,
                       float* out_ptr0)
{
    using Vec = at::vec::Vectorized<float>;
    const Vec two(2.0f);
    for (int64_t x0 = 0; x0 < 256; ++x0)
    {
        const int64_t row = in_ptr0[x0] < 0 ? in_ptr0[x0] + 1000 : in_ptr0[x0];
        const float* src = in_ptr1 + 64 * row;
        for (int64_t x1 = 0; x1 < 64; x1 += 16)
            (Vec::loadu(src + x1, static_cast<int64_t>(16)) * two).store(out_ptr0 + 64 * x0 + x1);
    }
}
"""


def masked_label_loss(logp: torch.Tensor, labels: torch.Tensor, labels_to_classes) -> torch.Tensor:
    """The masked token loss with the mask ``labels != -100`` and the labels made classes by ``labels_to_classes``
    (labels, mask) before the gather."""
    mask = labels != -100
    picked = logp.gather(1, labels_to_classes(labels, mask)[:, None]).squeeze(1)
    return -(picked * mask).sum() / mask.sum()


def put_zero_at_ignored(labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """DPO's guard (``labels[labels == label_pad_token_id] = 0``) on a copy: an index_put by a boolean mask."""
    classes = labels.clone()
    classes[labels == -100] = 0
    return classes


# Review 14's ways from the labels to the classes (and review 15's index_put), each mapping -100 to a class: -100
# is a legal label for all.
LABEL_FORMS = {name: functools.partial(masked_label_loss, labels_to_classes=to_classes) for name, to_classes in {
    "masked-fill": lambda labels, mask: labels.masked_fill(~mask, 0),
    "index-put": put_zero_at_ignored,
    "mask-product": lambda labels, mask: labels * mask,
    "remainder": lambda labels, mask: torch.remainder(labels, CLASSES),
    "add-mod": lambda labels, mask: (labels + CLASSES) % CLASSES}.items()}


def label_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(64, CLASSES).log_softmax(-1), torch.randint(0, CLASSES, (64,))


@pytest.fixture(scope="module")
def task() -> KernelTask:
    return embedding_task()


def int_ranges(task: KernelTask) -> list[IntRange | None]:
    return [a.int_range for a in task.tensor_args if a.role == "in" and a.layout.dtype == "int64"]


@pytest.mark.parametrize("fn, inputs, expected", [
    # aten.index wraps a negative index (w[-1] is the last row): -1000..999.
    (lambda w, i: w[i] * 2.0, (torch.randn(ROWS, 64), torch.randint(0, ROWS, (256,))), IntRange(-ROWS, ROWS)),
    # Eager refuses negative indices here: a kernel need not handle them.
    (lambda w, i: F.embedding(i, w) * 2.0, (torch.randn(ROWS, 64), torch.randint(0, ROWS, (256,))),
     IntRange(0, ROWS)),
    (lambda x, i: torch.gather(x, 1, i), (torch.randn(8, 100), torch.randint(0, 100, (8, 5))), IntRange(0, 100)),
    # Cross-entropy targets reach the gather through where(target != -100, target, 0): the classes, and the
    # ignore_index the where guards against.
    (lambda x, t: F.cross_entropy(x, t), (torch.randn(8, 100), torch.randint(0, 100, (8,))),
     IntRange(0, 100, specials=(-100,))),
    # nll_loss2d (a 4-d input) decomposes the same way, with its own ignore_index.
    (lambda x, t: F.nll_loss(x, t, ignore_index=-1), (torch.randn(2, 16, 4, 4), torch.randint(0, 16, (2, 4, 4))),
     IntRange(0, 16, specials=(-1,))),
    # Compared with a constant that is no legal index and not guarded against: not drawn (the baseline would read
    # out of bounds).
    (lambda w, i: w[i] * (i != 5000).unsqueeze(-1), (torch.randn(ROWS, 64), torch.randint(0, ROWS, (256,))),
     IntRange(-ROWS, ROWS)),
    # Compared, and otherwise used in arithmetic: any value, the compared one often.
    (lambda x, t: torch.where(t == 3, x.sum(-1), 0.0), (torch.randn(8, 100), torch.randint(0, 8, (8,))),
     IntRange(specials=(3,))),
    # Two index inputs, one per dimension.
    (lambda w, i, j: w[i, j], (torch.randn(ROWS, 64), torch.randint(0, ROWS, (256,)), torch.randint(0, 64, (256,))),
     IntRange(-ROWS, ROWS), ),
    # Through a conversion to int32 (index_select decomposes to aten.index): still the rows.
    (lambda w, i: torch.index_select(w, 0, i.int()) + 1, (torch.randn(ROWS, 64), torch.randint(0, ROWS, (256,))),
     IntRange(-ROWS, ROWS)),
    # Through fp16, which rounds large indices: arithmetic, so unknown.
    (lambda w, i: w[i.half().long()], (torch.randn(ROWS, 64), torch.randint(0, ROWS, (256,))), None),
    # Arithmetic only: any value.
    (lambda a: (a * 3 + 1).float(), (torch.randint(0, 10, (64,)),), IntRange()),
    # An index computed from the input: its legal range is not followed, so it is unknown.
    (lambda w, i: w[i + 1] * 2.0, (torch.randn(ROWS, 64), torch.randint(0, ROWS - 1, (256,))), None),
    # Clamped below before the gather (the masked loss of hand-written training code): every negative label is
    # legal (clamped to 0), and the -100 the mask singles out is kept.
    (lambda x, t: masked_nll(x, t), (torch.randn(8, 100), torch.randint(0, 100, (8,))),
     IntRange(0, 100, specials=(-100,), open_below=True)),
    # Clamped on both sides: every value is legal.
    (lambda x, t: x.gather(1, t.clamp(0, 99)[:, None]), (torch.randn(8, 100), torch.randint(0, 100, (8,))),
     IntRange(0, 100, open_below=True, open_above=True)),
    # minimum with a constant tensor (Inductor's full): every value from the constant on is legal.
    (lambda x, t: x.gather(1, torch.minimum(t, torch.tensor(99))[:, None]),
     (torch.randn(8, 100), torch.randint(0, 100, (8,))), IntRange(0, 100, open_above=True)),
    # A clamp that keeps the compared value out of the dimension: -100 would reach the gather as -100, so it is
    # not drawn.
    (lambda x, t: x.gather(1, t.clamp(max=99)[:, None]) * (t != -100)[:, None],
     (torch.randn(8, 100), torch.randint(0, 100, (8,))), IntRange(0, 100, open_above=True)),
    # A clamp whose bound lies inside the dimension, on a wrapping index: w[-1000..999] and everything above.
    (lambda w, i: w[i.clamp(max=ROWS - 1)] * 2.0, (torch.randn(ROWS, 64), torch.randint(0, ROWS, (256,))),
     IntRange(-ROWS, ROWS, open_above=True)),
    # A threshold: the constant and both its neighbours, far outside the uniform draw.
    (lambda x, t: torch.where(t < 5000, x.sum(-1), 0.0), (torch.randn(8, 100), torch.randint(0, 8, (8,))),
     IntRange(specials=(4999, 5000, 5001))),
    # The range is unknown (arithmetic on the index), but -100 never reaches it: the where picks 0 for it.
    (lambda w, i: w[torch.where(i != -100, i, 0) + 1] * 2.0, (torch.randn(ROWS, 64), torch.randint(0, 99, (256,))),
     IntRange(specials=(-100,), known=False)),
    # Unknown, and the compared value reaches the index through the arithmetic out of the rows: not drawn.
    (lambda w, i: w[i + 1] * (i != 2000).unsqueeze(-1), (torch.randn(ROWS, 64), torch.randint(0, 99, (256,))),
     None),
    # Unknown, and the compared value reaches the index through the arithmetic as a legal row (w[0]): drawn.
    (lambda w, i: w[i + 1] * (i != -1).unsqueeze(-1), (torch.randn(ROWS, 64), torch.randint(0, 99, (256,))),
     IntRange(specials=(-1,), known=False)),
    # The guard tests another element than the one it passes (row i's label guards column j's): -100 reaches the
    # gather unguarded.
    (lambda x, t: x.gather(1, torch.where(t[:, None] != -100, t[None, :], 0)),
     (torch.randn(8, 100), torch.randint(0, 100, (8,))), IntRange(0, 100)),
    # Review 14: the guard through masked_fill and a negated comparison, and forms that leave the range unknown
    # (a product with the mask, a remainder): -100 becomes a legal class on the way to the gather, so it is drawn.
    (LABEL_FORMS["masked-fill"], label_inputs(), IntRange(0, CLASSES, specials=(-100,))),
    # Review 15: the guard as an index_put by the mask (DPO's), read as the where it computes.
    (LABEL_FORMS["index-put"], label_inputs(), IntRange(0, CLASSES, specials=(-100,))),
    # An accumulating index_put adds its value (-100 + 100 is class 0): no select, so not followed, and unknown.
    (lambda x, t: x.gather(1, t.index_put((t == -100,), torch.tensor(100), accumulate=True)[:, None]),
     label_inputs(), None),
    (LABEL_FORMS["mask-product"], label_inputs(), IntRange(specials=(-100,), known=False)),
    (LABEL_FORMS["remainder"], label_inputs(), IntRange(specials=(-100,), known=False)),
    (LABEL_FORMS["add-mod"], label_inputs(), IntRange(specials=(-100,), known=False)),
], ids=["index", "embedding", "gather", "cross-entropy", "nll-loss-2d", "unguarded-comparison",
        "compared-value", "two-indices", "int32-conversion", "fp16-conversion",
        "arithmetic", "computed-index", "clamped-below", "clamped-both-sides", "minimum-constant",
        "clamp-keeps-special-out", "clamped-wrapping-index", "threshold", "unknown-guarded-special",
        "unknown-unguarded-special", "unknown-special-to-a-legal-row", "guard-on-another-element",
        "masked-fill-guard", "index-put-guard", "accumulating-index-put",
        "mask-product", "remainder", "add-mod"])
def test_interception_records_each_integer_inputs_legal_range(fn, inputs, expected):
    recorded = int_ranges(only_task(fn, *inputs))
    assert recorded and recorded[0] == expected, recorded
    if len(recorded) == 2:
        assert recorded[1] == IntRange(-64, 64)


def test_a_recorded_range_survives_the_tasks_json(task):
    assert int_ranges(task) == [IntRange(-ROWS, ROWS)]
    assert KernelTask.from_json(task.to_json()) == task
    # A task recorded before ranges were reads back with none (the small default draw).
    old = dataclasses.replace(task, args=tuple(dataclasses.replace(a, int_range=None) for a in task.args))
    assert "int_range" not in old.to_json() and KernelTask.from_json(old.to_json()) == old


@pytest.mark.parametrize("recorded", [IntRange(-ROWS, ROWS, specials=(-100, 7)),
                                      IntRange(0, ROWS, specials=(-100,), open_below=True, open_above=True),
                                      IntRange(specials=(-100,), known=False)])
def test_recorded_specials_and_flags_survive_the_tasks_json(task, recorded):
    with_range = dataclasses.replace(task, args=tuple(
        dataclasses.replace(a, int_range=recorded) if a.int_range else a for a in task.args))
    assert KernelTask.from_json(with_range.to_json()) == with_range
    # A task recorded before specials and flags were reads back with none, and writes no key for them.
    for key in ("specials", "open_below", "open_above", "known"):
        assert f'"{key}"' not in task.to_json()
    assert KernelTask.from_json(task.to_json()) == task


def drawn_indices(task: KernelTask, trial: Trial) -> list[torch.Tensor]:
    """The index input as the kernel sees it in the trial's own argument set and in a timed set as the judge redraws
    it between samples (``fresh_values``)."""
    return redrawn_indices(task, trial, 2)


def redrawn_indices(task: KernelTask, trial: Trial, sets: int) -> list[torch.Tensor]:
    """The index input in the trial's own set and in ``sets - 1`` timed sets redrawn (the same in the judge's copy
    and the candidate's)."""
    flats = build(task, trial)
    position = next(n for n, a in enumerate(task.args) if a.layout and a.layout.dtype == "int64")
    ours = timed_sets(task, flats, sets, lambda dtype, n: torch.empty(n, dtype=dtype))
    theirs = timed_sets(task, [f.clone() if isinstance(f, torch.Tensor) else f for f in flats], sets,
                        lambda dtype, n: torch.empty(n, dtype=dtype))
    Redraw(task, trial, flats)(ours[1:], theirs[1:], sets - 1)
    for mine, shared in zip(ours, theirs):
        assert all(torch.equal(as_bytes(a), as_bytes(b)) for a, b in zip(mine, shared) if isinstance(a, torch.Tensor))
    return [call_values(task, values)[position] for values in theirs]


@pytest.mark.parametrize("kind", TRIAL_KINDS)
def test_drawn_indices_cover_the_legal_range_and_stay_in_it(task, kind):
    for seed in range(3):
        for indices in drawn_indices(task, Trial(seed, kind)):
            assert indices.dtype == torch.int64
            assert int(indices.min()) == -ROWS and int(indices.max()) == ROWS - 1  # both ends, every draw
            assert {0, -1} <= set(indices.tolist())
            # Spread over the range, not a few values: most indices are beyond the old draw's 0..3.
            assert (indices.abs() >= INT_INPUT_HIGH).float().mean() > 0.9
            assert len(set(indices.tolist())) > 100


def test_redrawn_timing_indices_differ_between_sets(task):
    sets = redrawn_indices(task, timing_trial(5), 4)
    assert all(not torch.equal(a, b) for n, a in enumerate(sets) for b in sets[n + 1:])


def test_values_only_used_in_arithmetic_are_drawn_wide_and_unknown_ones_small(task):
    (wide, _), (small, _) = (drawn_indices(with_int_range(task, r), Trial(0)) for r in (IntRange(), None))
    within = wide[wide.abs() <= VALUE_MAGNITUDE]
    assert int(within.min()) == -VALUE_MAGNITUDE and int(within.max()) == VALUE_MAGNITUDE - 1
    # An eighth reach past int32's range and float64's exact integers (int64 values narrowed to int32, or added in
    # float64, come out wrong), of either sign; a sum of two still fits in int64.
    beyond = wide.abs() > VALUE_MAGNITUDE
    assert int(beyond.sum()) <= wide.numel() // WIDE_SHARE
    assert bool((wide > 2**31).any()) and bool((wide < -(2**31)).any()) and bool((wide.abs() > 2**53).any())
    assert 2 * int(wide.abs().max()) < 2**63
    assert set(small.tolist()) == set(range(INT_INPUT_HIGH))


def with_int_range(task: KernelTask, int_range: IntRange | None) -> KernelTask:
    return dataclasses.replace(task, args=tuple(dataclasses.replace(a, int_range=int_range)
                                                if a.layout and a.layout.dtype == "int64" else a for a in task.args))


@pytest.mark.parametrize("int_range, expected", [
    (IntRange(0, ROWS, open_below=True), (-VALUE_MAGNITUDE, ROWS)),
    (IntRange(0, ROWS, open_above=True), (0, ROWS + VALUE_MAGNITUDE)),
    (IntRange(-ROWS, ROWS, open_below=True, open_above=True), (-ROWS - VALUE_MAGNITUDE, ROWS + VALUE_MAGNITUDE))])
def test_an_open_side_is_drawn_far_past_the_index_bound(task, int_range, expected):
    """A clamp maps every value past an open side into the dimension: the draw reaches VALUE_MAGNITUDE past it, so
    a kernel that drops the clamp reads out of bounds (or a wrong row) on every trial."""
    for indices in drawn_indices(with_int_range(task, int_range), Trial(0)):
        assert (int(indices.min()), int(indices.max()) + 1) == expected
        low, high = int_range.low, int_range.high
        past = ((indices < low) if int_range.open_below else (indices >= high)).float().mean()
        assert past > 0.2, past  # many values beyond the bound, not only the range's end


def test_an_unknown_range_still_draws_its_specials(task):
    """Unknown: 0..3 as before, and the specials the graph guards the index against in a share of the elements."""
    lowest, highest = SPECIAL_SHARE
    for indices in drawn_indices(with_int_range(task, IntRange(specials=(-100,), known=False)), Trial(0)):
        assert set(indices.tolist()) == set(range(INT_INPUT_HIGH)) | {-100}
        assert lowest - 0.01 <= (indices == -100).float().mean() <= highest + 0.01


def test_a_thresholds_both_sides_are_drawn(task):
    for indices in drawn_indices(with_int_range(task, IntRange(specials=(4999, 5000, 5001))), Trial(0)):
        assert {4999, 5000, 5001} <= set(indices.tolist())
        assert -VALUE_MAGNITUDE in set(indices.tolist())


@pytest.mark.parametrize("dtype, int_range, expected", [
    ("int8", IntRange(-ROWS, ROWS), (-128, 128)), ("uint8", IntRange(), (0, 256)),
    ("int32", IntRange(0, ROWS), (0, ROWS)), ("bool", None, (0, 2))])
def test_draws_stay_within_what_the_dtype_holds(task, dtype, int_range, expected):
    index = next(a for a in task.args if a.layout.dtype == "int64")
    arg = dataclasses.replace(index, layout=dataclasses.replace(index.layout, dtype=dtype), int_range=int_range)
    assert integer_bounds(arg) == expected
    drawn = torch.empty(4096, dtype=getattr(torch, dtype))
    draw_integers(drawn, arg, torch.Generator().manual_seed(0))
    assert (int(drawn.min()), int(drawn.max()) + 1) == expected


def test_a_correct_gather_written_by_hand_is_judged_correct(task, serial_pool: WorkerPool):
    """Positive control: negative indices wrapped, every row in range read right; only its speed is in question."""
    report = verify_candidate(task, HAND_WRITTEN_GATHER, pool=serial_pool, timeout_s=30)
    assert report.rule in (None, "not-faster"), report.summary()
    assert report.max_abs_error == 0


@pytest.fixture(scope="module")
def cross_entropy() -> KernelTask:
    return only_task(lambda x, t: F.cross_entropy(x, t), torch.randn(64, 512), torch.randint(0, 512, (64,)))


@pytest.mark.parametrize("kind", TRIAL_KINDS)
def test_every_trial_draws_the_ignore_index_in_a_share_of_the_targets(cross_entropy, kind):
    """In the trial's own arguments and in the timing partner's, -100 (never a class) holds 10-25% of the targets,
    the classes' ends are still drawn, and nothing else outside the classes is."""
    assert int_ranges(cross_entropy) == [IntRange(0, 512, specials=(-100,))]
    lowest, highest = SPECIAL_SHARE
    for seed in range(3):
        for targets in drawn_indices(cross_entropy, Trial(seed, kind)):
            ignored = targets == -100
            assert lowest - 1 / 64 <= ignored.float().mean() <= highest + 1 / 64, targets
            assert {0, 511} <= set(targets.tolist())
            assert bool(((targets[~ignored] >= 0) & (targets[~ignored] < 512)).all())


def test_inductors_cross_entropy_is_judged_correct_on_targets_with_the_ignore_index(cross_entropy,
                                                                                   serial_pool: WorkerPool):
    """The baseline handles the drawn ignore_index (its where and its bounds check): judged against itself it is
    exact on every trial, and only its speed is in question."""
    report = verify_candidate(cross_entropy, cross_entropy.source, pool=serial_pool, timeout_s=30)
    assert report.rule in (None, "not-faster"), report.summary()
    assert report.max_abs_error == 0


def masked_nll(logp: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The masked token loss of hand-written training code: labels padded with -100, clamped for the gather."""
    mask = labels != -100
    picked = logp.gather(1, labels.clamp(min=0).unsqueeze(1)).squeeze(1)
    return -(picked * mask).sum() / mask.sum()


@pytest.fixture(scope="module")
def masked_loss() -> KernelTask:
    return only_task(masked_nll, torch.randn(64, CLASSES).log_softmax(-1), torch.randint(0, CLASSES, (64,)))


def test_clamped_labels_are_drawn_below_zero_and_as_the_ignore_index(masked_loss):
    assert int_ranges(masked_loss) == [IntRange(0, CLASSES, specials=(-100,), open_below=True)]
    for labels in drawn_indices(masked_loss, Trial(0)):
        assert int(labels.min()) == -VALUE_MAGNITUDE and int(labels.max()) == CLASSES - 1
        assert (labels == -100).float().mean() >= SPECIAL_SHARE[0] - 1 / 64
        assert ((labels < 0) & (labels != -100)).any()


def test_inductors_masked_loss_is_judged_correct_on_clamped_labels(masked_loss, serial_pool: WorkerPool):
    """Positive control: the baseline clamps every drawn label into the classes and masks -100, so judged against
    itself it is exact on every trial (no drawn value sends it out of bounds)."""
    report = verify_candidate(masked_loss, masked_loss.source, pool=serial_pool, timeout_s=30)
    assert report.rule in (None, "not-faster"), report.summary()
    assert report.max_abs_error == 0


@pytest.fixture(scope="module", params=sorted(LABEL_FORMS))
def label_form_task(request) -> KernelTask:
    return only_task(LABEL_FORMS[request.param], *label_inputs())


def test_a_guarded_ignore_index_is_drawn_whatever_the_range_reads(label_form_task):
    """Review 14: -100 reaches the gather as a class (masked_fill's 0, the mask's product 0, the remainder's 412),
    so it is drawn in a share of every trial's labels, in the trial's own set and in the timing partner's, whether
    the labels' range is known (masked_fill) or not (the others)."""
    for seed in range(3):
        for labels in drawn_indices(label_form_task, Trial(seed)):
            assert (labels == -100).float().mean() >= SPECIAL_SHARE[0] - 1 / 64, labels


def test_inductors_kernel_is_judged_correct_on_the_drawn_ignore_index(label_form_task, serial_pool: WorkerPool):
    """Positive control: the baseline maps every drawn -100 to a class before its gather, so judged against itself
    it is exact on every trial (the drawn value never sends it out of bounds)."""
    report = verify_candidate(label_form_task, label_form_task.source, pool=serial_pool, timeout_s=30)
    assert report.rule in (None, "not-faster"), report.summary()
    assert report.max_abs_error == 0
