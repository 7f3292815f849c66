"""A real webhook receiver on 127.0.0.1 that verifies Standard Webhooks signatures.

Usage::

    with receiving() as receiver:
        receiver.secret = created["secret"]          # verify with standardwebhooks
        receiver.answers = [500, 500, 200]           # the last one repeats
        ... deliver ...
        assert [r.verified for r in receiver.received] == [False, ...]

Every POST is recorded (headers, body, whether the signature verified, the parsed payload).
`in_flight_twice` lists webhook-ids that were being received twice at the same moment.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    payload: Any

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


@dataclass
class Receiver:
    """What the receiver does and what it got; change the fields while it runs."""

    url: str = ""
    secret: str | None = None
    answers: list[int] = field(default_factory=lambda: [200])
    answer_headers: dict[str, str] = field(default_factory=dict)
    answer_body: bytes = b"ok"
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    in_flight_twice: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _in_flight: set[str] = field(default_factory=set)

    def next_status(self) -> int:
        with self._lock:
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def record(self, path: str, headers: dict[str, str], body: bytes) -> None:
        verified, payload = False, json.loads(body or b"null")
        if self.secret is not None:
            try:
                payload = Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                pass
        with self._lock:
            self.received.append(Received(path, headers, body, verified, payload))

    def enter(self, webhook_id: str) -> None:
        with self._lock:
            if webhook_id in self._in_flight:
                self.in_flight_twice.append(webhook_id)
            self._in_flight.add(webhook_id)

    def leave(self, webhook_id: str) -> None:
        with self._lock:
            self._in_flight.discard(webhook_id)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """Block until `count` requests have arrived (or fail after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(self.received)} of {count} webhook requests")
            time.sleep(0.02)
        return list(self.received)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            webhook_id = headers.get("webhook-id", "")
            receiver.enter(webhook_id)
            try:
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver.record(self.path, headers, body)
                status = receiver.next_status()
            finally:
                receiver.leave(webhook_id)
            self.send_response(status)
            for name, value in receiver.answer_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(receiver.answer_body)))
            self.end_headers()
            self.wfile.write(receiver.answer_body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    return Handler


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 (ephemeral port) for the duration of the block."""
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
