"""Lingering close (service/linger.py): what is left of an unread body is read, within bounds."""

from __future__ import annotations

import io
import socket
import threading
import time

from service import linger


class Trickle:
    """A body that hands out `chunk` bytes every `every_s` seconds, forever."""

    def __init__(self, chunk: int, every_s: float):
        self.chunk, self.every_s, self.reads = chunk, every_s, 0

    def read(self, size: int) -> bytes:
        time.sleep(self.every_s)
        self.reads += 1
        return b"x" * min(size, self.chunk)


def test_drains_the_whole_rest_of_a_body():
    assert linger.drain(io.BytesIO(b"x" * 300_000), None) == 300_000


def test_stops_at_the_byte_bound():
    assert linger.drain(io.BytesIO(b"x" * 300_000), None, max_bytes=100_000) == 100_000


def test_stops_at_the_time_bound_for_a_trickling_client():
    body = Trickle(chunk=10, every_s=0.05)
    t0 = time.monotonic()
    drained = linger.drain(body, None, max_s=0.3)
    assert time.monotonic() - t0 < 1.0
    assert 0 < drained == 10 * body.reads < 10 * 20


def test_a_silent_client_times_out_on_the_socket_and_its_timeout_is_restored():
    server, client = socket.socketpair()
    try:
        server.settimeout(None)
        reader = server.makefile("rb")
        t0 = time.monotonic()
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(linger.drain(reader, server, max_s=0.3)))
        thread.start()
        client.sendall(b"abc")
        thread.join(3)
        assert not thread.is_alive() and time.monotonic() - t0 < 2
        assert server.gettimeout() is None
    finally:
        server.close()
        client.close()


def test_after_request_without_a_body_does_nothing():
    class Request:
        body = None

    linger.after_request(Request(), {})  # no exception, nothing to read
