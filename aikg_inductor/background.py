"""Mode ``background``: misses go into an on-disk queue that a separate worker process drains.

The compile that found the miss returns at once with Inductor's kernel; the worker tunes the task and stores an
accepted kernel in the cache, whose fingerprint then changes, so a later compile picks it up.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import diskcache

from .kernel_cache import KernelCache
from .options import Options, resolve_options
from .task import KernelTask

log = logging.getLogger(__name__)

IDLE_EXIT_S = 30.0
POLL_S = 0.2


class TaskQueue:
    """A process-safe FIFO of tasks on disk; a task already waiting is not queued twice."""

    def __init__(self, cache_dir: Path) -> None:
        self._deque = diskcache.Deque(directory=str(Path(cache_dir) / "queue"))
        self._waiting = diskcache.Index(str(Path(cache_dir) / "queue-keys"))

    def push(self, task: KernelTask) -> bool:
        if self._waiting.get(task.key) is not None:
            return False
        self._waiting[task.key] = time.time()
        self._deque.append(task.to_json())
        return True

    def pop(self) -> KernelTask | None:
        try:
            text = self._deque.popleft()
        except IndexError:
            return None
        task = KernelTask.from_json(text)
        self._waiting.pop(task.key, None)
        return task

    def __len__(self) -> int:
        return len(self._deque)


def _pid_file(cache_dir: Path) -> Path:
    return Path(cache_dir) / "worker.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_pid(cache_dir: Path) -> int | None:
    try:
        pid = int(_pid_file(cache_dir).read_text())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def ensure_worker(options: Options) -> int:
    """Start the worker for ``options.cache_dir`` unless one is running; returns its pid."""
    running = worker_pid(options.cache_dir)
    if running is not None:
        return running
    log_path = Path(options.cache_dir) / "worker.log"
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "aikg_inductor.background"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE,
            start_new_session=True,  # the worker outlives a compile that is interrupted
        )
    # The options go on stdin, not the command line, which any local user can read: they may hold an API key.
    assert process.stdin is not None
    with process.stdin:
        process.stdin.write(_options_json(options).encode())
    _pid_file(options.cache_dir).write_text(str(process.pid))
    log.info("aikg: started background worker pid %d (log: %s)", process.pid, log_path)
    return process.pid


def _options_json(options: Options) -> str:
    return json.dumps(dataclasses.asdict(options), default=str)  # Paths as strings; resolve_options reads them back


def run_worker(options: Options, idle_exit_s: float = IDLE_EXIT_S) -> int:
    """Drain the queue, tuning each task; exit after ``idle_exit_s`` with nothing to do. Returns tasks handled."""
    from .pipeline import TuneContext, tune_task

    queue, cache = TaskQueue(options.cache_dir), KernelCache(options.cache_dir)
    context = TuneContext.local(options, cache)
    handled, idle_since = 0, time.monotonic()
    while time.monotonic() - idle_since < idle_exit_s:
        task = queue.pop()
        if task is None:
            time.sleep(POLL_S)
            continue
        outcome = tune_task(task, context)
        handled += 1
        log.info("worker: task %s done: %s", task.short_key, outcome.reason)
        idle_since = time.monotonic()
    return handled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="aikg background tuning worker (started by mode=background); "
                                                 "reads its Options as JSON on stdin")
    parser.add_argument("--idle-exit", type=float, default=IDLE_EXIT_S, help="seconds idle before exiting")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # The parent resolved the options, its environment included; this process's own environment adds nothing.
    options = resolve_options(json.load(sys.stdin), environ={})
    try:
        handled = run_worker(options, args.idle_exit)
    finally:
        if worker_pid(options.cache_dir) == os.getpid():
            _pid_file(options.cache_dir).unlink(missing_ok=True)
    log.info("worker: exiting after %d task(s)", handled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
