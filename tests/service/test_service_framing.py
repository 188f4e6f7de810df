"""Where a request ends (service/framing.py): the main loop hands over only whole requests."""

from __future__ import annotations

import pytest

from service.framing import Framing, RequestFramer

HEAD = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def framer(body_max: int = 1000) -> RequestFramer:
    return RequestFramer(head_max=8192, body_max=body_max)


def feed_bytewise(data: bytes, body_max: int = 1000) -> list[Framing]:
    f = framer(body_max)
    return [f.feed(data[i : i + 1]) for i in range(len(data))]


def test_a_request_without_a_body_is_complete_at_the_empty_line():
    states = feed_bytewise(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert states[-1] is Framing.COMPLETE
    assert set(states[:-1]) == {Framing.INCOMPLETE}


def test_content_length_waits_for_every_byte():
    states = feed_bytewise(HEAD + b"Content-Length: 5\r\n\r\nabcde")
    assert states[-1] is Framing.COMPLETE
    assert set(states[:-1]) == {Framing.INCOMPLETE}


def test_chunked_waits_for_the_last_chunk_and_trailers():
    body = b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n"
    states = feed_bytewise(HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body)
    assert states[-1] is Framing.COMPLETE
    assert set(states[:-1]) == {Framing.INCOMPLETE}


def test_a_trickled_request_arrives_whole_in_any_split():
    request = HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"4\r\nabcd\r\n0\r\n\r\n"
    for cut in range(1, len(request)):
        f = framer()
        assert f.feed(request[:cut]) is Framing.INCOMPLETE, cut
        assert f.feed(request[cut:]) is Framing.COMPLETE, cut
        assert bytes(f.data) == request


@pytest.mark.parametrize(
    "request_bytes",
    [
        HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",  # not hex
        HEAD + b"Content-Length: abc\r\n\r\n",
        HEAD + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        HEAD + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",  # smuggling shape
        HEAD + b"Transfer-Encoding: gzip\r\n\r\n",
        HEAD + b"No colon here\r\n\r\n",
        b"GET / HTTP/1.1\n\n",  # bare LF
        HEAD + b"Content-Length: 1001\r\n\r\n",  # over the body limit: the app's 413
    ],
    ids=["chunk-size", "length", "two-lengths", "length-and-chunked", "gzip", "header", "lf", "over"],
)
def test_what_cannot_be_framed_goes_to_the_parser_at_once(request_bytes):
    assert framer().feed(request_bytes) is Framing.PARSER


def test_a_chunked_body_over_the_limit_goes_to_the_parser_once_received():
    f = framer(body_max=10)
    assert f.feed(HEAD + b"Transfer-Encoding: chunked\r\n\r\n100\r\n" + b"a" * 10) is Framing.INCOMPLETE
    assert f.feed(b"a") is Framing.PARSER  # 11 bytes here: the app reads past its limit, no wait


def test_an_endless_head_goes_to_the_parser():
    f = RequestFramer(head_max=100, body_max=10)
    assert f.feed(b"GET /" + b"a" * 90) is Framing.INCOMPLETE
    assert f.feed(b"a" * 20) is Framing.PARSER


def test_expect_continue_is_noticed():
    f = framer()
    f.feed(HEAD + b"Expect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    assert f.expects_continue and f.head_complete
