"""The command line: a thin layer over the library API, and the one error boundary."""

from zt_flows.cli.main import app, main

__all__ = ["app", "main"]
