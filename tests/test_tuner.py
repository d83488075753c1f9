"""The config tuner's source rewriting and search space, on real Inductor Triton kernels captured on an H100.

The fixtures are tasks recorded by `aikg inspect --device cuda --save-tasks` (torch 2.11, triton 3.6); running the
candidates needs a GPU (benchmarks/run_suite.py), so here we check what the tuner writes, not how fast it runs.
"""

import ast
from pathlib import Path

import pytest

from aikg_inductor import KernelTask
from aikg_inductor.search.proposers import Attempt, SearchContext
from aikg_inductor.search.proposers.tuner import (
    MAX_BLOCK_ELEMENTS, LaunchConfig, NotTunableError, TritonConfigTuner, coarse_grid, descent_neighbours,
    inductor_configs, kernel_shape, with_fixed_config,
)
from aikg_inductor.verify import VerificationReport

FIXTURES = Path(__file__).parent / "fixtures" / "triton_tasks"


def task_named(name: str) -> KernelTask:
    for path in FIXTURES.glob("*.json"):
        task = KernelTask.load(path)
        if task.name == name:
            return task
    raise LookupError(name)


SOFTMAX = "fused__softmax_exp_prepare_softmax_online_sub"


@pytest.mark.parametrize("name, kind, blocks", [
    (SOFTMAX, "reduction", ("XBLOCK", "R0_BLOCK")),
    ("fused__softmax_prepare_softmax_online", "persistent_reduction", ("XBLOCK",)),
    ("fused_add_relu", "pointwise", ("XBLOCK",)),
    ("fused_clone_gelu_mul_t", "pointwise", ("YBLOCK", "XBLOCK")),
])
def test_kernel_shape_reads_the_heuristic_and_block_parameters(name, kind, blocks):
    shape = kernel_shape(task_named(name))
    assert (shape.kind, shape.block_params) == (kind, blocks)
    assert "x" in shape.numels


def test_fixed_config_replaces_only_the_decorator():
    task = task_named(SOFTMAX)
    shape = kernel_shape(task)
    config = coarse_grid(shape)[0]
    source = with_fixed_config(task, shape, config)
    tree = ast.parse(source.replace("Placeholder.KERNEL_NAME", "k"))
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    decorator = function.decorator_list[0]
    assert ast.unparse(decorator.func) == "triton_heuristics.fixed_config"
    assert ast.literal_eval(next(k.value for k in decorator.keywords if k.arg == "config")) == config.as_dict()
    # Everything from @triton.jit on is Inductor's kernel, unchanged.
    assert source.split("@triton.jit", 1)[1] == task.source.split("@triton.jit", 1)[1]
    assert "triton_heuristics.reduction(" not in source


def test_search_space_respects_the_tile_limit_and_the_dimensions():
    for path in FIXTURES.glob("*.json"):
        shape = kernel_shape(KernelTask.load(path))
        grid = coarse_grid(shape)
        assert grid, path.name
        for config in grid:
            blocks = dict(config.blocks)
            assert config.elements <= MAX_BLOCK_ELEMENTS
            assert blocks.get("R0_BLOCK", 1) <= max(shape.numels.get("r0", 1), 1) * 2
            assert 1 <= config.num_warps <= 16
        assert len({c for c in grid}) == len(grid)


def report(speedup):
    return VerificationReport(verdict="rejected", rule="not-faster", reason="", task_key="k", dsl="triton-cuda",
                              speedup=speedup)


def test_later_rounds_descend_from_the_fastest_and_never_repeat():
    task = task_named(SOFTMAX)
    shape = kernel_shape(task)
    tuner = TritonConfigTuner()
    first = tuner.propose(task, SearchContext(), limit=8)
    assert [c.notes["config"] for c in first] == [c.as_dict() for c in inductor_configs(shape)]
    history = [Attempt(c, report(s)) for c, s in zip(first, (1.0, 1.2, 0.8, 0.9, 0.7, 0.6))]
    second = tuner.propose(task, SearchContext.of(history), limit=8)
    best = LaunchConfig.from_dict(first[1].notes["config"])
    seen = {str(c.notes["config"]) for c in first}
    expected = {str(c.as_dict()) for c in descent_neighbours(best, shape)} - seen
    assert expected and {str(c.notes["config"]) for c in second} == expected
    assert all(c.notes["stage"] == "descent" for c in second)


def test_cpp_kernels_are_not_tunable():
    cpp = KernelTask("k", "cpp-cpu", "cpu", "avx2", "2.13", None, "extern \"C\" void f() {}", (), ())
    with pytest.raises(NotTunableError):
        kernel_shape(cpp)
    assert TritonConfigTuner().propose(cpp, SearchContext(), 4) == []


def test_retrieval_applies_a_configuration_won_on_a_similar_kernel(tmp_path):
    from aikg_inductor import KernelCache
    from aikg_inductor.kernel_cache import KernelIndex
    from cache_entries import accepted_entry
    from aikg_inductor.search.proposers.retrieval import RetrievalProposer

    won_on, target = task_named("fused_sum"), task_named(SOFTMAX)
    config = {"XBLOCK": 1, "R0_BLOCK": 4096, "num_warps": 8, "num_stages": 1}
    cache = KernelCache(tmp_path)
    KernelIndex(cache).put(accepted_entry(won_on, won_on.source, speedup=1.2, proposer="tuner",
                                          notes={"config": config}))
    retrieval = RetrievalProposer(KernelIndex(cache))

    (candidate,) = retrieval.propose(target, SearchContext(), 4)
    assert candidate.proposer == "retrieval" and candidate.notes["from_task"] == won_on.key
    assert candidate.source == with_fixed_config(target, kernel_shape(target), LaunchConfig.from_dict(config))
    tried = SearchContext.of([Attempt(candidate, report(1.0))])
    assert retrieval.propose(target, tried, 4) == []  # offered once only
    # A pointwise kernel has no R0_BLOCK: the configuration does not fit and nothing is offered.
    assert retrieval.propose(task_named("fused_add_relu"), SearchContext(), 4) == []
