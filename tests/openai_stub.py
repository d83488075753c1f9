"""A tiny OpenAI-compatible HTTP server on 127.0.0.1 for agent tests.

TEST DOUBLE: it stands in for an LLM server. It is a real HTTP server (the openai client, its retries and timeouts
run for real against it); what it answers is scripted: each entry of ``script`` is used once, in order, and the last
one repeats. An entry is a reply text (a 200 with that completion), an ``int`` (that HTTP status with an error
body), a ``dict`` (sent as the JSON body of a 200, for malformed replies), ``bytes`` (sent as they are, labelled JSON,
in a 200: a body that is not JSON), or ``("delay", seconds, entry)``. ``models_reply`` replaces the model list that
``GET /models`` answers with such an entry (a ``dict`` or ``bytes``).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class OpenAIStub:
    def __init__(self, script: list[Any], model: str = "stub-model", models_reply: dict | bytes | None = None) -> None:
        self.script = list(script)
        self.model = model
        self.models_reply = models_reply
        self.requests: list[dict[str, Any]] = []  # bodies of POSTs received, in order
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    listed = {"object": "list", "data": [{"id": stub.model, "object": "model"}]}
                    self._send(200, listed if stub.models_reply is None else stub.models_reply)
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub._lock:
                    stub.requests.append({"path": self.path, **body})
                    entry = stub.script.pop(0) if len(stub.script) > 1 else stub.script[0]
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    status, payload = self._answer(entry, chat=self.path.endswith("/chat/completions"))
                finally:
                    # Out of flight before the reply goes out: once the client has it, it may send the next request,
                    # which must not find this one still counted.
                    with stub._lock:
                        stub.in_flight -= 1
                self._send(status, payload)

            def _answer(self, entry: Any, chat: bool) -> tuple[int, dict[str, Any] | bytes]:
                if isinstance(entry, tuple) and entry[0] == "delay":
                    time.sleep(entry[1])
                    entry = entry[2]
                if isinstance(entry, int):
                    return entry, {"error": {"message": f"scripted HTTP {entry}", "type": "stub"}}
                if isinstance(entry, (dict, bytes)):
                    return 200, entry
                choice: dict[str, Any] = {"index": 0, "finish_reason": "stop"}
                if chat:
                    choice["message"] = {"role": "assistant", "content": entry}
                else:
                    choice["text"] = entry
                return 200, {
                    "id": "stub", "object": "chat.completion" if chat else "text_completion",
                    "created": 0, "model": stub.model, "choices": [choice],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
                }

            def _send(self, status: int, payload: dict[str, Any] | bytes) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> OpenAIStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
