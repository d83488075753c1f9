"""How a task is described to the agents: the contract, the device, its ops, its arguments, its baseline.

``TaskBrief`` is what every code-writing prompt opens with. None of it is trimmed: the doc pack is cut to its
token budget, the brief never is (a model that is not told the contract or the sizes cannot keep them).
"""

from __future__ import annotations

import dataclasses

from ..dsl import adapter_for
from ..options import DEFAULT_MARGIN
from ..task import KernelTask
from .contract import contract_for
from .device_facts import DeviceFacts
from .prompts import render


@dataclasses.dataclass(frozen=True)
class TaskBrief:
    task: KernelTask
    facts: DeviceFacts
    baseline_s: float | None = None  # the verifier's measurement of Inductor's kernel, when there is one
    margin: float = DEFAULT_MARGIN

    def text(self) -> str:
        task = self.task
        adapter = adapter_for(task.dsl)
        signature = adapter.parse_signature(task.source)
        return render(
            "facts",
            contract=contract_for(task.dsl),
            device=self.facts.describe(),
            dsl=task.dsl,
            origins=describe_origins(task),
            name=task.name or "unnamed",
            args=describe_args(task),
            signature=signature.describe() if signature else "(see the baseline)",
            baseline_time=describe_baseline_time(self.baseline_s),
            margin=f"{self.margin:.0%}",
            fence=adapter.language,
            baseline_source=task.source.strip(),
        )


def describe_args(task: KernelTask) -> str:
    lines = []
    for arg in task.args:
        if arg.layout is not None:
            live = "" if arg.live else " (scratch: not read after this kernel; may be left unwritten)"
            ctype = f", {arg.ctype}" if arg.ctype else ""
            lines.append(f"- {arg.param}: {arg.role}, {arg.layout.short()}{ctype}{live}")
        else:
            dyn = " (symbolic: varies between calls)" if task.dynamic else ""
            lines.append(f"- {arg.param}: size = {arg.value}{dyn}")
    return "\n".join(lines)


def describe_baseline_time(seconds: float | None) -> str:
    if seconds is None:
        return "not measured yet"
    return f"{seconds * 1e6:,.1f} us per launch (the verifier's median on this device)"


def describe_origins(task: KernelTask) -> str:
    return ", ".join(task.origins) or "unknown"
