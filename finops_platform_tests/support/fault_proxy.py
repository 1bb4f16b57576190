"""A small HTTP proxy on loopback that forwards to moto and can rewrite answers: faults that
moto cannot produce itself (an Athena query that FAILED, one that never finishes)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    target: str  # X-Amz-Target, for the JSON APIs (Athena, Glue, SSM); empty for S3
    range: str = ""  # the Range header of a ranged S3 GET
    body: bytes = b""  # what was sent (a JSON API's request)
    copy_source: str = ""  # the x-amz-copy-source header of an S3 CopyObject (server-side)


# (request, upstream status, upstream body) -> (status, body)
Rewrite = Callable[[Request, int, bytes], tuple[int, bytes]]
HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "content-encoding"}


def _handler(upstream: str, rewrite: Rewrite) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            answer = requests.request(
                self.command, upstream + self.path, headers=headers, data=body, timeout=30
            )
            request = Request(
                self.command,
                self.path,
                self.headers.get("X-Amz-Target", ""),
                self.headers.get("Range", ""),
                body,
                self.headers.get("x-amz-copy-source", ""),
            )
            status, content = rewrite(request, answer.status_code, answer.content)
            self.send_response(status)
            for key, value in answer.headers.items():
                if key.lower() not in HOP_HEADERS:
                    self.send_header(key, value)
            # A HEAD answer has no body: its length is the object's.
            length = answer.headers.get("Content-Length", "0") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        def log_message(self, *args: object) -> None:  # keep test output quiet
            return None

    return Forward


@contextmanager
def fault_proxy(upstream: str, rewrite: Rewrite) -> Iterator[str]:
    """Serve on a free 127.0.0.1 port; yields the proxy's endpoint URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, rewrite))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
