"""The search history: every attempt on every task, kept on disk as it happens, so that a later run resumes where
an earlier one stopped (Ctrl-C, a crash or a spent budget) and ``aikg report`` can show what the search did.

Records are JSON bytes in a diskcache folder beside the kernel cache (``<cache_dir>/history``), never pickles: the
history holds LLM-written source as text, and nothing read back from it is executed outside the verifier. The folder
is opened through the kernel cache's ``SafeDisk`` (a planted pickle or a row naming a file outside the folder is
refused, not run or read); a record that cannot be read is skipped with one warning.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..kernel_cache.safe_disk import ReadOnlyDiskcache, open_safe_diskcache
from ..task import KernelTask
from ..verify.report import VerificationReport
from .proposers.base import Attempt, Candidate

log = logging.getLogger(__name__)

SCHEMA = 1
MAX_RECORDS_PER_TASK = 100_000  # a counter above this was not written by aikg (a search makes hundreds)
_WARN_AT_MOST = 5


@dataclasses.dataclass(frozen=True)
class ProposerStatus:
    """Whether one proposer could work on a kernel in a run, and why or why not. Decided once, where the proposers
    are chosen (``pipeline.proposer_status``), then shown in ``aikg tune``'s table and kept in the run's record, so
    ``aikg report`` says the same."""

    name: str  # "retrieval", "tuner", "llm", or a caller's own proposer
    available: bool
    why: str  # for people: what it does here, or what it needs ("needs an LLM endpoint: set AIKG_LLM_BASE_URL")
    # Retrieval only re-offers what won on other kernels: its running dry says nothing about this kernel, so only a
    # proposer that searches can finish a kernel (see ``TaskRun.searched_to_end``).
    searches: bool = True

    def describe(self) -> str:
        return f"{self.name} ({self.why})"


def can_search(status: Sequence[ProposerStatus]) -> bool:
    """Whether a proposer that searches (not only retrieval) is available."""
    return any(s.available and s.searches for s in status)


def describe_status(status: Sequence[ProposerStatus]) -> str:
    """"available: retrieval, llm; not available: tuner (Triton (CUDA) kernels only)" for a table row."""
    available = [s.name for s in status if s.available]
    missing = [s.describe() for s in status if not s.available]
    parts = ([f"available: {', '.join(available)}"] if available else ["no proposer available"])
    return "; ".join(parts + ([f"not available: {', '.join(missing)}"] if missing else []))


@dataclasses.dataclass(frozen=True)
class TaskRun:
    """How one search run on one task ended: what ``aikg report`` tabulates per kernel."""

    started: float  # time.time() at the start
    elapsed_s: float
    attempts: int  # attempts made in this run (earlier runs' are not counted)
    best_speedup: float | None  # the best accepted speedup over all runs so far, None if nothing was accepted
    stopped_by: str  # which budget or condition ended the run ("candidates", "wall", "tokens", "roofline", ...)
    reason: str  # the pipeline's sentence for people
    tokens: int = 0
    proposers: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # per proposer: tries, wins
    run: int = -1  # the number begin() gave this run (-1: written before runs were numbered)
    proposer_status: tuple[ProposerStatus, ...] = ()  # which proposers could work on the kernel in this run
    # A proposer that could offer candidates spent its budget (or its ideas): a rerun skips the kernel unless asked
    # to retune or a proposer is available that was not. False for runs where nobody could search (no LLM on CPU, a
    # dead endpoint), that nothing came of, or that a run budget cut short; and for records older than this field.
    searched_to_end: bool = False

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> TaskRun:
        status = tuple(ProposerStatus(**s) for s in data.pop("proposer_status", ()))
        return cls(**data, proposer_status=status)


@dataclasses.dataclass(frozen=True)
class TaskRecord:
    """What the history knows of a task: enough to name it in a report without the task file."""

    key: str
    name: str
    dsl: str
    device_type: str
    origins: tuple[str, ...]

    @classmethod
    def of(cls, task: KernelTask) -> TaskRecord:
        return cls(task.key, task.name, task.dsl, task.device_type, task.origins)


@dataclasses.dataclass(frozen=True)
class LoggedAttempt:
    """An attempt as the history keeps it: the attempt, when it finished, and which run it belonged to."""

    attempt: Attempt
    at: float  # time.time() when its verdict came
    run: int  # 0 for the first run on the task, 1 for the first resumed run, ...


class SearchHistory:
    """Attempts and run summaries per task key, in ``directory`` (usually ``<cache_dir>/history``)."""

    def __init__(self, directory: Path | str, read_only: bool = False) -> None:
        """``read_only``: for readers (the report), which must work on a read-only mount; writes then fail."""
        self.directory = Path(directory)
        self._skipped = 0
        self._db: Any = ReadOnlyDiskcache(self.directory) if read_only else open_safe_diskcache(self.directory)

    @classmethod
    def beside(cls, cache_dir: Path | str, read_only: bool = False) -> SearchHistory:
        return cls(Path(cache_dir) / "history", read_only)

    # ------------------------------------------------------------------ writing

    def begin(self, task: KernelTask) -> int:
        """Note a new run on ``task``; returns its run number."""
        with self._db.transact():
            self._put(f"task/{task.key}", dataclasses.asdict(TaskRecord.of(task)))
            run = self._count(f"runs-begun/{task.key}")
            self._db.set(f"runs-begun/{task.key}", run + 1)
            self._db.set(f"open/{task.key}", run)  # until finish(): a run cut short leaves this behind
            return run

    def record(self, task_key: str, attempt: Attempt, run: int) -> None:
        """Append one judged attempt; written at once, so an interrupted run loses nothing judged."""
        data = {
            "candidate": {"source": attempt.candidate.source, "proposer": attempt.candidate.proposer,
                          "notes": attempt.candidate.notes},
            "report": attempt.report.to_dict(),
            "at": time.time(),
            "run": run,
        }
        with self._db.transact():
            n = self._count(f"count/{task_key}")
            self._put(f"attempt/{task_key}/{n}", data)
            self._db.set(f"count/{task_key}", n + 1)

    def finish(self, task_key: str, run: TaskRun) -> None:
        with self._db.transact():
            n = self._count(f"runs/{task_key}")
            self._put(f"run/{task_key}/{n}", dataclasses.asdict(run))
            self._db.set(f"runs/{task_key}", n + 1)
            self._db.delete(f"open/{task_key}")

    # ------------------------------------------------------------------ reading

    def logged(self, task_key: str) -> list[LoggedAttempt]:
        """Every attempt on ``task_key`` in the order the verdicts came; unreadable records are skipped."""
        found = []
        for n in range(self._count(f"count/{task_key}")):
            try:
                data = self._get(f"attempt/{task_key}/{n}")
                candidate = Candidate(**data["candidate"])
                report = VerificationReport.from_dict(data["report"])
                found.append(LoggedAttempt(Attempt(candidate, report), float(data["at"]), int(data["run"])))
            except (KeyError, TypeError, ValueError) as err:
                self._skip(f"history record {n} of task {task_key[:12]}", err)
        return found

    def attempts(self, task_key: str) -> list[Attempt]:
        return [logged.attempt for logged in self.logged(task_key)]

    def runs(self, task_key: str) -> list[TaskRun]:
        found = []
        for n in range(self._count(f"runs/{task_key}")):
            try:
                found.append(TaskRun.from_record(self._get(f"run/{task_key}/{n}")))
            except (KeyError, TypeError, ValueError) as err:
                self._skip(f"run record {n} of task {task_key[:12]}", err)
        return found

    def interrupted(self, task_key: str) -> bool:
        """Whether the last run on ``task_key`` began but never finished (killed, Ctrl-C): a rerun resumes it."""
        return f"open/{task_key}" in self._db

    def tasks(self) -> Iterator[TaskRecord]:
        for key in sorted(k for k in self._db.iterkeys() if isinstance(k, str) and k.startswith("task/")):
            try:
                data = self._get(key)
                yield TaskRecord(**{**data, "origins": tuple(data["origins"])})
            except (KeyError, TypeError, ValueError) as err:
                self._skip(f"history entry {key[:17]}", err)

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ encoding

    def _count(self, key: str) -> int:
        """A counter aikg keeps (records per task, runs begun); one that is unreadable or no count aikg could have
        written reads as 0 with one warning: the records it counted are skipped, never a crash or an endless loop."""
        try:
            value = self._db.get(key, default=0)
        except Exception as err:  # noqa: BLE001 - see _get
            value = err
        if type(value) is int and 0 <= value <= MAX_RECORDS_PER_TASK:
            return value
        self._skip(f"history counter {key[:17]}", f"holds {str(value)[:40]!r}")
        return 0

    def _skip(self, what: str, why: object) -> None:
        """One warning per unreadable record, for the first few: a forged counter must not print a line per record."""
        self._skipped += 1
        if self._skipped <= _WARN_AT_MOST:
            log.warning("aikg: %s is unreadable (%s); skipped", what, why)
        elif self._skipped == _WARN_AT_MOST + 1:
            log.warning("aikg: more unreadable history records in %s; skipped without a warning each",
                        self.directory)

    def _put(self, key: str, value: dict[str, Any]) -> None:
        self._db.set(key, json.dumps({"schema": SCHEMA, **value}).encode())

    def _get(self, key: str) -> dict[str, Any]:
        try:
            raw = self._db.get(key)
        except Exception as err:  # noqa: BLE001 - a tampered row (UnsafeRecordError), a value file gone (OSError)
            raise ValueError(f"cannot read it: {err}") from None
        if not isinstance(raw, bytes):
            raise KeyError(key)
        data = json.loads(raw)
        if data.pop("schema", None) != SCHEMA:
            raise ValueError(f"unknown schema in {key}")
        return data
