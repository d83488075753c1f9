"""Messages between the verifier and its workers: a JSON header followed by raw byte frames.

No pickle on this channel: the worker runs untrusted code, and whatever it sends back is parsed as data, never as
objects to rebuild.
"""

from __future__ import annotations

import json
from multiprocessing.connection import Connection
from typing import Any, Sequence


def send(conn: Connection, header: dict[str, Any], frames: Sequence[bytes] = ()) -> None:
    conn.send_bytes(json.dumps({**header, "frames": len(frames)}).encode())
    for frame in frames:
        conn.send_bytes(frame)


def receive(conn: Connection) -> tuple[dict[str, Any], list[bytes]]:
    """The next message; raises EOFError when the other side is gone."""
    header = json.loads(conn.recv_bytes())
    if not isinstance(header, dict):
        raise ValueError("malformed message from worker")
    frames = [conn.recv_bytes() for _ in range(int(header.pop("frames", 0)))]
    return header, frames
