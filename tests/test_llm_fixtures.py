"""HAND-WRITTEN STAND-INS for a strong model's replies (a sketch and a kernel written by a person, NOT model output),
replayed through the real pipeline: transcript replay -> Designer -> Coder -> static guards -> the real verifier in
worker processes -> the cache. The fixtures live in benchmarks/llm_fixtures.py, which also runs them on a GPU.

What is asserted is what is honest here: each kernel passes every correctness trial (accepted, or rejected only as
not faster), the loop spent two LLM calls on it (Designer and Coder; the Conductor has no choice before the first
candidate), and the prompts stayed within the contract. Speed verdicts on this shared 2-core machine are noisy, and
under Triton's interpreter meaningless: the speedups are printed (and recorded by the benchmark), not asserted.
"""

import dataclasses
import sys

import pytest

from aikg_inductor.verify import WorkerPool
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import llm_fixtures  # noqa: E402 - the fixtures, shared with the GPU run

FIXTURES = {f.name: f for f in llm_fixtures.FIXTURES}


@pytest.fixture(scope="module")
def interpreter_pool():
    pool = WorkerPool(1, dsls=("triton-cuda",), threads=1, env={"TRITON_INTERPRET": "1"})
    yield pool
    pool.close()


@pytest.mark.parametrize("name", ["softmax_online_cpp", "cross_entropy_fused_cpp"])
def test_cpp_fixture_is_correct_through_the_real_pipeline(name, tmp_path, serial_pool):
    record = llm_fixtures.run_fixture(FIXTURES[name], "cpu", tmp_path, serial_pool)
    print(name, {k: record[k] for k in ("verdict", "rule", "speedup", "llm_calls", "tokens_estimated")})
    assert record["rule"] in (None, "not-faster"), record["reason"]
    assert record["max_abs_error"] is not None and {"large", "tiny", "negative-zero-rows"} <= set(record["trials"])
    assert record["llm_calls"] == 2 and record["tokens_estimated"] > 0
    assert record["label"] == llm_fixtures.LABEL


# The cross-entropy fixture captures its own task and interprets a baseline whose max runs a Python combine function
# per element (about a minute more here): slow tier.
@pytest.mark.parametrize("name", ["softmax_single_pass_triton", "softmax_split_workspace_triton",
                                  "rmsnorm_persistent_triton",
                                  pytest.param("cross_entropy_fused_triton", marks=pytest.mark.slow)])
def test_triton_fixture_is_correct_under_the_interpreter(name, tmp_path, interpreter_pool):
    pytest.importorskip("triton")
    record = llm_fixtures.run_fixture(FIXTURES[name], "cpu", tmp_path, interpreter_pool)
    print({k: record[k] for k in ("verdict", "rule", "speedup", "llm_calls")})
    assert record["rule"] in (None, "not-faster"), record["reason"]
    assert "Triton interpreter" in record["verifier_device"] and not record["speed_meaningful"]
    assert record["max_abs_error"] is not None and record["llm_calls"] == 2
    assert {"large", "tiny", "negative-zero-rows"} <= set(record["trials"])


def test_split_softmax_merges_chunks_of_several_tiles(tmp_path, interpreter_pool):
    # At the fixture's variant a 4x40 task gets chunks of one tile; a variant of 16-column tiles, two a chunk and no
    # floor on programs runs the tile loop within a chunk and a short last chunk (40 = 32 + 8) through the verifier.
    pytest.importorskip("triton")
    source = llm_fixtures.with_variant(llm_fixtures.SPLIT_SOFTMAX.read_text(), tile=16, tiles=2, min_programs=1)
    fixture = dataclasses.replace(FIXTURES["softmax_split_workspace_triton"],
                                  code=lambda task, device: llm_fixtures.softmax_split_code(task, device, source))
    record = llm_fixtures.run_fixture(fixture, "cpu", tmp_path, interpreter_pool)
    assert record["rule"] in (None, "not-faster"), record["reason"]
    assert {"large", "tiny", "negative-zero-rows"} <= set(record["trials"])


def test_with_variant_sets_only_existing_variant_lines():
    source = llm_fixtures.SPLIT_SOFTMAX.read_text()
    assert "    tile = 2048\n" in llm_fixtures.with_variant(source, tile=2048)
    with pytest.raises(ValueError):
        llm_fixtures.with_variant(source, splits=3)  # assigned in the launcher, but not a variant line


@pytest.mark.parametrize("name", ["rmsnorm", "sampler_softmax",
                                  pytest.param("cross_entropy", marks=pytest.mark.slow)])
def test_live_task_is_inductors_triton_for_cpu_tensors(name):
    # Captured in a subprocess that interprets Triton: a triton-cuda task (the interpreter's path) on the CPU, in
    # the CUDA module form, with the sizes of the model's CPU inputs.
    pytest.importorskip("triton")
    task = llm_fixtures.live_task(name, "cpu")
    assert (task.dsl, task.device_type) == ("triton-cuda", "cpu")
    assert "triton_helpers.set_driver_to_gpu()" in task.source and "set_driver_to_cpu" not in task.source
    model_inputs = llm_fixtures.LIVE_TASKS[name].inputs("cpu")
    assert any(a.layout is not None and a.layout.size == tuple(model_inputs[0].shape) for a in task.args)
