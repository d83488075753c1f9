"""Offline pre-tuning: every fused kernel of one or more problem files, tuned once each, results in the cache."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch

from .backend import capture
from .kernel_cache import KernelCache
from .options import Options, resolve_options
from .pipeline import TuneOutcome, tune_task
from .problem import ProblemError, find_problems, load_problem
from .task import KernelTask


@dataclasses.dataclass(frozen=True)
class TunedKernel:
    """One row of a tuning run: a kernel, where it came from, and what tuning it came to."""

    task: KernelTask
    problems: tuple[str, ...]  # problem files whose compiled graphs contain this kernel
    outcome: TuneOutcome | None  # None: an accepted kernel was already in the cache

    @property
    def tokens(self) -> int:
        return 0 if self.outcome is None else self.outcome.tokens


def collect_tasks(
    targets: Iterable[Path | str], device: str = "cpu", dtype: torch.dtype | None = None
) -> dict[str, tuple[KernelTask, list[str]]]:
    """Every distinct kernel (by exact key) of the problems in ``targets`` (files or folders of files). A target that
    is a recorded task (``*.json``) or a folder of them is taken as it is (see ``recorded_tasks``)."""
    tasks: dict[str, tuple[KernelTask, list[str]]] = {}
    problem_targets = []
    for target in targets:
        recorded = recorded_tasks(target)
        if recorded is None:
            problem_targets.append(target)
        for task, source in recorded or ():
            tasks.setdefault(task.key, (task, []))[1].append(source)
    for path in (p for target in problem_targets for p in find_problems(target)):
        problem = load_problem(path, device, dtype)
        session, _ = capture(problem.model, problem.inputs, {"mode": "off"})
        for key, task in session.tasks.items():
            tasks.setdefault(key, (task, []))[1].append(problem.name)
    return tasks


def recorded_tasks(target: Path | str) -> list[tuple[KernelTask, str]] | None:
    """The tasks in a task file (``*.json``) or a folder holding task files and no problem files, each with the
    folder it came from; None when ``target`` is a problem file or folder. Task files are what ``record_dir`` (for
    instance vLLM's compiles under the aikg plugin) and ``aikg inspect --save-tasks`` write."""
    target = Path(target)
    if target.is_dir() and not any(target.glob("*.py")):
        files = sorted(target.glob("*.json"))
    elif target.suffix == ".json":
        files = [target]
    else:
        return None
    if not files:
        raise ProblemError(f"{target}: no problem files (*.py) and no task files (*.json) in this folder")
    loaded = []
    for path in files:
        try:
            loaded.append((KernelTask.load(path), path.parent.name or str(path.parent)))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ProblemError(f"{path}: not a task file ({err})") from None
    return loaded


def tune(
    targets: Iterable[Path | str],
    options: Mapping[str, Any] | Options | None = None,
    device: str = "cpu",
    dtype: torch.dtype | None = None,
    on_kernel: Callable[[int, int, KernelTask], None] | None = None,
) -> list[TunedKernel]:
    """Tune every kernel of the given problem files that the cache does not already hold.

    ``on_kernel(index, total, task)`` is called before each kernel (progress reporting).
    """
    options = resolve_options(options)
    cache = KernelCache(options.cache_dir)
    tasks = collect_tasks(targets, device, dtype)
    results = []
    for index, (task, problems) in enumerate(tasks.values()):
        if on_kernel is not None:
            on_kernel(index, len(tasks), task)
        outcome = None if cache.get(task.key) is not None else tune_task(task, options, cache)
        results.append(TunedKernel(task, tuple(problems), outcome))
    return results
