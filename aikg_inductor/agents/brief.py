"""How a task is described to the agents: its ops, its arguments with layouts and roles, its baseline."""

from __future__ import annotations

from ..task import KernelTask


def describe_args(task: KernelTask) -> str:
    lines = []
    for arg in task.args:
        if arg.layout is not None:
            live = "" if arg.live else " (scratch: not read after this kernel)"
            ctype = f", {arg.ctype}" if arg.ctype else ""
            lines.append(f"- {arg.param}: {arg.role}, {arg.layout.short()}{ctype}{live}")
        else:
            dyn = " (symbolic: varies between calls)" if task.dynamic else ""
            lines.append(f"- {arg.param}: size = {arg.value}{dyn}")
    return "\n".join(lines)


def describe_baseline_time(seconds: float | None) -> str:
    return "not measured" if seconds is None else f"{seconds * 1e6:,.1f} us per launch"


def describe_origins(task: KernelTask) -> str:
    return ", ".join(task.origins) or "unknown"
