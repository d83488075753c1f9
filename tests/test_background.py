"""Mode background: misses go to an on-disk queue that a real separate worker process drains."""

import os
import time

import torch

from aikg_inductor.background import TaskQueue, worker_pid
from conftest import double, only_task


def test_background_mode_queues_misses_for_a_worker_process(cache_dir):
    x = torch.randn(32)
    f = torch.compile(double, backend="aikg", options={"mode": "background", "cache_dir": str(cache_dir)})
    torch.testing.assert_close(f(x), x * 2)  # Inductor's kernel now, without waiting for the worker
    pid = worker_pid(cache_dir)
    assert pid is not None and pid != os.getpid()
    log = cache_dir / "worker.log"
    deadline = time.monotonic() + 120
    done = "done: no candidate was offered"
    while done not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert f"task {only_task(double, x).short_key} {done}" in log.read_text()
    assert len(TaskQueue(cache_dir)) == 0


def test_queue_is_fifo_and_deduplicates(cache_dir):
    first, second = only_task(double, torch.randn(8)), only_task(double, torch.randn(9))
    queue = TaskQueue(cache_dir)
    assert queue.push(first) and queue.push(second)
    assert not queue.push(first)
    assert [queue.pop().key, queue.pop().key, queue.pop()] == [first.key, second.key, None]
