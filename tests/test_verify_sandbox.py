"""The candidate runner's sandbox, and what the judge makes of a candidate that breaks it.

The first tests lock a throwaway Python process down (``sandbox.lock_down``) and try each forbidden thing there.
The runner tests drive a real ``CandidateRunner`` with Inductor's add+relu Triton kernel (under Triton's
interpreter, where a ``@triton.jit`` body runs as Python) with a forbidden call added to its body. The verifier's
static guards would refuse these sources before any runner saw them; driving the runner directly shows the second
line, the sandbox, holding on its own. A canary file that any escaped write would create is checked at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from aikg_inductor.verify.runner import CandidateRunner, RunnerFailed
from aikg_inductor.verify.sandbox import ALL_LAYERS, SECCOMP
from aikg_inductor.verify.shared import Arena, arena_bytes
from aikg_inductor.verify.values import Trial, build, flat_sizes
from conftest import REPO

pytest.importorskip("landlockpy")
pytest.importorskip("pyseccomp")


def locked_python(tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    script = textwrap.dedent(f"""
        import os, sys, torch
        from aikg_inductor.verify.sandbox import lock_down
        applied = lock_down({str(scratch)!r}, "cpu", 60)
        print("layers", *applied.layers, flush=True)
    """) + textwrap.dedent(code)
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(scratch), "OMP_NUM_THREADS": "2"}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)


def test_a_locked_down_process_computes_with_threads_and_writes_only_its_scratch(tmp_path):
    outside = tmp_path / "outside.txt"
    result = locked_python(tmp_path, f"""
        x = torch.randn(512, 512)
        print("matmul", torch.get_num_threads(), bool(torch.isfinite(x @ x).all()), flush=True)
        open({str(tmp_path / "scratch" / "ok.txt")!r}, "w").write("fine")
        try:
            open({str(outside)!r}, "w")
        except PermissionError:
            print("write outside denied", flush=True)
    """)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split("\n")[0].split()[1:]) == sorted(ALL_LAYERS), result.stdout
    assert "matmul 2 True" in result.stdout and "write outside denied" in result.stdout
    assert (tmp_path / "scratch" / "ok.txt").read_text() == "fine" and not outside.exists()


@pytest.mark.parametrize("call", ["os.fork()", "os.system('true')", "__import__('socket').socket()",
                                  "__import__('subprocess').run(['true'])"])
def test_new_processes_and_sockets_kill_the_process(tmp_path, call):
    result = locked_python(tmp_path, f"{call}\nprint('still alive', flush=True)\n")
    assert result.returncode == -signal.SIGSYS, (result.returncode, result.stdout, result.stderr)
    assert "still alive" not in result.stdout


# ------------------------------------------------------------------------------ a runner with a hostile kernel


@pytest.fixture(scope="module")
def add_relu():
    sys.path.insert(0, str(REPO / "tests"))
    from test_verify_triton_interpret import ADD_RELU, N, shrunk

    from aikg_inductor.task import TensorLayout

    layout = TensorLayout((64, 64), (64, 1), "float32")
    return shrunk(ADD_RELU, {"33554432": str(N)}, {"in_ptr0": layout, "in_ptr1": layout, "out_ptr0": layout},
                  {"xnumel": N})


def run_in_runner(task, statement: str) -> str | None:
    """Prepare, lock down, load and call ``task``'s kernel with ``statement`` first in its body; the rule of the
    failure, or None."""
    jit_def = task.source.split("@triton.jit", 1)[1].split("\n", 2)[1]
    source = task.source.replace(jit_def + "\n", f"{jit_def}\n    {statement}\n", 1)
    source = source.replace("import triton\n", "import triton\nimport os, socket\n", 1)
    trial = Trial(seed=1)
    arena = Arena.create(arena_bytes([flat_sizes(task, trial)]), "cpu")
    shared = build(task, trial, storage=arena.storage)
    runner = CandidateRunner(["triton-cuda"], {"TRITON_INTERPRET": "1"}, own_inductor_cache=True)
    try:
        runner.wait_ready(120)
        runner.request({"op": "prepare", "task": task.to_json(), "source": source}, 120, "compile")
        header, fds = arena.export()
        runner.request({"op": "arena", **header}, 30, "sharing memory", fds)
        locked = runner.request({"op": "lockdown", "scratch": runner.scratch, "cpu_seconds": 60}, 30, "sandbox")
        assert SECCOMP in locked["layers"], locked
        runner.request({"op": "load"}, 30, "load")
        runner.request({"op": "bind", "trial": {"seed": 1, "kind": "normal", "symbols": None},
                        "sets": [arena.slots(shared)]}, 30, "bind")
        runner.request({"op": "call"}, 30, "call")
    except RunnerFailed as err:
        return err.rule
    finally:
        runner.close()
        arena.close()
    out = shared[-2]
    assert isinstance(out, torch.Tensor) and not torch.isnan(out[1024:1024 + 4096]).any(), "the kernel ran"
    return None


CANARY = Path("/tmp/aikg-sandbox-canary")


@pytest.mark.parametrize("statement", ["os.fork()", "os.system('touch /tmp/aikg-sandbox-canary')",
                                       "socket.socket().connect(('127.0.0.1', 9))",
                                       "open('/tmp/aikg-sandbox-canary', 'w').write('escaped')"])
def test_a_forbidden_call_in_a_kernel_is_a_sandbox_violation(add_relu, statement):
    CANARY.unlink(missing_ok=True)
    assert run_in_runner(add_relu, statement) == "sandbox-violation"
    assert not CANARY.exists(), "a forbidden side effect got out of the sandbox"


def test_the_same_runner_path_runs_an_honest_kernel(add_relu):
    assert run_in_runner(add_relu, "pass") is None


def test_a_runner_is_started_without_the_credentials_in_our_environment(monkeypatch):
    """Candidate code runs in the runner: an LLM endpoint's key (or any KEY/TOKEN/SECRET variable) stays behind."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-candidates")
    monkeypatch.setenv("AIKG_LLM_API_KEY", "sk-not-for-candidates")
    monkeypatch.setenv("HF_TOKEN", "hf-not-for-candidates")
    monkeypatch.setenv("AIKG_HARMLESS_SETTING", "kept")
    runner = CandidateRunner(["cpp-cpu"])
    try:
        environ = Path(f"/proc/{runner.proc.pid}/environ").read_bytes().split(b"\0")
    finally:
        runner.close()
    assert b"AIKG_HARMLESS_SETTING=kept" in environ
    assert not [v for v in environ if b"not-for-candidates" in v]
