"""A declarative agent workflow (YAML): steps, the agent each runs, allowed next steps per outcome, limits."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

WORKFLOWS_DIR = Path(__file__).resolve().parent / "workflows"
AGENTS = ("designer", "coder", "verifier")
STOP = "stop"


class WorkflowError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Step:
    name: str
    agent: str
    mode: str  # "" or "optimise" (designer) / "fix" (coder)
    next: dict[str, tuple[str, ...]]  # outcome -> allowed next steps


@dataclasses.dataclass(frozen=True)
class Workflow:
    name: str
    start: str
    max_steps: int
    window: int
    repeats: dict[str, int]
    steps: dict[str, Step]
    correct_rules: tuple[str, ...]

    def allowed(self, step: str, outcome: str, counts: dict[str, int], total: int) -> list[str]:
        """Next steps after ``step`` ended in ``outcome``, less those past their limits; ``stop`` when none is left."""
        if total >= self.max_steps:
            return [STOP]
        options = self.steps[step].next.get(outcome, (STOP,))
        left = [s for s in options if s == STOP or counts.get(s, 0) < self.repeats.get(s, self.max_steps)]
        return left if any(s != STOP for s in left) else [STOP]


def load_workflow(path: Path | str = "default") -> Workflow:
    """A workflow by file path or by name under ``workflows/``; raises WorkflowError naming the problem."""
    path = Path(path)
    if not path.suffix:
        path = WORKFLOWS_DIR / f"{path}.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise WorkflowError(f"{path}: cannot load workflow: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), dict):
        raise WorkflowError(f"{path}: a workflow needs a 'steps' mapping")
    steps = {name: _step(path, name, raw) for name, raw in data["steps"].items()}
    names = set(steps) | {STOP}
    for step in steps.values():
        for outcome, targets in step.next.items():
            bad = [t for t in targets if t not in names]
            if bad:
                raise WorkflowError(f"{path}: step {step.name!r} ({outcome}) goes to unknown step(s) {bad}")
    start = data.get("start")
    if start not in steps:
        raise WorkflowError(f"{path}: 'start' must name a step; got {start!r}")
    if "verify" not in steps or steps["verify"].agent != "verifier":
        raise WorkflowError(f"{path}: needs a 'verify' step with agent 'verifier'")
    try:
        return Workflow(
            name=str(data.get("name", path.stem)),
            start=start,
            max_steps=int(data.get("max_steps", 10)),
            window=int(data.get("window", 4)),
            repeats={str(k): int(v) for k, v in (data.get("repeats") or {}).items()},
            steps=steps,
            correct_rules=tuple(data.get("correct_rules", ("not-faster",))),
        )
    except (TypeError, ValueError) as err:
        raise WorkflowError(f"{path}: bad limit: {err}") from None


def _step(path: Path, name: str, raw: Any) -> Step:
    if not isinstance(raw, dict) or raw.get("agent") not in AGENTS:
        raise WorkflowError(f"{path}: step {name!r} needs 'agent', one of {', '.join(AGENTS)}")
    nxt = raw.get("next")
    if not isinstance(nxt, dict) or not all(isinstance(v, list) and v for v in nxt.values()):
        raise WorkflowError(f"{path}: step {name!r} needs 'next': a mapping of outcome to a non-empty list of steps")
    return Step(name, raw["agent"], str(raw.get("mode", "")), {str(k): tuple(v) for k, v in nxt.items()})
