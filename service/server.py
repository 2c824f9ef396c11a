"""How `pqa serve` runs uvicorn: which proxies are believed, slow clients timed out, protocol errors in JSON.

uvicorn answers some requests before the application sees them: a request its HTTP parser rejects
(a malformed Content-Length, a URL past httptools' 64 KB) gets a plain-text 400; and a client may
send headers without end, or never finish them, and is never timed out.
`Protocol` is uvicorn's httptools protocol with those three changed: such a 400 has the service's
JSON error shape, security headers and a request id; a request's line and headers are limited to
MAX_HEAD_BYTES (431) and must arrive within PQA_HEADER_TIMEOUT seconds (408, or a plain close for a
connection that sent nothing). It relies on uvicorn's protocol internals; tests/test_server.py
checks each behaviour over a real socket. uvicorn's own start-up lines are off: once the server
listens and the index has loaded, the last line printed is the address to open.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sys
import threading
import time
import uuid
from http import HTTPStatus
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .engine import Engine
from .errors import error_body
from .guards import security_headers
from .settings import Settings
from .telemetry import access_log, client_of

MAX_HEAD_BYTES = 65_536
ANNOUNCE_WAIT = 600.0  # seconds the address waits for the model and the index before it is printed anyway
log = logging.getLogger("pqa.server")


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size limit on each request's head, errors in JSON."""

    header_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head, self._head_bytes = True, 0
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            room = MAX_HEAD_BYTES - self._head_bytes
            if len(data) > room and b"\r\n\r\n" not in data[: room + 4]:
                problem = f"the request line and headers are over {MAX_HEAD_BYTES:,} bytes"
                self._refuse(431, "headers_too_large", f"{problem}; send a shorter URL or fewer headers")
                return
            self._head_bytes += len(data)
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        if self._head_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes = True, 0  # what comes next on this connection is the next request's head

    def send_400_response(self, msg: str) -> None:
        problem = "the request is not valid HTTP (a malformed request line, header or Content-Length)"
        self._refuse(400, "bad_request", f"{problem}; fix the request")

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_bytes == 0:
            self.transport.close()  # an idle connection: nobody to answer
            return
        problem = f"the request's headers did not arrive within {self.header_timeout:g} s (PQA_HEADER_TIMEOUT)"
        self._refuse(408, "request_timeout", f"{problem}; send the whole request at once")

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer in the JSON error shape, log it like any request, and close the connection."""
        request_id = uuid.uuid4().hex
        body = error_body(code, message)
        headers = [
            *self.server_state.default_headers,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            (b"x-request-id", request_id.encode()),
            *security_headers(),
        ]
        head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()]
        head += [name + b": " + value + b"\r\n" for name, value in headers]
        self.transport.write(b"".join([*head, b"\r\n", body]))
        self.transport.close()
        self._disarm()
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "request_id": request_id,
            "method": "-",
            "route": "unparsed",
            "status": status,
            "ms": 0,
            "client": client_of({"client": self.client}),
        }
        access_log.info(json.dumps(entry))


def config(app: Any, settings: Settings) -> uvicorn.Config:
    """uvicorn's configuration for `app`: the protocol above, the timeouts, and proxies believed only if listed."""

    class Configured(Protocol):
        header_timeout = settings.header_timeout

    trusted = settings.trusted_proxies
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=Configured,
        # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: off unless proxies are listed
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        timeout_keep_alive=settings.keep_alive_timeout,
        # uvicorn's start-up lines are left out: the last line `pqa serve` prints is the address to open
        log_level="warning",
        access_log=False,
    )


class _Server(uvicorn.Server):
    """uvicorn's server that prints the address to open once it listens and the index has loaded (or cannot)."""

    def __init__(self, config: uvicorn.Config, app: Any, url: str) -> None:
        super().__init__(config)
        self.app, self.url = app, url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            threading.Thread(target=self._announce, name="pqa-announce", daemon=True).start()

    def _announce(self) -> None:
        engine: Engine | None = getattr(self.app.state, "engine", None)
        deadline = time.monotonic() + ANNOUNCE_WAIT
        while engine is not None and engine.status().state in ("starting", "loading"):
            if self.should_exit or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        if self.should_exit:
            return
        status = engine.status() if engine is not None else None
        if status is not None and status.state != "ready":
            say(f"not ready yet: {status.message or status.state}")
        say(f"open {self.url} (Ctrl+C stops the service)")


def say(line: str) -> None:
    """One whole line on stderr in one write: `print` writes the text and its newline apart, so an access-log line
    written by another thread in between ran on after the address ('open http://...{"ts": ...}')."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def serve(app: Any, settings: Settings) -> None:
    """Serve `app` until interrupted; the last line printed before serving is the address to open."""
    _Server(config(app, settings), app, f"http://{settings.host}:{settings.port}").run()
