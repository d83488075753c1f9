"""The ``aikg`` command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from .options import DEFAULT_MARGIN, OptionsError, coerce_option, describe_options, parse_number, resolve_options
from .task import op_names

log = logging.getLogger("aikg_inductor")

EPILOG_OPTIONS = "backend options (also AIKG_* environment variables or a YAML file):\n" + describe_options()


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _console() -> Any:
    from rich.console import Console

    # Piped output (CI logs, files) gets rich's 80 columns by default: too narrow for kernel tables. COLUMNS, when
    # set, wins (rich reads it), so a script can ask for rows that never wrap.
    wide_enough = sys.stdout.isatty() or "COLUMNS" in os.environ
    return Console(width=None if wide_enough else 160)


def _device(requested: str | None) -> str:
    """``--device``: the GPU when this torch sees one and none was named, else cpu; a device this build cannot
    use is a usage error, before any model is built."""
    import torch

    if requested is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise UsageError(f"--device {requested}: not a device (use cpu or cuda)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        build = "this torch build has no CUDA" if torch.version.cuda is None else "torch sees no GPU"
        raise UsageError(f"--device {requested}: {build} (torch {torch.__version__}); install a CUDA build of torch "
                         "or use --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UsageError(f"--device {requested}: this machine has {torch.cuda.device_count()} GPU(s)")
    return requested


# ------------------------------------------------------------------------------------------------- inspect


def _inspect_rows(args: argparse.Namespace, timed: bool = True) -> tuple[list[dict[str, Any]], Any]:
    from .offline_tuning import capture_problem
    from .problem import load_problem, parse_dtype
    from .verify import standalone

    problem = load_problem(args.file, _device(args.device), parse_dtype(args.dtype) if args.dtype else None)
    session = capture_problem(problem, {"mode": "off"})
    rows = []
    for task in session.tasks.values():
        baseline_s: float | None = None
        if timed:
            try:
                baseline_s = standalone.median_seconds(task, reps=args.reps)
            except Exception as err:  # noqa: BLE001 - a kernel we cannot run alone is still worth listing
                log.warning("aikg: cannot time kernel %s alone: %s", task.short_key, err)
        rows.append({"task": task, "baseline_median_s": baseline_s})
    return rows, problem


def cmd_inspect(args: argparse.Namespace) -> int:
    # Printing a source needs the compile (the kernels exist only once Inductor made them), not the timings.
    rows, problem = _inspect_rows(args, timed=not args.show)
    if args.save_tasks:
        for row in rows:
            row["task"].save(args.save_tasks)
    if args.show:
        matches = [r["task"] for r in rows if r["task"].key.startswith(args.show)]
        if not matches:
            raise UsageError(f"no kernel of {args.file} has a key starting with {args.show!r}")
        for task in matches:
            # stdout carries the source alone (`--show KEY > cand.cpp` is a candidate to edit); the label is for
            # people.
            print(f"# kernel {task.key} ({task.dsl}, {task.name})", file=sys.stderr)
            print(task.source)
        return 0
    if args.json:
        payload = [
            {**json.loads(r["task"].to_json()), "baseline_median_s": r["baseline_median_s"]} for r in rows
        ]
        print(json.dumps({"problem": str(problem.path), "kernels": payload}, indent=1))
        return 0
    _print_inspect_table(problem, rows, args.save_tasks, args.reps)
    return 0


def _print_inspect_table(problem: Any, rows: list[dict[str, Any]], saved_to: Path | None, reps: int) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{problem.name}: {len(rows)} fused kernel(s) from Inductor"))
    table.add_column("key", no_wrap=True, min_width=12)
    # escape(): "[shape]" would otherwise be read as rich markup and vanish from the header
    for column in ("dsl", "fuses (ATen ops)", "arguments (role: dtype[shape])", "baseline median"):
        table.add_column(escape(column), overflow="fold")
    for row in rows:
        task = row["task"]
        ops = op_names(task.origins)
        argdesc = "\n".join(
            f"{a.param} {a.role}{'' if a.live else ' (scratch)'}: {a.layout.short()}" if a.layout else
            f"{a.param} size={a.value}"
            for a in task.args
        )
        median = row["baseline_median_s"]
        table.add_row(task.short_key, task.dsl, escape(ops), escape(argdesc),
                      "-" if median is None else f"{median * 1e6:,.1f} us")
    console = _console()
    console.print(table)
    console.print(f"baseline median: each kernel alone, median of {reps} runs after a warm-up. Indicative only: on a "
                  "busy machine it can be many times the idle figure; aikg verify and aikg tune time candidate and "
                  "baseline interleaved, with a control arm, instead.")
    if saved_to:
        console.print(f"tasks saved to {saved_to}")
    console.print("show a kernel's source: aikg inspect FILE --show KEY")


# ------------------------------------------------------------------------------------------------- cache

_SIZE_SUFFIX = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}


def _size(text: str) -> int:
    """``--max-size``: bytes, or with a K/M/G suffix (powers of 1024)."""
    suffix = text[-1:].lower() if text[-1:].isalpha() else ""
    try:
        value = int(float(text[: len(text) - len(suffix)]) * _SIZE_SUFFIX[suffix])
    except (KeyError, ValueError, OverflowError):  # int() of nan is a ValueError, of inf an OverflowError
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (bytes, or a number with K, M or G)") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a size cannot be negative: {text!r}")
    return value


def _number(kind: type, low: float, below: float | None = None) -> Callable[[str], Any]:
    """An argparse type: a finite ``kind`` in ``[low, below)`` (``options.parse_number``'s check)."""
    def parse(text: str) -> Any:
        try:
            return parse_number(text, kind, low, below)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return parse


def _option_value(option: str) -> Callable[[str], Any]:
    """An argparse type for a flag that stands for option ``option``: the value that option accepts."""
    def parse(text: str) -> Any:
        try:
            return coerce_option(option, text)
        except OptionsError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return parse


_CACHE_READERS = {"ls", "show", "stats", "verify"}  # open the cache read-only: they work on a read-only mount
_CACHE_WRITERS = {"rm", "prune", "import"}  # refused on a read-only cache; export writes only a missing export.key


def _open_cache(args: argparse.Namespace) -> Any:
    from .kernel_cache import CacheUnavailableError, KernelCache

    directory = args.cache_dir or resolve_options().cache_dir
    if directory.is_file():
        raise UsageError(f"--cache-dir {directory} is a file, not a cache folder")
    if args.cache_command != "import" and not (directory / "kernels").is_dir():
        raise UsageError(f"no kernel cache at {directory} (give --cache-dir, AIKG_CACHE_DIR or cache_dir option)")
    try:
        cache = KernelCache(directory, read_only=True if args.cache_command in _CACHE_READERS else None)
    except CacheUnavailableError as err:
        raise UsageError(str(err)) from None
    if cache.read_only and args.cache_command in _CACHE_WRITERS:
        cache.close()
        raise UsageError(f"the kernel cache at {directory} is read-only here; 'aikg cache {args.cache_command}' "
                         "needs to write to it")
    return cache


def _resolve_key(cache: Any, prefix: str) -> str:
    matches = [key for key in cache.keys() if key.startswith(prefix)]
    if not matches:
        raise UsageError(f"no entry in {cache.directory} has a key starting with {prefix!r}")
    if len(matches) > 1:
        raise UsageError(f"{len(matches)} entries have keys starting with {prefix!r}; give more of the key")
    return matches[0]


def _platform() -> Any:
    import torch

    from .torch_internals.kernels import device_arch, triton_version_or_none
    from .kernel_cache import Platform

    archs = {"cpu": device_arch(torch.device("cpu"))}
    if torch.cuda.is_available():
        archs["cuda"] = device_arch(torch.device("cuda"))
    return Platform(torch.__version__, triton_version_or_none(), archs)


def _cache_ls(cache: Any, args: argparse.Namespace) -> int:
    import datetime

    entries = sorted(cache.entries(), key=lambda e: e.created)
    if args.json:
        print(json.dumps([{k: v for k, v in dataclasses.asdict(e).items() if k != "source"} for e in entries],
                         indent=1))
        return 0
    from rich.table import Table

    table = Table(title=f"{len(entries)} accepted kernel(s) in {cache.directory}")
    for column in ("key", "dsl", "device", "fuses (ATen ops)", "speedup", "proposer", "stored"):
        table.add_column(column, overflow="fold")
    for e in entries:
        ops = op_names(e.origins)
        stored = datetime.datetime.fromtimestamp(e.created).strftime("%Y-%m-%d %H:%M")
        table.add_row(e.key[:12], e.dsl, f"{e.device_type} {e.arch}", ops, f"{e.verification.speedup:.2f}x",
                      e.provenance.proposer, stored)
    _console().print(table)
    return 0


def _cache_show(cache: Any, args: argparse.Namespace) -> int:
    key = _resolve_key(cache, args.key)
    entry = cache.get(key)
    if entry is None:
        refused = cache.refusal(key)
        why = f"{refused.status}: {refused.reason}" if refused else "gone"
        raise UsageError(f"entry {key[:12]} is refused ({why}); see aikg cache verify")
    from .dsl.source_text import escaped

    record = {k: v for k, v in dataclasses.asdict(entry).items() if k != "source"}
    print(json.dumps(record, indent=1, sort_keys=True))
    # An entry accepted before the guards refused control characters may hold some: shown, never acted on.
    print(f"\n# accepted source ({entry.dsl})\n{escaped(entry.source)}")
    return 0


def _cache_rm(cache: Any, args: argparse.Namespace) -> int:
    key = _resolve_key(cache, args.key)
    cache.remove(key)
    print(f"removed {key}")
    return 0


def _cache_stats(cache: Any, args: argparse.Namespace) -> int:
    from .kernel_cache import KernelIndex

    keys = list(cache.keys())
    groups: dict[str, int] = {}
    valid = 0
    for entry in cache.entries():
        valid += 1
        name = f"{entry.device_type} {entry.arch} {entry.dsl}"
        groups[name] = groups.get(name, 0) + 1
    index = KernelIndex(cache)
    stats = {
        "directory": str(cache.directory),
        "entries": len(keys),
        "valid": valid,
        "refused": len(keys) - valid,
        "record_bytes": sum(cache.record_size(k) for k in keys),
        "disk_bytes": cache.volume(),
        "fingerprint": cache.fingerprint(),
        "index_file": str(index.path) if index.path.exists() else None,
        "by_device_arch_dsl": groups,
    }
    if args.json:
        print(json.dumps(stats, indent=1))
    else:
        for name, value in stats.items():
            print(f"{name}: {value}")
    return 0


def _cache_verify(cache: Any, args: argparse.Namespace) -> int:
    findings = cache.verify_all(_platform())
    for f in findings:
        print(f"{f.status:9s} {f.key[:12]}  {f.reason}")
    total = len(list(cache.keys()))
    counts = ", ".join(f"{sum(f.status == status for f in findings)} {status}"
                       for status in ("tampered", "rolled-back", "stale"))
    print(f"{total} entr{'y' if total == 1 else 'ies'} checked: {counts}")
    return 1 if findings else 0


def _cache_prune(cache: Any, args: argparse.Namespace) -> int:
    keys = set(cache.keys())
    refused = [f.key for f in cache.verify_all() if f.key in keys]  # keys aikg did not write cannot be removed
    for key in refused:
        cache.remove(key)
    kept = sorted(((e.created, e.key) for e in cache.entries()))
    total = sum(cache.record_size(k) for _, k in kept)
    removed = 0
    for _, key in kept:
        if total <= args.max_size:
            break
        total -= cache.record_size(key)
        cache.remove(key)
        removed += 1
    print(f"removed {len(refused)} refused and {removed} oldest entr{'y' if removed == 1 else 'ies'}; "
          f"{len(kept) - removed} left, {total} bytes of records")
    return 0


def _cache_export(cache: Any, args: argparse.Namespace) -> int:
    from .kernel_cache import export_bundle
    from .kernel_cache.bundle import default_export_key

    count = export_bundle(cache, args.file, args.key)
    print(f"exported {count} entr{'y' if count == 1 else 'ies'} to {args.file}, signed with "
          f"{args.key or default_export_key(cache)}")
    return 0


def _cache_import(cache: Any, args: argparse.Namespace) -> int:
    from .kernel_cache import DEFAULT_MAX_BUNDLE_BYTES, import_bundle

    if args.trust is None:
        raise UsageError("import needs --trust KEYFILE: the export key of the cache that made the bundle "
                         "(re-verifying untrusted kernels on this machine is not available yet)")
    max_bytes = DEFAULT_MAX_BUNDLE_BYTES if args.max_size is None else args.max_size
    result = import_bundle(cache, args.file, args.trust, max_bytes, allow_older=args.allow_older)
    older = f", {result.older} skipped (older than the cache's; --allow-older to take them)" if result.older else ""
    print(f"imported {args.file}: {result.added} added, {result.replaced} replaced, {result.unchanged} unchanged"
          f"{older}")
    return 0


_CACHE_COMMANDS = {"ls": _cache_ls, "show": _cache_show, "rm": _cache_rm, "stats": _cache_stats,
                   "verify": _cache_verify, "prune": _cache_prune, "export": _cache_export, "import": _cache_import}


def cmd_cache(args: argparse.Namespace) -> int:
    from .kernel_cache import BundleError, CacheUnavailableError

    cache = _open_cache(args)
    try:
        return _CACHE_COMMANDS[args.cache_command](cache, args)
    except (CacheUnavailableError, BundleError) as err:
        raise UsageError(str(err)) from None
    except OSError as err:  # export to a missing folder, a full disk
        raise UsageError(f"{err.filename or cache.directory}: {err.strerror}") from None
    finally:
        cache.close()


def _add_cache_parser(sub: Any) -> None:
    cache = sub.add_parser(
        "cache",
        help="list, show, check, prune, export and import the accepted kernels",
        description="The kernel cache: accepted kernels, each signed with the cache's secret. An entry that fails "
        "its signature is never run.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cache_dir_help = "the cache directory (default: the cache_dir option, AIKG_CACHE_DIR)"
    cache.add_argument("--cache-dir", type=Path, metavar="DIR", help=cache_dir_help)
    # Also after the action, as in the other commands; SUPPRESS keeps a value given before the action.
    cache_dir_after = argparse.ArgumentParser(add_help=False)
    cache_dir_after.add_argument("--cache-dir", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                                 help=cache_dir_help)
    actions = cache.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    ls = actions.add_parser("ls", help="list accepted kernels, oldest first", parents=[cache_dir_after])
    ls.add_argument("--json", action="store_true", help="print entries (without source) as JSON")
    show = actions.add_parser("show", help="print one entry: its record and accepted source", parents=[cache_dir_after])
    show.add_argument("key", metavar="KEY", help="the entry's key or a unique prefix of it")
    rm = actions.add_parser("rm", help="remove one entry", parents=[cache_dir_after])
    rm.add_argument("key", metavar="KEY", help="the entry's key or a unique prefix of it")
    stats = actions.add_parser("stats", help="counts, sizes, fingerprint, entries per device/arch/DSL", parents=[cache_dir_after])
    stats.add_argument("--json", action="store_true", help="print the statistics as JSON")
    actions.add_parser("verify", help="report tampered and rolled-back entries, and entries stale for this "
                       "machine's torch, triton or architecture (exit 1 if any)", parents=[cache_dir_after])
    prune = actions.add_parser("prune", help="remove refused entries, then the oldest until records fit a size", parents=[cache_dir_after])
    prune.add_argument("--max-size", type=_size, required=True, metavar="BYTES",
                       help="keep at most this many bytes of records (suffix K, M or G allowed)")
    export = actions.add_parser("export", help="write all valid entries to a signed bundle file", parents=[cache_dir_after])
    export.add_argument("file", type=Path, metavar="FILE")
    export.add_argument("--key", type=Path, metavar="KEYFILE",
                        help="sign with this key file (default: DIR/export.key, created on first export); give "
                        "the key to the machines that should trust this bundle")
    imp = actions.add_parser(
        "import", help="add the entries of a bundle signed by a key you trust (--trust KEYFILE)",
        parents=[cache_dir_after],
        description="Add the entries of a bundle. The bundle must be signed by the key file given with --trust "
        "(the exporting cache's export.key). Re-verifying each kernel on this machine instead of trusting a key "
        "comes in a later version.")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--trust", type=Path, metavar="KEYFILE", help="the key file the bundle must be signed with "
                     "(at least 32 bytes: an exporting cache's export.key)")
    # The default is kernel_cache.DEFAULT_MAX_BUNDLE_BYTES, not imported here: building the parser stays light.
    imp.add_argument("--max-size", type=_size, metavar="BYTES",
                     help="refuse a bundle larger than this (default 256M; suffix K, M or G allowed)")
    imp.add_argument("--allow-older", action="store_true",
                     help="also take an entry created before the one this cache holds for its key (by default "
                     "it is skipped: replaying an older export would roll the cache back)")
    cache.set_defaults(func=cmd_cache)


# ------------------------------------------------------------------------------------------------- verify


def _find_task(spec: str, tasks_dir: Path) -> Any:
    """A task from a JSON file path, or from ``tasks_dir`` by (a prefix of) its key."""
    from .task import KernelTask

    path = Path(spec)
    if not path.is_file():
        matches = sorted(tasks_dir.glob(f"{spec}*.json")) if tasks_dir.is_dir() else []
        if not matches:
            raise UsageError(f"no task file {spec!r} and no task in {tasks_dir} whose key starts with {spec!r} "
                             "(save tasks with: aikg inspect FILE --save-tasks DIR)")
        if len(matches) > 1:
            raise UsageError(f"{len(matches)} tasks in {tasks_dir} have keys starting with {spec!r}; give more of it")
        path = matches[0]
    try:
        return KernelTask.load(path)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UsageError(f"cannot read task {path}: {err}") from err


def cmd_verify(args: argparse.Namespace) -> int:
    from .verify import verify_candidate

    least = resolve_options().margin
    if args.store and args.margin < least:
        raise UsageError(f"--store needs --margin of at least {least:g}: the cache holds only kernels faster than "
                         "Inductor's by the margin (option margin)")
    task = _find_task(args.task, args.tasks_dir)
    try:
        source = args.candidate.read_text()
    except OSError as err:
        raise UsageError(f"cannot read candidate {args.candidate}: {err.strerror}") from err
    report = verify_candidate(task, source, margin=args.margin, timeout_s=args.timeout)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print(report.summary())
    if args.store:
        _store_verified(args, task, source, report)
    return 0 if report.accepted else 1


def _store_verified(args: argparse.Namespace, task: Any, source: str, report: Any) -> None:
    """``aikg verify --store``: an accepted candidate goes into the cache the way the search stores its own."""
    from .kernel_cache import CacheUnavailableError, KernelCache
    from .pipeline import LocalSink, entry_for, store_if_faster
    from .search.proposers import Candidate

    if not report.accepted:
        print("not stored: only an accepted candidate goes into the cache", file=sys.stderr)
        return
    cache = KernelCache(args.cache_dir or resolve_options().cache_dir, read_only=False)  # created if missing
    try:
        entry = entry_for(task, Candidate(source, "aikg verify", {"candidate_file": str(args.candidate)}), report)
        stored = store_if_faster(LocalSink(cache), task, entry)
    except CacheUnavailableError as err:
        raise UsageError(str(err)) from None
    finally:
        cache.close()
    if not stored:
        print(f"not stored: the cache at {cache.directory} holds a kernel at least as fast for {task.short_key}",
              file=sys.stderr)
    else:
        print(f"stored kernel {task.short_key} in {cache.directory} ({report.speedup:.3f}x)", file=sys.stderr)


def _add_verify_parser(sub: Any) -> None:
    verify = sub.add_parser(
        "verify",
        help="judge a candidate kernel source against a recorded task's Inductor kernel",
        description="Run the verifier on one candidate: static guards, then (in a worker process) correctness "
        "against Inductor's kernel on several seeds and special values, then interleaved timing. Prints the report; "
        "exit status 0 when accepted, 1 when rejected.",
        epilog="example: aikg inspect examples/softmax_scale.py --save-tasks tasks && "
        "aikg verify --task e8cb --tasks-dir tasks --candidate my_softmax.cpp",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("--task", required=True, metavar="KEY|TASKFILE",
                        help="a task JSON file, or a key prefix of a task in --tasks-dir")
    verify.add_argument("--candidate", required=True, type=Path, metavar="FILE",
                        help="the candidate kernel source (same signature as the task's; kernel name placeholder kept)")
    verify.add_argument("--tasks-dir", type=Path, default=Path("."), metavar="DIR",
                        help="where to look a task key up (default: the current directory)")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument("--margin", type=_number(float, -1, 1), default=DEFAULT_MARGIN,
                        help=f"required speedup over the baseline, as a fraction from -1 up to 1 (default: "
                        f"{DEFAULT_MARGIN}); below 0 accepts a correct kernel up to 1/(1+margin) times slower, to "
                        "check correctness alone (--store refuses it)")
    verify.add_argument("--timeout", type=_number(float, 0), default=30.0, metavar="S",
                        help="seconds one run of the candidate may take before its worker is killed (default: 30)")
    verify.add_argument("--store", action="store_true",
                        help="if accepted, put the candidate into the kernel cache (unless it holds one at least as "
                        "fast), as aikg tune stores what it accepts; needs --margin of at least the margin option")
    verify.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="the cache --store writes (default: the cache_dir option, AIKG_CACHE_DIR)")
    verify.set_defaults(func=cmd_verify)


# ------------------------------------------------------------------------------------------------- parser


# ------------------------------------------------------------------------------------------------- tune


def cmd_tune(args: argparse.Namespace) -> int:
    from .problem import parse_dtype
    from .offline_tuning import tune

    overrides = {"kernel_budget_s": args.budget_s, "kernel_budget_candidates": args.budget_candidates,
                 "kernel_budget_tokens": args.budget_tokens, "run_budget_s": args.run_budget_s,
                 "run_budget_tokens": args.run_budget_tokens, "verify_workers": args.workers,
                 "target_roofline": args.target_roofline, "margin": args.margin, "cache_dir": args.cache_dir}
    options = resolve_options({k: v for k, v in overrides.items() if v is not None})
    dtype = parse_dtype(args.dtype) if args.dtype else None
    device = _device(args.device)
    cluster_error = _cluster_error(args.cluster)
    skipped: list[Exception] = []
    try:
        with _TuneBars(_console()) as bars:
            results = tune(args.targets, options, device, dtype, bars, cluster=args.cluster, retune=args.retune,
                           on_skip=skipped.append)
    except cluster_error as err:
        raise UsageError(str(err)) from None
    except KeyboardInterrupt:
        print("aikg: interrupted; every candidate judged so far is kept in the search history and accepted kernels "
              "are in the cache. Run the same command again to resume.", file=sys.stderr)
        return 130
    for err in skipped:  # after the progress bars, which would swallow them
        print(f"aikg: skipped {err}", file=sys.stderr)
    _print_tune_table(results)
    _console().print(f"report: aikg report --cache-dir {options.cache_dir}")
    return 0


def _cluster_error(spec: str | None) -> type[Exception]:
    """Check ``--cluster`` before any kernel is captured; the error a cluster run raises when it cannot start."""
    if spec is None:
        return UsageError  # nothing of Ray is imported without --cluster
    try:
        from .ray_tuning import ClusterError, parse_address
    except ImportError as err:
        raise UsageError(str(err)) from None
    try:
        parse_address(spec)
    except ClusterError as err:
        raise UsageError(str(err)) from None
    return ClusterError


class _TuneBars:
    """``aikg tune``'s progress: one bar over kernels, one bar per kernel being tuned (candidates judged)."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[best]}"), TimeElapsedColumn(), console=console,
                                 transient=True)
        self.overall = self.progress.add_task("capturing kernels", total=None, best="")
        self.bars: dict[str, Any] = {}
        self.best: dict[str, float] = {}

    def __enter__(self) -> _TuneBars:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def kernels_found(self, total: int) -> None:
        self.progress.update(self.overall, total=total, description="kernels")

    def kernel_started(self, task: Any, budget: int) -> None:
        self.bars[task.key] = self.progress.add_task(f"  {task.short_key} {task.name or task.dsl}", total=budget,
                                                     best="")

    def attempt_judged(self, task: Any, attempt: Any) -> None:
        if attempt.report.accepted:
            self.best[task.key] = max(self.best.get(task.key, 0.0), attempt.report.speedup or 0.0)
        best = f"best {self.best[task.key]:.3f}x" if task.key in self.best else ""
        self.progress.update(self.bars[task.key], advance=1, best=best)

    def kernel_finished(self, row: Any) -> None:
        if row.task.key in self.bars:
            self.progress.remove_task(self.bars.pop(row.task.key))
        self.progress.advance(self.overall)


def _print_tune_table(results: list[Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from .pipeline import rejection_summary
    from .search.history import describe_status

    table = Table(title=f"aikg tune: {len(results)} kernel(s)")
    # Keys never wrap (they are what people copy); the other columns fold when the terminal is narrow.
    table.add_column("key", no_wrap=True, min_width=12)
    for column in ("problems", "fuses", "tried", "verdicts", "best speedup", "tokens", "seconds", "result; proposers"):
        table.add_column(column, overflow="fold")
    accepted = 0
    for row in results:
        ops = escape(op_names(row.task.origins))
        problems = escape(", ".join(row.problems))
        if row.outcome is None:
            table.add_row(row.task.short_key, problems, ops, "0", "-", "-", "0", "0", escape(row.skipped))
            continue
        outcome = row.outcome
        speedups = [a.report.speedup for a in outcome.attempts if a.correct]
        tried = str(outcome.candidates_tried) + (f" (+{outcome.resumed} earlier)" if outcome.resumed else "")
        accepted += outcome.entry is not None
        unverified = sum(int(spent.get("rejected", 0)) for spent in outcome.spending.values())
        verdicts = rejection_summary(outcome.attempts) if outcome.attempts else ""
        if unverified:
            verdicts += f"{', ' if verdicts else ''}{unverified} LLM repl{'y' if unverified == 1 else 'ies'} " \
                        "rejected before verification"
        if outcome.entry is not None:
            result = "accepted"
        elif not outcome.attempts and not outcome.resumed:
            result = "no candidate offered; Inductor's kernel kept"  # the proposers line below says why
        else:
            result = outcome.reason
        table.add_row(row.task.short_key, problems, ops, tried, escape(verdicts or "-"),
                      f"{max(speedups):.3f}x" if speedups else "-", f"{row.tokens:,}", f"{outcome.elapsed_s:.1f}",
                      escape(f"{result}\n{describe_status(outcome.proposer_status)}"))
    console = _console()
    console.print(table)
    console.print(f"{accepted} new kernel(s) accepted; details: aikg cache ls")


# ------------------------------------------------------------------------------------------------- report


def cmd_report(args: argparse.Namespace) -> int:
    from .search_report import ReportError, write_report

    cache_dir = args.cache_dir or resolve_options().cache_dir
    try:
        paths = write_report(cache_dir, args.out, args.title)
    except ReportError as err:
        raise UsageError(str(err)) from None
    except OSError as err:  # an --out that is a file, a read-only folder, a full disk
        raise UsageError(f"{err.filename or args.out}: {err.strerror}") from None
    if paths.summary.kernels:
        print(paths.summary.line())
    else:
        print(f"nothing was tuned with the cache at {cache_dir} yet (run aikg tune first); the report says so")
    plots = f", {len(paths.plots)} PNG plot(s)" if paths.plots else ""
    print(f"wrote {paths.html} (self-contained), {paths.markdown}{plots}")
    return 0


def _add_report_parser(sub: Any) -> None:
    report = sub.add_parser(
        "report",
        help="write a markdown and a self-contained HTML report of what aikg tune did, with plots",
        description="Read the search history beside the kernel cache (every candidate judged, every run) and the "
        "cache's accepted kernels, and write into --out: report.md, report.html (one file, plots embedded) and the "
        "PNG plots. Per kernel: candidates tried over all runs, verdicts by rule, the best accepted speedup or why "
        "Inductor's kernel stays, time and LLM tokens spent. Plots: speedup per kernel, time and tokens, verdicts by "
        "rule, and the search curve (best verified speedup against candidates judged, runs marked).",
        epilog="example: aikg tune examples/ --cache-dir c && aikg report --cache-dir c --out report\n"
        "then open report/report.html in a browser",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="the cache aikg tune wrote (default: the cache_dir option, AIKG_CACHE_DIR)")
    report.add_argument("--out", type=Path, default=Path("aikg-report"), metavar="DIR",
                        help="folder for report.md, report.html and the plots (default: ./aikg-report)")
    report.add_argument("--title", help="the report's heading (default: 'aikg report: ' and the cache folder)")
    report.set_defaults(func=cmd_report)


# ------------------------------------------------------------------------------------------------- doctor


def cmd_doctor(args: argparse.Namespace) -> int:
    """What this installation can do: torch hooks, devices, the cache, the LLM endpoint, the doc packs."""
    import torch

    from . import torch_internals
    from .agents import LlmConfig
    from .agents.docpacks import discover, search_dirs
    from .dsl import adapter_module
    from .kernel_cache import CacheUnavailableError, KernelCache
    from .pipeline import llm_status
    from .torch_internals.kernels import device_arch, triton_version_or_none

    problems = 0
    print(f"torch {torch.__version__}, triton {triton_version_or_none() or 'not installed'}")
    try:
        torch_internals.check_private_apis()
        print("Inductor hooks: ok")
    except torch_internals.UnsupportedTorchError as err:
        problems += 1
        print(f"Inductor hooks: {err}")
    devices = [f"cpu ({device_arch(torch.device('cpu'))})"]
    if torch.cuda.is_available():
        devices.append(f"cuda: {torch.cuda.get_device_name()} ({device_arch(torch.device('cuda'))})")
    print("devices: " + ", ".join(devices))
    options = resolve_options({})
    try:
        cache = KernelCache(options.cache_dir)
        print(f"cache: {options.cache_dir} ({len(cache)} accepted kernel(s), fingerprint {cache.fingerprint()[:12]})")
    except CacheUnavailableError as err:
        problems += 1
        print(f"cache: {err}")
    config = LlmConfig.from_options(options)
    llm = llm_status(config)
    if config.base_url is None:
        print(f"LLM: no endpoint configured (set AIKG_LLM_BASE_URL or OPENAI_BASE_URL); {_without_llm(torch)}")
    elif llm.available:
        print(f"LLM: {llm.why} answers ({config.endpoint} endpoint)")
    else:
        problems += 1
        print(f"LLM: {llm.why}; {_without_llm(torch)}")
    for dsl, pack in sorted(discover(search_dirs(options.docs_packs_dir)).items()):
        adapter = pack.adapter if adapter_module(dsl) else "none registered: documentation only"
        print(f"doc pack {dsl}: {pack.root} (adapter {adapter})")
    return 1 if problems else 0


def _without_llm(torch: Any) -> str:
    """What proposes candidates on this machine with no LLM."""
    if torch.cuda.is_available():
        return "the config tuner still proposes for Triton (CUDA) kernels; C++ (CPU) kernels get only retrieval " \
               "of kernels accepted before"
    return "no GPU here, so no proposer searches: C++ (CPU) kernels get candidates only from the LLM agents, " \
           "besides retrieval of kernels accepted before"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aikg",
        description="aikg-inductor: agents and search that try to beat Inductor's own fused kernels, "
        "verified and cached. Models are KernelBench-style files: class Model(nn.Module), get_inputs(), "
        "get_init_inputs().",
        epilog=EPILOG_OPTIONS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what aikg does (INFO level)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inspect = sub.add_parser(
        "inspect",
        help="list the fused kernels Inductor makes for a model, with their origins, layouts and times",
        description="Compile FILE's Model with Inductor through aikg (mode off: nothing is replaced), list every "
        "fused kernel as a task (short key, ATen ops it fuses, arguments with roles and layouts) and time each "
        "kernel alone on fresh random inputs (median).",
        epilog="example: aikg inspect examples/softmax_scale.py --show 3fa2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inspect.add_argument("file", type=Path, help="a KernelBench-style problem file")
    inspect.add_argument("--json", action="store_true", help="print the tasks as JSON instead of a table")
    inspect.add_argument("--show", metavar="KEY", help="print the source of the kernel whose key starts with KEY")
    inspect.add_argument("--save-tasks", metavar="DIR", type=Path, help="also write each task to DIR/<key>.json")
    inspect.add_argument("--device", help="device for the model and inputs (default: cuda when torch sees a GPU, "
                         "else cpu)")
    inspect.add_argument("--dtype", help="run the model and its floating-point inputs in this dtype (fp16, bf16, "
                         "fp32); default: as the file builds them")
    inspect.add_argument("--reps", type=_number(int, 1), default=50,
                         help="timed repetitions per kernel, at least 1 (default: 50)")
    inspect.set_defaults(func=cmd_inspect)
    _add_cache_parser(sub)
    _add_verify_parser(sub)
    tune = sub.add_parser(
        "tune",
        help="pre-tune every fused kernel of problem files into the cache (no LLM needed)",
        description="Capture the fused kernels of each problem file (or every *.py in a folder), deduplicate them "
        "by exact key, and search each kernel that is not done yet: retrieval of what won on similar kernels, the "
        "config tuner (Triton kernels), and the LLM agents when AIKG_LLM_BASE_URL or OPENAI_BASE_URL is set, "
        "within the per-kernel and per-run budgets. Every candidate goes through the verifier; accepted kernels go "
        "into the cache, where torch.compile(backend='aikg') finds them. Every verdict is kept in the search "
        "history beside the cache: a killed or interrupted run resumes when the same command runs again, and "
        "'aikg report' shows what happened.",
        epilog="examples:\n  aikg tune examples/ --budget-s 30\n  aikg tune examples/ --budget-candidates 32 --retune"
        "\n  aikg report --out report\n\n" + EPILOG_OPTIONS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tune.add_argument("targets", nargs="+", type=Path, help="problem files or folders of them; or recorded task "
                      "files (*.json, from record_dir or inspect --save-tasks) or folders of them")
    tune.add_argument("--budget-s", type=float, help="wall-time budget per kernel (option kernel_budget_s)")
    tune.add_argument("--budget-candidates", type=int, help="candidates per kernel, earlier runs on it included "
                      "(kernel_budget_candidates)")
    tune.add_argument("--budget-tokens", type=int, help="LLM tokens per kernel (kernel_budget_tokens)")
    tune.add_argument("--run-budget-s", type=float, help="wall-time budget for the whole run (run_budget_s)")
    tune.add_argument("--run-budget-tokens", type=int, help="LLM tokens for the whole run (run_budget_tokens)")
    tune.add_argument("--workers", type=int, help="verifier worker processes per device (verify_workers)")
    tune.add_argument("--target-roofline", type=float, help="stop a kernel's search once it reaches this fraction "
                      "of the measured copy bandwidth (target_roofline, default 0.9)")
    tune.add_argument("--retune", action="store_true", help="search again kernels an earlier run finished (their "
                      "candidate budget counts every run: raise --budget-candidates); by default a rerun resumes only "
                      "what was cut short")
    tune.add_argument("--margin", type=float, help=f"required speedup margin (default {DEFAULT_MARGIN})")
    tune.add_argument("--cache-dir", type=Path, help="the kernel cache (default: AIKG_CACHE_DIR or ~/.cache)")
    tune.add_argument("--device", help="device for the models (default: cuda when torch sees a GPU, else cpu)")
    tune.add_argument("--dtype", help="run the models in this floating-point dtype (fp16, bf16, fp32)")
    tune.add_argument("--cluster", metavar="ray[://HOST:PORT]", help="tune on a Ray cluster: 'ray' joins the one "
                      "this machine runs (else starts one), ray://HOST:PORT is a Ray client address; one worker per "
                      "GPU (CPU slot on CPU clusters), results written here (needs the extra aikg-inductor[cluster])")
    tune.set_defaults(func=cmd_tune)
    _add_report_parser(sub)
    doctor = sub.add_parser("doctor", help="check the torch hooks, devices, cache, LLM endpoint and doc packs",
                            description="Report what this installation can do; exit 1 if something is broken.")
    doctor.set_defaults(func=cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    from .kernel_cache import CacheUnavailableError
    from .problem import ProblemError

    try:
        return args.func(args)
    except (UsageError, ProblemError, OptionsError, CacheUnavailableError) as err:
        print(f"aikg: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
