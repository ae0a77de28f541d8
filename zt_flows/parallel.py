"""Running independent work on a thread pool, stopping cleanly on the first failure.

Downloads and AWS calls wait on the network and conversions run in Arrow's C++ code
(which releases the GIL), so threads are enough. On a failure or Ctrl-C, work not yet started is
cancelled and running work sees ``cancel`` set and stops at its next chunk; the error
raised is deterministic when several objects are bad: the first by name.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from zt_flows.errors import FlowLogFormatError

T = TypeVar("T")
R = TypeVar("R")


class Cancelled(Exception):
    """Raised inside a worker that noticed the run is being stopped."""


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold a Ctrl-C that arrives inside the block until it ends.

    ``Executor.submit`` takes the pool's lock; a KeyboardInterrupt raised while it holds it
    can leave it held, and the ``shutdown`` that follows then waits forever. Outside the
    main thread (where signals are not delivered) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
    if caught:
        raise KeyboardInterrupt


def run_parallel(
    items: Sequence[T],
    work: Callable[[T, threading.Event], R],
    *,
    workers: int,
) -> list[R]:
    """``work(item, cancel)`` for every item, on ``workers`` threads; results in item order."""
    if not items:
        return []
    cancel = threading.Event()
    if workers <= 1 or len(items) == 1:
        return [work(item, cancel) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="ztflows")
    futures: list[Future[R]] = []
    try:
        with _interrupts_deferred():
            futures = [pool.submit(work, item, cancel) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        if any(f.exception() is not None for f in done):
            cancel.set()
            for future in futures:
                future.cancel()
    except BaseException:
        cancel.set()
        for future in futures:
            future.cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    errors = [
        exc
        for f in futures
        if not f.cancelled()
        and (exc := f.exception()) is not None
        and not isinstance(exc, Cancelled)
    ]
    if errors:
        format_errors = [e for e in errors if isinstance(e, FlowLogFormatError)]
        if len(format_errors) == len(errors):
            raise min(format_errors, key=lambda e: (e.location.source, e.location.line or 0))
        raise next(e for e in errors if not isinstance(e, FlowLogFormatError))
    return [f.result() for f in futures]
