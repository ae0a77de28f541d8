"""Ctrl-C in tests: children that take SIGINT as a user's terminal gives it, whatever the
test worker inherited.

A process started with SIGINT ignored passes that on to its children, and Python then leaves
it ignored (it installs its KeyboardInterrupt handler only over the default disposition). A
test worker can end up so (a library loaded in-process that takes the signal over at the C
level is enough, and ``signal.getsignal`` does not show it), and a Ctrl-C test would then
send a signal nobody receives. These helpers set the disposition explicitly.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

# ``ztflows ARGS`` with Python's own SIGINT handler installed before anything runs.
_CHILD = (
    "import runpy, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "sys.argv = ['ztflows', *sys.argv[1:]]\n"
    "runpy.run_module('zt_flows', run_name='__main__')\n"
)


def ztflows_command(*args: str) -> list[str]:
    """The argv of a child ``ztflows ARGS`` that Ctrl-C interrupts."""
    return [sys.executable, "-c", _CHILD, *args]


@contextlib.contextmanager
def default_ctrl_c() -> Iterator[None]:
    """Python's KeyboardInterrupt handler for the block (set again at the C level), then the
    disposition found before."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
