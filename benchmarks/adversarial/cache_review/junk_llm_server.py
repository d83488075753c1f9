"""A tiny LLM endpoint that misbehaves. Usage: python junk_llm_server.py PORT KIND
KIND: junk (200, non-JSON for every path), models-ok (a valid /models list, junk chat completions),
empty-choices (valid JSON completions with no choices), html500 (500 with an HTML page), hang (never answers)."""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KIND = sys.argv[2]
MODELS = json.dumps({"object": "list", "data": [{"id": "junk-model", "object": "model", "created": 0,
                                                  "owned_by": "me"}]}).encode()


class Handler(BaseHTTPRequestHandler):
    def _reply(self, code: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _answer(self) -> None:
        if KIND == "hang":
            time.sleep(3600)
        if KIND == "html500":
            return self._reply(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        if KIND in ("models-ok", "empty-choices") and self.path.endswith("/models"):
            return self._reply(200, MODELS)
        if KIND == "empty-choices":
            return self._reply(200, json.dumps({"id": "x", "object": "chat.completion", "created": 0,
                                                "model": "junk-model", "choices": []}).encode())
        self._reply(200, b"\x00\xffnot json at all {{{")

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer()

    def log_message(self, *args) -> None:
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
