"""run_parallel: results in order, the first failure by name, Ctrl-C never lost nor stuck."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest
from support.signals import default_ctrl_c

from zt_flows.parallel import _interrupts_deferred, run_parallel


@pytest.fixture(autouse=True)
def ctrl_c() -> Iterator[None]:
    with default_ctrl_c():
        yield


def test_results_come_back_in_item_order() -> None:
    assert run_parallel(list(range(20)), lambda i, _: i * i, workers=4) == [
        i * i for i in range(20)
    ]


def test_a_ctrl_c_while_work_is_handed_out_is_raised_after_it() -> None:
    """The pool's lock is never left held by a KeyboardInterrupt: one that arrives while
    work is being submitted is raised when the submitting is done, not inside it."""
    reached = []
    with pytest.raises(KeyboardInterrupt), _interrupts_deferred():  # noqa: PT012
        os.kill(os.getpid(), signal.SIGINT)
        reached.append("after the signal")
    assert reached == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_during_a_run_cancels_what_has_not_started() -> None:
    started: list[int] = []
    gate = threading.Event()

    def work(item: int, cancel: threading.Event) -> int:
        started.append(item)
        if item == 0:
            os.kill(os.getpid(), signal.SIGINT)
        gate.wait(0.05)
        return item

    with pytest.raises(KeyboardInterrupt):
        run_parallel(list(range(200)), work, workers=2)
    assert len(started) < 200
