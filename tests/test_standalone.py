"""A kernel run alone: inputs rebuilt from its task (the verifier's own builder), Inductor's kernel launched."""

import math

import torch

from aikg_inductor.verify import standalone
from conftest import only_task


def test_runner_reproduces_the_kernel_on_fresh_inputs():
    task = only_task(lambda x, b: torch.relu(x + b).sum(0), torch.randn(48, 40), torch.randn(40))
    seed = 7
    values = standalone.make_values(task, seed)
    x, b = (v for v, a in zip(values, task.args) if a.role == "in")
    outputs = standalone.run(task, seed=seed)
    (out,) = outputs.values()
    torch.testing.assert_close(out, torch.relu(x + b).sum(0))
    assert not torch.equal(standalone.make_values(task, seed + 1)[0], values[0])  # fresh inputs per seed


def test_layouts_are_rebuilt_exactly_and_outputs_are_poisoned():
    task = only_task(lambda x: x.t() * 3, torch.randn(16, 24))
    values = standalone.make_values(task, seed=0)
    for arg, value in zip(task.args, values):
        if arg.layout is not None:
            assert tuple(value.shape) == arg.layout.size and tuple(value.stride()) == arg.layout.stride
            if arg.role == "out":
                assert torch.isnan(value).all()


def test_timing_is_positive_and_finite():
    task = only_task(lambda x: torch.softmax(x, -1), torch.randn(32, 64))
    seconds = standalone.median_seconds(task, reps=5)
    assert 0 < seconds < 1 and math.isfinite(seconds)
