"""The transcript store: every request sent to the LLM and its reply, one JSON file per call.

A file is named by the sha256 of the canonical request and the call's number among identical requests
(``<key>-<n>.json``): eight calls with one prompt (lanes, retries after a duplicate) leave eight files. ``replay``
mode answers only from the store, the n-th identical request of a run with the n-th recorded reply, which makes
agent tests and re-runs deterministic and offline.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class LlmRequest:
    """What is sent: the endpoint kind decides whether ``messages`` or ``prompt`` is used."""

    endpoint: str  # "chat" or "completions"
    model: str
    messages: tuple[tuple[str, str], ...] = ()  # (role, content) for chat
    prompt: str = ""  # for completions
    max_tokens: int = 8192
    temperature: float = 0.2
    stop: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["messages"] = [list(m) for m in self.messages]
        data["stop"] = list(self.stop)
        return data

    def key(self) -> str:
        """sha256 of the canonical JSON of the request: the transcript file name and the candidates' prompt hash."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LlmRequest:
        return cls(
            **{
                **data,
                "messages": tuple((r, c) for r, c in data.get("messages", ())),
                "stop": tuple(data.get("stop", ())),
            }
        )


@dataclasses.dataclass(frozen=True)
class LlmReply:
    text: str
    model: str  # the model the server says answered
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str | None
    seconds: float  # wall time of the request, retries included
    replayed: bool = False

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LlmReply:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class TranscriptStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, request: LlmRequest, n: int = 0) -> Path:
        key = request.key()
        return self.directory / key[:2] / f"{key}-{n}.json"

    def get(self, request: LlmRequest, n: int = 0) -> LlmReply | None:
        """The reply recorded for the ``n``-th call (from 0) with ``request``, or None."""
        try:
            data = json.loads(self.path_for(request, n).read_text())
        except FileNotFoundError:
            return None
        return dataclasses.replace(LlmReply.from_dict(data["reply"]), replayed=True)

    def put(self, request: LlmRequest, reply: LlmReply, meta: dict[str, Any] | None = None) -> Path:
        """Record one call under the next free number for its request; safe between threads and processes."""
        directory = self.directory / request.key()[:2]
        directory.mkdir(parents=True, exist_ok=True)
        record = {
            "key": request.key(),
            "time": time.time(),
            "request": request.to_dict(),
            "reply": reply.to_dict(),
            "meta": meta or {},
        }
        # Write-then-link: the number is claimed only by a complete file (os.link fails if the name exists), so
        # concurrent agents and the background worker never see half a file nor overwrite each other's call.
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(record, out, indent=1)
            n = 0
            while True:
                path = self.path_for(request, n)
                try:
                    os.link(tmp, path)
                    return path
                except FileExistsError:
                    n += 1
        finally:
            os.unlink(tmp)

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("*/*.json")) if self.directory.exists() else 0

    def records(self) -> list[dict[str, Any]]:
        """All stored records, oldest first (for reports and tests)."""
        if not self.directory.exists():
            return []
        records = [json.loads(p.read_text()) for p in self.directory.glob("*/*.json")]
        return sorted(records, key=lambda r: r["time"])
