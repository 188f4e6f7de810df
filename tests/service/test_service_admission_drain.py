"""Admission during a drain (service/admission.py): what cannot finish by the deadline is
refused with a retryable 503 at once; what can, runs."""

from __future__ import annotations

import threading
import time

import pytest

from service.admission import Admission
from service.errors import DrainingError, route_for


def hold_slot(admission: Admission, release: threading.Event, entered: threading.Event) -> threading.Thread:
    def run() -> None:
        with admission.slot():
            entered.set()
            release.wait(30)

    thread = threading.Thread(target=run)
    thread.start()
    assert entered.wait(10)
    return thread


def test_a_queued_request_that_would_miss_the_deadline_is_refused_at_once():
    admission = Admission(slots=1, max_queue=4, timeout_s=60)
    admission.hold_s = 100.0  # requests have held the slot this long lately
    release, entered = threading.Event(), threading.Event()
    holder = hold_slot(admission, release, entered)
    admission.begin_drain(time.monotonic() + 30)
    t0 = time.monotonic()
    with pytest.raises(DrainingError), admission.slot():
        pass
    assert time.monotonic() - t0 < 15  # not at the deadline (30 s), nor the queue timeout (60 s)
    release.set()
    holder.join(10)
    route = route_for(DrainingError("x"))
    assert (route.status, route.retry_after_s) == (503, 1)


def test_a_queued_request_that_can_finish_runs_after_the_one_ahead():
    admission = Admission(slots=1, max_queue=4, timeout_s=60)
    admission.hold_s = 0.001
    release, entered = threading.Event(), threading.Event()
    holder = hold_slot(admission, release, entered)
    admission.begin_drain(time.monotonic() + 60)
    threading.Timer(0.2, release.set).start()
    with admission.slot() as queue_ms:
        assert queue_ms >= 0
    holder.join(10)


def test_with_nothing_to_go_by_a_waiting_request_is_refused_at_the_deadline():
    admission = Admission(slots=1, max_queue=4, timeout_s=60)
    release, entered = threading.Event(), threading.Event()
    holder = hold_slot(admission, release, entered)
    assert admission.hold_s is None
    admission.begin_drain(time.monotonic() + 0.5)
    with pytest.raises(DrainingError), admission.slot():
        pass
    release.set()
    holder.join(10)
    assert admission.waiting == 0 and admission.running == 0


def test_a_forward_pass_still_running_at_the_deadline_is_answered_503():
    from concurrent.futures import Future

    from service.lifecycle import ServiceState, await_before_drain_deadline

    state = ServiceState("m", "r")
    never: Future = Future()
    done: Future = Future()
    done.set_result("answer")
    assert await_before_drain_deadline(done, state) == "answer"
    state.begin_drain()
    state.drain_deadline = time.monotonic() + 0.3
    with pytest.raises(DrainingError):
        await_before_drain_deadline(never, state)
