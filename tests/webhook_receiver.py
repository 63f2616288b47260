"""A real HTTP receiver on loopback (werkzeug in a thread, port 0) that checks each delivery's
signature the way the README tells receivers to, and answers with scripted status codes."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class Receiver:
    def __init__(self, secret: str):
        self.secret = secret
        self.received: list[dict] = []  # every request, with whether its signature held
        self.answers: list[int] = []  # status codes to answer, in order; then 200

    def verify(self, request) -> bool:
        timestamp = request.headers.get("X-CRM-Timestamp", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), timestamp.encode() + b"." + request.get_data(),
                                        hashlib.sha256).hexdigest()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
        return fresh and hmac.compare_digest(expected, request.headers.get("X-CRM-Signature", ""))

    def __call__(self, environ, start_response):
        request = Request(environ)
        status = self.answers.pop(0) if self.answers else 200
        self.received.append({"path": request.path, "headers": dict(request.headers),
                              "body": json.loads(request.get_data()), "signed": self.verify(request),
                              "answered": status})
        return Response("ok" if status < 300 else "receiver error", status=status)(environ, start_response)

    @property
    def delivered(self) -> list[dict]:
        return [r for r in self.received if r["answered"] < 300]


class serve:
    """``with serve(receiver) as url:`` — the receiver listening on a free loopback port."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)

    def __enter__(self) -> str:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}/hooks/crm"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)
