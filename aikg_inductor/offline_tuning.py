"""Offline tuning (``aikg tune``, ``aikg_inductor.tune()``): every fused kernel of one or more problem files,
tuned once each, results in the cache.

Kernels are deduplicated by exact key across all files. Each device gets its own queue: on a machine with several
GPUs, one kernel is tuned per GPU at a time, each with its own verifier workers. Every judged attempt is in the
search history as soon as it is judged, so an interrupted run resumes where it stopped when run again.
"""

from __future__ import annotations

import concurrent.futures as futures
import functools
import logging
import queue
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import torch

from .agents.config import LlmConfig
from .backend import CompileSession, capture
from .kernel_cache import KernelCache
from .options import Options, resolve_options
from .pipeline import LocalSink, TuneContext, given_status, proposer_status, tune_task
from .tuning_run import ProposerFactory, TunedKernel, TuneProgress, TuneRun
from .problem import Problem, ProblemError, find_problems, load_problem
from .search.evolve import RunBudget
from .search.history import ProposerStatus
from .task import KernelTask
from .torch_internals.fake_tensor_log import failed_shape_checks_unlogged
from .verify.pool import WorkerPool, device_pools

log = logging.getLogger(__name__)


def collect_tasks(
    targets: Iterable[Path | str], device: str = "cpu", dtype: torch.dtype | None = None,
    on_skip: Callable[[ProblemError], None] | None = None, options: Mapping[str, Any] | Options | None = None,
) -> dict[str, tuple[KernelTask, list[str]]]:
    """Every distinct kernel (by exact key) of the problems in ``targets`` (files or folders of files). A target that
    is a recorded task (``*.json``) or a folder of them is taken as it is (see ``recorded_tasks``). The problems are
    compiled with ``options`` in mode ``off``.

    A problem file that cannot be loaded or compiled is skipped: ``on_skip`` gets its one-line error (default: a
    warning in the log) and the other files are tuned. When no file could be used, the error is raised."""
    tasks: dict[str, tuple[KernelTask, list[str]]] = {}
    problem_targets = []
    for target in targets:
        recorded = recorded_tasks(target)
        if recorded is None:
            problem_targets.append(target)
        for task, source in recorded or ():
            tasks.setdefault(task.key, (task, []))[1].append(source)
    paths = [p for target in problem_targets for p in find_problems(target)]
    # Resolved once, before any file: a bad option or AIKG_* value is the run's error, not each model's.
    capture_options = resolve_options(options).with_updates(mode="off")
    skipped: list[ProblemError] = []
    for path in paths:
        try:
            captured = _capture_problem(path, device, dtype, capture_options)
        except ProblemError as err:
            skipped.append(err)
            continue
        for key, task in captured.items():
            tasks.setdefault(key, (task, []))[1].append(Path(path).stem)
    if skipped and len(skipped) == len(paths) and not tasks:
        if len(skipped) == 1:
            raise skipped[0]
        raise ProblemError(f"none of the {len(paths)} problem files could be used; the first: {skipped[0]}")
    for err in skipped:
        (on_skip or _log_skip)(err)
    return tasks


def _capture_problem(path: Path, device: str, dtype: torch.dtype | None, options: Options) -> dict[str, KernelTask]:
    return capture_problem(load_problem(path, device, dtype), options).tasks


def capture_problem(problem: Problem, options: Mapping[str, Any] | Options | None = None) -> CompileSession:
    """Compile and run the problem's model once through aikg (``backend.capture``); a model that does not compile
    is a ProblemError in one line, without torch's logged copy of a failed shape check above it."""
    try:
        with failed_shape_checks_unlogged():
            session, _ = capture(problem.model, problem.inputs, options)
    except Exception as err:  # noqa: BLE001 - the user's model does not compile: that file is skipped, not the run
        raise ProblemError(f"{problem.path}: torch.compile failed: {type(err).__name__}: {_gist(err)}") from None
    return session


def _gist(err: Exception) -> str:
    """An error's first line, with Dynamo's "Explanation:" line where it gives one: for a failed shape check the
    first line says only "RuntimeError when making fake tensor call", the explanation which op and sizes."""
    lines = [line.strip() for line in str(err).strip().splitlines()]
    explanation = next((line for line in lines if line.startswith("Explanation:")), None)
    first = lines[0] if lines else ""
    return f"{first} ({explanation.removeprefix('Explanation:').strip()})" if explanation else first


def _log_skip(err: ProblemError) -> None:
    log.warning("aikg: skipped %s", err)


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
    progress: TuneProgress | None = None,
    proposers: ProposerFactory | None = None,
    cluster: str | None = None,
    retune: bool = False,
    on_skip: Callable[[ProblemError], None] | None = None,
) -> list[TunedKernel]:
    """Tune every kernel of the given problem files that is not done yet, within the per-kernel and per-run budgets
    of ``options``; returns one row per distinct kernel, in the order they were found.

    Done means cached, or searched to the end by an earlier run (``TaskRun.searched_to_end``: a proposer that could
    offer candidates spent its budget) with no proposer available now that was not then; a kernel whose run was cut
    short (killed, Ctrl-C, the run budget) or that no proposer could search resumes. ``retune`` searches done
    kernels again: their candidate budget counts every run, so raise it to get more candidates. A problem file that
    cannot be used is skipped (``on_skip``, see ``collect_tasks``).

    ``proposers(task)`` gives the proposers for a kernel (default: the built-in ones available, see
    ``pipeline.proposer_status``). ``cluster`` (``ray`` or ``ray://HOST:PORT``) tunes on a Ray cluster instead of
    this machine's devices (``ray_tuning.py``); then ``proposers`` must pickle."""
    options = resolve_options(options)
    if proposers is None:
        LlmConfig.from_options(options)  # a bad LLM setting is the run's one-line error, before any capture
    cache = KernelCache(options.cache_dir, read_only=False)  # tuning writes: an unwritable cache is one line
    tasks = collect_tasks(targets, device, dtype, on_skip, options)
    if progress is not None:
        progress.kernels_found(len(tasks))
    rows: dict[str, TunedKernel] = {}
    todo: dict[str, list[tuple[KernelTask, list[str]]]] = {}
    sink = LocalSink(cache)
    for key, (task, problems) in tasks.items():
        now = proposer_status(task, options, cache) if proposers is None else given_status(proposers(task))
        if not retune and (done_why := _done(key, sink, now)):
            rows[key] = TunedKernel(task, tuple(problems), None, done_why)
        else:
            todo.setdefault(task.dsl, []).append((task, problems))
    run = TuneRun(options, sink, RunBudget(options.run_budget_s, options.run_budget_tokens), progress, proposers)
    if cluster is not None and todo:
        from .ray_tuning import tune_on_ray  # Ray is imported for a cluster run only

        done = tune_on_ray(cluster, todo, run)
    else:
        done = [row for dsl, items in todo.items() for row in _tune_on_devices(dsl, items, run)]
    for row in done:
        rows[row.task.key] = row
    return [rows[key] for key in tasks]


def _done(key: str, sink: LocalSink, now: Sequence[ProposerStatus]) -> str | None:
    """Why an earlier run leaves nothing to do for kernel ``key``, or None when it must be (re)searched.

    ``now`` is which proposers could work on it in this run: one available now that was not in the last run (an LLM
    endpoint set since, or answering again) gets its chance."""
    if sink.history.interrupted(key):
        return None  # killed or interrupted mid-search: resume
    if sink.cache.get(key) is not None:
        return "already cached"
    runs = sink.history.runs(key)
    if not runs or not runs[-1].searched_to_end:
        return None  # never run, cut short by a run budget, or nobody could search it
    before = {s.name for s in runs[-1].proposer_status if s.available}
    if any(s.available and s.searches and s.name not in before for s in now):
        return None
    return f"searched before ({runs[-1].stopped_by}); --retune to search again"


def _tune_on_devices(dsl: str, items: list[tuple[KernelTask, list[str]]], run: TuneRun) -> list[TunedKernel]:
    """One queue of kernels, drained by one thread per device (each with its own verifier pool)."""
    pending: queue.SimpleQueue[tuple[KernelTask, list[str]]] = queue.SimpleQueue()
    for item in items:
        pending.put(item)
    pools = device_pools(dsl, run.options.verify_workers)
    done: list[TunedKernel] = []

    def drain(pool: WorkerPool) -> None:
        while True:
            try:
                task, problems = pending.get_nowait()
            except queue.Empty:
                return
            done.append(_tune_one(task, problems, run, pool))

    if len(pools) == 1:
        drain(pools[0])  # in this thread: Ctrl-C reaches the search directly
    else:
        with futures.ThreadPoolExecutor(len(pools), thread_name_prefix="aikg-device") as devices:
            for finished in futures.as_completed([devices.submit(drain, pool) for pool in pools]):
                finished.result()
    return done


def _tune_one(task: KernelTask, problems: list[str], run: TuneRun, pool: WorkerPool) -> TunedKernel:
    progress = run.progress
    if spent := run.budget.exhausted():
        row = TunedKernel(task, tuple(problems), None, f"{spent} spent")
    else:
        if progress is not None:
            progress.kernel_started(task, run.options.kernel_budget_candidates)
        on_attempt = None if progress is None else functools.partial(progress.attempt_judged, task)
        context = TuneContext(run.options, run.sink, run.budget, pool)
        outcome = tune_task(task, context, None if run.proposers is None else run.proposers(task),
                            on_attempt=on_attempt)
        row = TunedKernel(task, tuple(problems), outcome)
    if progress is not None:
        progress.kernel_finished(row)
    return row
