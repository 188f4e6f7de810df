"""Where an HTTP/1.1 request ends, decided from the bytes received so far (no I/O, no threads).

The server's main loop (service/buffered_worker.py) reads each connection without blocking
and hands a request to a worker thread only once it has arrived whole, so a client that
sends slowly holds a few bytes of memory, not a thread. `RequestFramer.feed` says, after each
read, whether the request is complete, still arriving, or one the HTTP parser must judge (a
malformed or over-limit head or body: the parser then answers it with a 4xx at once).
It is incremental: a trickled request costs work in proportion to its bytes, not their square.
"""

from __future__ import annotations

import enum
import string

_HEX = frozenset(string.hexdigits.encode())
# A chunk-size line longer than this is malformed (size + extensions); the parser says why.
_MAX_CHUNK_LINE = 1024


class Framing(enum.Enum):
    INCOMPLETE = "incomplete"  # keep reading
    COMPLETE = "complete"  # the head and the whole body are here
    PARSER = "parser"  # not framable here: let the HTTP parser answer (an error, or a 413)


class RequestFramer:
    """Feed it the bytes of one request as they arrive; `data` holds them all."""

    def __init__(self, *, head_max: int, body_max: int) -> None:
        self.head_max = head_max
        self.body_max = body_max
        self.data = bytearray()
        self.expects_continue = False
        self._body_start: int | None = None
        self._length: int | None = None  # Content-Length
        self._chunked = False
        self._chunk_pos = 0  # chunked: offset (from the body start) of the next size line
        self._chunk_total = 0
        self._state = Framing.INCOMPLETE

    @property
    def head_complete(self) -> bool:
        return self._body_start is not None

    def feed(self, chunk: bytes) -> Framing:
        self.data += chunk
        if self._state is not Framing.INCOMPLETE:
            return self._state
        if self._body_start is None:
            self._state = self._read_head()
            if self._body_start is None or self._state is not Framing.INCOMPLETE:
                return self._state
        self._state = self._read_body()
        return self._state

    def _read_head(self) -> Framing:  # noqa: PLR0911 - one return per framing outcome
        end = self.data.find(b"\r\n\r\n")
        if end < 0:
            if b"\n\n" in self.data or len(self.data) > self.head_max:
                return Framing.PARSER  # bare-LF framing or an endless head: the parser refuses it
            return Framing.INCOMPLETE
        self._body_start = end + 4
        lengths, codings = [], []
        for line in bytes(self.data[:end]).split(b"\r\n")[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                return Framing.PARSER
            name = name.strip().lower()
            if name == b"content-length":
                lengths.append(value.strip())
            elif name == b"transfer-encoding":
                codings.append(value.strip().lower())
            elif name == b"expect" and value.strip().lower() == b"100-continue":
                self.expects_continue = True
        if codings:
            if lengths or codings != [b"chunked"]:
                return Framing.PARSER  # ambiguous or unsupported framing: a 400 from the parser
            self._chunked = True
        elif lengths:
            raw = lengths[0]
            if len(lengths) > 1 or not raw.isdigit() or len(raw) > 18:
                return Framing.PARSER
            self._length = int(raw)
            if self._length > self.body_max:
                return Framing.PARSER  # the app answers 413 from the declared length
        return Framing.INCOMPLETE

    def _read_body(self) -> Framing:
        assert self._body_start is not None
        body_len = len(self.data) - self._body_start
        if self._chunked:
            return self._read_chunks()
        if self._length is None or body_len >= self._length:
            return Framing.COMPLETE
        return Framing.INCOMPLETE

    def _read_chunks(self) -> Framing:
        assert self._body_start is not None
        base = self._body_start
        while True:
            line_start = base + self._chunk_pos
            nl = self.data.find(b"\r\n", line_start)
            if nl < 0:
                return Framing.PARSER if len(self.data) - line_start > _MAX_CHUNK_LINE else Framing.INCOMPLETE
            size_field = bytes(self.data[line_start:nl]).split(b";", 1)[0].strip()
            if not size_field or len(size_field) > 16 or not set(size_field) <= _HEX:
                return Framing.PARSER  # not hex: the parser's InvalidChunkSize -> 400
            size = int(size_field, 16)
            if size == 0:
                # Last chunk, then optional trailer fields and an empty line.
                trailers = self.data[nl + 2 :]
                if trailers.startswith(b"\r\n") or b"\r\n\r\n" in trailers:
                    return Framing.COMPLETE
                return Framing.PARSER if len(trailers) > self.head_max else Framing.INCOMPLETE
            received = self._chunk_total + min(size, len(self.data) - (nl + 2))
            if received > self.body_max:
                # Over the limit and here: the app reads past its limit and answers 413
                # without waiting on the socket.
                return Framing.PARSER
            next_line = nl + 2 + size + 2
            if len(self.data) < next_line:
                return Framing.INCOMPLETE
            self._chunk_total += size
            self._chunk_pos = next_line - base
