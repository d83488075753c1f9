"""The Inductor-seeded tuner: round one is Inductor's own configurations, then coordinate descent.

The first test runs on CPU under Triton's interpreter: Inductor's real looped softmax kernel (recorded on an H100,
shrunk to 2x64 fp32) is loaded by Inductor's own decorator, whose autotuner holds the configurations its heuristic
gave; the tuner's first round must hold them all, default mode and max-autotune alike, and a max-autotune one must
pass the real verifier. The descent test uses a TEST DOUBLE for the verifier (a scripted judge that times a
configuration by a fixed cost landscape), since the move logic, not a GPU's timings, is what it checks.
"""

from __future__ import annotations

import math

import pytest
import torch

from aikg_inductor.search.evolve import Budget, PopulationSearch
from aikg_inductor.search.proposers import Attempt, SearchContext
from aikg_inductor.search.proposers.tuner import (
    LaunchConfig, TritonConfigTuner, block_limit, inductor_configs, kernel_shape,
)
from aikg_inductor.verify import VerificationReport, WorkerPool, verify_candidate
from test_tuner import SOFTMAX, task_named
from test_verify_triton_interpret import softmax  # noqa: F401 - the shrunk softmax task, a fixture

pytest.importorskip("triton")


def autotuner_configs(task, monkeypatch, max_autotune: bool) -> set[LaunchConfig]:
    """The configurations Inductor's own decorator hands its run-time autotuner, for ``task``'s source as Inductor
    wrote it (with max-autotune's flags set when asked), loaded as Inductor loads it, under the interpreter."""
    from torch._inductor.codecache import PyCodeCache
    from torch._inductor.runtime import triton_helpers

    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setattr(triton_helpers, "set_driver_to_gpu", lambda: None)
    source = task.source.replace("Placeholder.KERNEL_NAME", "kernel").replace("device='cuda'", "device='cpu'")
    if max_autotune:
        source = source.replace("'max_autotune': False", "'max_autotune': True").replace(
            "'max_autotune_pointwise': False", "'max_autotune_pointwise': True")
    autotuner = PyCodeCache.load(source).kernel
    params = kernel_shape(task).block_params
    return {LaunchConfig(tuple((p, c.kwargs[p]) for p in params), c.num_warps, c.num_stages)
            for c in autotuner.configs}


def test_round_one_holds_inductors_configurations_and_they_verify(softmax, monkeypatch):  # noqa: F811
    default = autotuner_configs(softmax, monkeypatch, max_autotune=False)
    widened = autotuner_configs(softmax, monkeypatch, max_autotune=True)
    assert default and widened - default, "max-autotune should widen the heuristic's set at this size"

    first = TritonConfigTuner().propose(softmax, SearchContext(), limit=16)
    offered = [LaunchConfig.from_dict(c.notes["config"]) for c in first]
    assert {c.notes["stage"] for c in first} == {"inductor"}
    assert set(offered[:len(default)]) == default  # the default mode's (its run-time pick among them) first
    assert set(offered) == default | widened

    # A configuration only max-autotune would try is a correct kernel by the real verifier: on the GPU where there is
    # one, else under the interpreter (triton 3.6's interpreter with torch 2.11 fails on Inductor's own kernel here:
    # "only 0-dimensional arrays can be converted to Python scalars", a harness-error on the H200).
    extra = next(c for c, config in zip(first, offered) if config not in default)
    on_cpu = {} if torch.cuda.is_available() else {"TRITON_INTERPRET": "1"}
    pool = WorkerPool(1, dsls=("triton-cuda",), threads=1, env=on_cpu)
    try:
        report = verify_candidate(softmax, extra.source, pool=pool)
    finally:
        pool.close()
    assert report.accepted or report.rule == "not-faster", report.summary()


# ------------------------------------------------------------------------------------------------- descent

OPTIMUM = {"XBLOCK": 4, "R0_BLOCK": 1024, "num_warps": 4}


def landscape_seconds(config: LaunchConfig) -> float:
    """TEST DOUBLE's timing: a bowl in log2 space, lowest at OPTIMUM (a configuration none of Inductor's own is)."""
    fields = {**dict(config.blocks), "num_warps": config.num_warps}
    weights = {"XBLOCK": 1.0, "R0_BLOCK": 0.5, "num_warps": 0.3}
    return 1.0 + sum(w * (math.log2(fields[k]) - math.log2(OPTIMUM[k])) ** 2 for k, w in weights.items())


def inductor_style_descent(start: LaunchConfig, shape) -> LaunchConfig:
    """A reference for what max-autotune reaches: greedy coordinate descent (one field at a time, doubled or
    halved, move on improvement, repeat until a full pass improves nothing), written here from its description."""
    best = start
    improved = True
    while improved:
        improved = False
        for field in [p for p, _ in best.blocks] + ["num_warps"]:
            for factor in (2, 0.5):
                if field == "num_warps":
                    trial = LaunchConfig(best.blocks, int(best.num_warps * factor), best.num_stages)
                    ok = 1 <= trial.num_warps <= 32
                else:
                    size = int(dict(best.blocks)[field] * factor)
                    trial = LaunchConfig(tuple((p, size if p == field else s) for p, s in best.blocks),
                                         best.num_warps, best.num_stages)
                    ok = 1 <= size <= block_limit(shape, field)
                if ok and landscape_seconds(trial) < landscape_seconds(best) * 0.999:
                    best, improved = trial, True
    return best


def test_descent_finds_at_least_what_max_autotune_finds_within_the_default_budget():
    task = task_named(SOFTMAX)
    shape = kernel_shape(task)
    baseline_s = landscape_seconds(inductor_configs(shape)[0])
    judged: list[list[dict]] = []

    def scripted_judge(candidates):
        """TEST DOUBLE for the verifier: every candidate correct, its speed from the landscape."""
        judged.append([c.notes["config"] for c in candidates])
        attempts = []
        for c in candidates:
            speedup = baseline_s / landscape_seconds(LaunchConfig.from_dict(c.notes["config"]))
            verdict = "accepted" if speedup > 1.03 else "rejected"
            attempts.append(Attempt(c, VerificationReport(
                verdict=verdict, rule=None if verdict == "accepted" else "not-faster", reason="", task_key=task.key,
                dsl=task.dsl, speedup=speedup)))
        return attempts

    result = PopulationSearch(task, [TritonConfigTuner()], scripted_judge, Budget(wall_s=None, candidates=16)).run()

    seeds = inductor_configs(shape)
    max_autotune_pick = inductor_style_descent(min(seeds, key=landscape_seconds), shape)
    found = LaunchConfig.from_dict(result.best.candidate.notes["config"])
    assert landscape_seconds(found) <= landscape_seconds(max_autotune_pick)
    assert len(result.attempts) <= 16
    # Round one was Inductor's own; each later round was the neighbourhood of the best before it.
    assert [LaunchConfig.from_dict(c) for c in judged[0]] == seeds
    assert all(a.candidate.notes["stage"] == "descent" for a in result.attempts[len(seeds):])
    assert {k: v for k, v in result.best.candidate.notes["config"].items() if k in OPTIMUM} == OPTIMUM
