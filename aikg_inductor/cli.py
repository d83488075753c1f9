"""The ``aikg`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from .options import OptionsError, describe_options

log = logging.getLogger("aikg_inductor")

EPILOG_OPTIONS = "backend options (also AIKG_* environment variables or a YAML file):\n" + describe_options()


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def _console() -> Any:
    from rich.console import Console

    return Console()


# ------------------------------------------------------------------------------------------------- inspect


def _inspect_rows(problem_path: Path, device: str, reps: int) -> tuple[list[dict[str, Any]], Any]:
    from .backend import capture
    from .problem import load_problem
    from .verify import runner

    problem = load_problem(problem_path, device)
    session, _ = capture(problem.model, problem.inputs, {"mode": "off"})
    rows = []
    for task in session.tasks.values():
        try:
            baseline_s: float | None = runner.median_seconds(task, reps=reps)
        except Exception as err:  # noqa: BLE001 - a kernel we cannot run alone is still worth listing
            log.warning("aikg: cannot time kernel %s alone: %s", task.short_key, err)
            baseline_s = None
        rows.append({"task": task, "baseline_median_s": baseline_s})
    return rows, problem


def cmd_inspect(args: argparse.Namespace) -> int:
    rows, problem = _inspect_rows(args.file, args.device, args.reps)
    if args.save_tasks:
        for row in rows:
            row["task"].save(args.save_tasks)
    if args.show:
        matches = [r["task"] for r in rows if r["task"].key.startswith(args.show)]
        if not matches:
            raise UsageError(f"no kernel of {args.file} has a key starting with {args.show!r}")
        for task in matches:
            print(f"# kernel {task.key} ({task.dsl}, {task.name})\n{task.source}\n")
        return 0
    if args.json:
        payload = [
            {**json.loads(r["task"].to_json()), "baseline_median_s": r["baseline_median_s"]} for r in rows
        ]
        print(json.dumps({"problem": str(problem.path), "kernels": payload}, indent=1))
        return 0
    _print_inspect_table(problem, rows, args.save_tasks)
    return 0


def _print_inspect_table(problem: Any, rows: list[dict[str, Any]], saved_to: Path | None) -> None:
    from rich.table import Table

    table = Table(title=f"{problem.name}: {len(rows)} fused kernel(s) from Inductor")
    for column in ("key", "dsl", "fuses (ATen ops)", "arguments (role: dtype[shape])", "baseline median"):
        table.add_column(column, overflow="fold")
    for row in rows:
        task = row["task"]
        ops = ", ".join(o.removeprefix("aten.").split(".")[0] for o in task.origins)
        argdesc = "\n".join(
            f"{a.param} {a.role}{'' if a.live else ' (scratch)'}: {a.layout.short()}" if a.layout else
            f"{a.param} size={a.value}"
            for a in task.args
        )
        median = row["baseline_median_s"]
        table.add_row(task.short_key, task.dsl, ops, argdesc, "-" if median is None else f"{median * 1e6:,.1f} us")
    console = _console()
    console.print(table)
    if saved_to:
        console.print(f"tasks saved to {saved_to}")
    console.print("show a kernel's source: aikg inspect FILE --show KEY")


# ------------------------------------------------------------------------------------------------- parser


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
    inspect.add_argument("--device", default="cpu", help="device for the model and inputs (default: cpu)")
    inspect.add_argument("--reps", type=int, default=50, help="timed repetitions per kernel (default: 50)")
    inspect.set_defaults(func=cmd_inspect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    from .problem import ProblemError

    try:
        return args.func(args)
    except (UsageError, ProblemError, OptionsError) as err:
        print(f"aikg: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
