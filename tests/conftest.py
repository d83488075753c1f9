import contextlib
import logging
from pathlib import Path

import pytest
import torch

from aikg_inductor import KernelTask, capture

REPO = Path(__file__).resolve().parent.parent

# Where code may go at a C++ kernel's start: past the two statements that must open it when it has them (the header's
# flag pointed at the call's error counter; the verifier refuses a kernel whose first statements are other ones).
BODY_START = ("{\n    std::atomic<int> inductor_cpu_integer_div_error{0};\n"
              "    inductor_cpu_integer_div_error_flag = &inductor_cpu_integer_div_error;")
BODY_END = "    inductor_cpu_throw_if_integer_div_error(inductor_cpu_integer_div_error);\n}"


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch.compiler.reset()
    yield
    torch.compiler.reset()


@pytest.fixture
def restore_torch_configs():
    """Puts back, after the test, the Inductor and functorch settings it may change.

    Through torch's own ``config.patch``: ``monkeypatch.setattr`` on a torch config module is undone by deleting the
    attribute under some pytest releases (9.2), which hides the setting from every later test.
    """
    names = {torch._inductor.config: ("fx_graph_cache", "fx_graph_remote_cache"),
             torch._functorch.config: ("enable_autograd_cache", "enable_remote_autograd_cache")}
    with contextlib.ExitStack() as stack:
        for module, keys in names.items():
            stack.enter_context(module.patch({key: getattr(module, key) for key in keys}))
        yield


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "aikg-cache"


def double(x: torch.Tensor) -> torch.Tensor:
    return x * 2


def only_task(fn, *inputs) -> KernelTask:
    """Compile ``fn`` through aikg (mode off) and return its single fused kernel task."""
    session, _ = capture(fn, list(inputs), {"mode": "off"})
    assert len(session.tasks) == 1, f"expected one kernel, got {len(session.tasks)}"
    return next(iter(session.tasks.values()))


def softmax_task() -> KernelTask:
    """Inductor's kernel for ``softmax(x * 0.125)`` over 64x512 float32: the task of examples/softmax_scale.py, whose
    hand-written fused kernel (examples/candidates/softmax_scale_fused.cpp) is the positive control."""
    task = only_task(lambda x: torch.softmax(x * 0.125, dim=-1), torch.randn(64, 512))
    assert BODY_START in task.source and BODY_END in task.source, "Inductor's softmax kernel changed shape"
    return task


def embedding_task() -> KernelTask:
    """Inductor's kernel for ``w[i] * 2.0``: a gather of 256 rows of a 1000x64 float32 table by int64 indices."""
    return only_task(lambda w, i: w[i] * 2.0, torch.randn(1000, 64), torch.randint(0, 1000, (256,)))


def only_dynamic_task(fn, *inputs) -> KernelTask:
    """``only_task`` compiled with ``torch.compile(dynamic=True)``: a kernel taking its sizes as arguments."""
    from aikg_inductor.backend import CompileSession, compile_graph
    from aikg_inductor.options import resolve_options

    session = CompileSession(resolve_options({"mode": "off"}))
    torch.compiler.reset()
    compiled = torch.compile(fn, dynamic=True, backend=lambda gm, example_inputs: compile_graph(gm, example_inputs,
                                                                                                session))
    with torch.no_grad():
        compiled(*inputs)
    assert len(session.tasks) == 1, f"expected one kernel, got {len(session.tasks)}"
    return next(iter(session.tasks.values()))


@pytest.fixture
def aikg_logs(caplog):
    caplog.set_level(logging.INFO, logger="aikg_inductor")
    return caplog


@pytest.fixture(scope="session")
def serial_pool():
    """A verifier pool whose kernels run on one OpenMP thread: on a shared 2-core machine, timings of
    multi-threaded kernels are noise, and accept/not-faster verdicts with them."""
    from aikg_inductor.verify import WorkerPool

    pool = WorkerPool(1, threads=1)
    yield pool
    pool.close()


def replaying_llm_proposer(task, transcript_dir, designer_reply: str, coder_reply: str, lanes: int = 4):
    """An LLM proposer in replay mode whose transcript store answers the first Designer and Coder requests of each
    of its ``lanes`` for ``task`` with the given replies (REPLAYED, HAND-WRITTEN FIXTURES, not model output);
    returns it and the sketch."""
    import sys

    from aikg_inductor.agents.sketch import parse_sketch

    sys.path.insert(0, str(REPO / "benchmarks"))
    from llm_fixtures import replaying_proposer

    proposer = replaying_proposer(task, transcript_dir, designer_reply, coder_reply, lanes)
    return proposer, parse_sketch(designer_reply).text()
