"""The command line: a thin layer over the library API, and the one error boundary."""

import sys

try:
    from zt_flows.cli.main import app, main
except KeyboardInterrupt:  # Ctrl-C while the command line loads: nothing was started yet
    print("interrupted", file=sys.stderr)
    raise SystemExit(130) from None

__all__ = ["app", "main"]
