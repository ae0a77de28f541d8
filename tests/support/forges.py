"""A local stand-in for a forge's REST API (GitHub, GitLab): one HTTP server on 127.0.0.1
that records every POST and answers with the status and JSON a test sets."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeForge:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 201
    response: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def serve_forge(api_path: str, *, content_type: str) -> Iterator[FakeForge]:
    """A server whose API lives under ``api_path`` (``/api/v3``); POST is all it takes, as
    the clients may use nothing else."""
    fake = FakeForge(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            fake.requests.append(
                {
                    "method": "POST",
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "json": json.loads(self.rfile.read(length).decode("utf-8")),
                }
            )
            payload = json.dumps(fake.response).encode("utf-8")
            self.send_response(fake.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{api_path}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
