"""The Unified Sketch: the Designer's plan for a kernel, in the plain-text format of ``docs/unified_sketch.md``.

Parsing is forgiving about layout (models indent, reorder, add blank lines) but not about content: a sketch must
state at least the parallel axes, the tiling and the memory plan, or the Coder has nothing to follow.
"""

from __future__ import annotations

import dataclasses
import re

HEADER = "SKETCH v1"
FIELDS = ("kernel", "parallel", "tiling", "loop_order", "memory", "vectorise", "pipeline", "reduction", "notes")
REQUIRED = ("parallel", "tiling", "memory")
_ALIASES = {"vectorize": "vectorise", "vectorization": "vectorise", "vectorisation": "vectorise",
            "loop order": "loop_order", "loops": "loop_order", "memory_plan": "memory", "memory plan": "memory",
            "pipelining": "pipeline", "parallelism": "parallel", "tile": "tiling", "tiles": "tiling"}
_LINE = re.compile(r"^\s*[-*]?\s*\**([A-Za-z_ ]+?)\**\s*:\s*(.*)$")


class SketchRejected(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Sketch:
    fields: dict[str, str]

    def text(self) -> str:
        """Canonical form: what the Coder is shown and what is stored with an accepted kernel."""
        lines = [HEADER]
        lines += [f"{k}: {self.fields[k]}" for k in FIELDS if self.fields.get(k)]
        lines.append("END")
        return "\n".join(lines)


def parse_sketch(reply: str) -> Sketch:
    """The sketch in ``reply`` (header and END optional); raises SketchRejected naming what is missing."""
    body = reply.split(HEADER, 1)[1] if HEADER in reply else reply
    body = body.split("\nEND", 1)[0]
    fields: dict[str, str] = {}
    current = None
    for line in body.splitlines():
        match = _LINE.match(line)
        key = match and _ALIASES.get(match.group(1).strip().lower(), match.group(1).strip().lower())
        if match and key in FIELDS:
            current = key
            fields[key] = match.group(2).strip()
        elif current and line.strip() and line[:1].isspace():
            fields[current] = (fields[current] + " " + line.strip()).strip()
        else:
            current = None
    missing = [k for k in REQUIRED if not fields.get(k)]
    if missing:
        raise SketchRejected(f"sketch lacks {', '.join(missing)}" if fields else "no sketch in the reply")
    return Sketch(fields)
