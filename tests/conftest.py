import logging
from pathlib import Path

import pytest
import torch

from aikg_inductor import KernelTask, capture

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch.compiler.reset()
    yield
    torch.compiler.reset()


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


@pytest.fixture
def aikg_logs(caplog):
    caplog.set_level(logging.INFO, logger="aikg_inductor")
    return caplog
