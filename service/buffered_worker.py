"""gunicorn's gthread worker, with each request read whole before it takes a thread.

gthread hands a connection to a thread as soon as its first byte arrives, and the thread
then blocks until the request is complete: a handful of clients that send a byte and go quiet
take every thread, and /health stops answering (a liveness probe that fails restarts the
instance). Here the worker's main loop reads every connection without blocking
(`service/framing.py` says when a request is whole) and submits only complete requests, so
slow or silent clients cost a buffer, not a thread, and are cut off after
`REQUEST_READ_TIMEOUT_S` (408). A client that half-closes before its declared body is in gets
a 400, not an answer to a truncated body. SIGTERM answers requests still arriving with 503 +
Retry-After at the drain deadline; until then new connections are still answered.
gunicorn's own parser errors (HTML) are written as JSON `{"error": ...}`, and the
501 for an unknown transfer coding becomes a 400: every error a client can cause is a JSON 4xx.

The measured choice between this worker, plain gthread and other servers: service/README.md,
"Slow clients".
"""

from __future__ import annotations

import contextlib
import errno
import json
import selectors
import socket
import time
from functools import partial

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

from service.framing import Framing, RequestFramer
from service.lifecycle import DRAIN_BUDGET_S

# A request (head and body) must arrive within this long of its first byte, and a new
# connection must start one within it. Cloud Run's and Knative's proxies send whole requests
# at network speed; only a client talking to the container directly is ever this slow.
REQUEST_READ_TIMEOUT_S = 30.0
RETRY_AFTER_S = 1
_RECV = 64 * 1024
# Status lines for the errors this module writes (gunicorn's own reasons otherwise).
_REASONS = {400: "Bad Request", 408: "Request Timeout", 503: "Service Unavailable"}


def json_error_bytes(status: int, reason: str, message: str, headers: dict[str, str] | None = None) -> bytes:
    body = json.dumps({"error": message}).encode()
    lines = [f"HTTP/1.1 {status} {reason}", "Connection: close", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for gunicorn.util.write_error: the same status, a JSON body."""
    if status_int == 501:  # UnsupportedTransferCoding: the client's framing, not a server fault
        status_int, reason = 400, "Bad Request"
    text = " ".join((mesg or reason).split())[:300]
    util.write_nonblock(sock, json_error_bytes(status_int, reason, f"{reason}: {text}"))


# gunicorn writes every parser error through util.write_error (workers/base.py looks it up at
# call time), so this one assignment turns all of them into JSON.
util.write_error = write_json_error


class BufferedThreadWorker(ThreadWorker):
    """gthread, with requests buffered by the main loop until whole (see the module doc)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cfg = self.cfg
        # The largest head gunicorn's limits let through; past it the parser refuses the request.
        field_max = cfg.limit_request_field_size + 2
        self.head_max = cfg.limit_request_line + 2 + cfg.limit_request_fields * field_max + 2
        # Set from the service's settings in gunicorn.conf.py's post_worker_init (MAX_BODY_BYTES):
        # a body declared larger is handed over at once, for the app's 413.
        self.body_max = 1 << 20
        self.reading: dict[TConn, float] = {}  # connection -> deadline for its request
        self.stop_deadline = float("inf")  # set at SIGTERM

    # --- SIGTERM: keep answering until the drain deadline ---------------------------------
    def handle_exit(self, sig, frame) -> None:
        if self.alive:
            self.stop_deadline = time.monotonic() + DRAIN_BUDGET_S
        super().handle_exit(sig, frame)

    def set_accept_enabled(self, enabled: bool) -> None:
        # gthread stops accepting at SIGTERM; connections then wait unanswered in the listen
        # backlog (a probe times out, a request is reset at exit). Accepting on, they get an
        # answer: /ready 503, /health 200, /predict 503 + Retry-After, with Connection: close.
        if not enabled and not self.alive and time.monotonic() < self.stop_deadline:
            return
        super().set_accept_enabled(enabled)

    # --- reading, in the main loop -----------------------------------------------------
    def accept(self, listener) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())  # non-blocking
        self._start_reading(conn)

    def on_client_socket_readable(self, conn, client) -> None:
        """A kept-alive connection has its next request coming: read it here, too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._start_reading(conn)

    def _start_reading(self, conn: TConn) -> None:
        conn.framer = RequestFramer(head_max=self.head_max, body_max=self.body_max)
        conn.sent_continue = False
        self.reading[conn] = time.monotonic() + REQUEST_READ_TIMEOUT_S
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: TConn, _sock) -> None:
        framer: RequestFramer = conn.framer
        try:
            data = conn.sock.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(conn)
            return
        if not data:  # the client closed (or half-closed) its side
            if framer.data:
                self._answer(
                    conn, 400, "the request ended before it was complete (a body shorter than declared?)"
                )
            else:
                self._drop(conn)
            return
        state = framer.feed(data)
        if state is Framing.INCOMPLETE:
            if framer.expects_continue and framer.head_complete and not conn.sent_continue:
                conn.sent_continue = True  # the client waits for this before it sends the body
                util.write_nonblock(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
            return
        self._hand_over(conn)

    def _hand_over(self, conn: TConn) -> None:
        self.poller.unregister(conn.sock)
        del self.reading[conn]
        data = bytes(conn.framer.data)
        conn.init()  # plain HTTP/1.1: makes the parser, reads nothing
        conn.parser.unreader.unread(data)
        conn.data_ready = True
        self.enqueue_req(conn)

    def handle_request(self, req, conn):
        if getattr(conn, "sent_continue", False):
            req._expected_100_continue = False  # already sent by _on_readable
        return super().handle_request(req, conn)

    # --- ending connections that are still arriving ------------------------------------
    def _answer(self, conn: TConn, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        try:
            conn.sock.setblocking(True)
            conn.sock.settimeout(1.0)
            conn.sock.sendall(json_error_bytes(status, _REASONS[status], message, headers))
        except OSError:
            pass
        self._drop(conn)

    def _drop(self, conn: TConn) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        self.reading.pop(conn, None)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Also called every loop turn: time out slow requests; when stopping, end them all."""
        super().murder_pending()
        now = time.monotonic()
        if now >= self.stop_deadline:
            self.set_accept_enabled(False)  # the drain is over: new connections wait no more
        for conn, deadline in list(self.reading.items()):
            if now >= self.stop_deadline:
                if conn.framer.data:
                    self._answer(
                        conn,
                        503,
                        "the server is shutting down; retry after the Retry-After delay",
                        {"Retry-After": str(RETRY_AFTER_S)},
                    )
                else:
                    self._drop(conn)
            elif now > deadline:
                if conn.framer.data:
                    message = f"the request did not arrive whole within {REQUEST_READ_TIMEOUT_S:g} s"
                    self._answer(conn, 408, message)
                else:
                    self._drop(conn)
