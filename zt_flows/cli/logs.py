"""``--verbose`` and ``--log-file``: the standard library's logging, for one command.

Only the package's own loggers (``zt_flows.*``) get handlers. boto3 and botocore log
request headers and signatures at DEBUG, so their loggers are never turned up: a log
holds what ztflows says about its own work (stages, counts, timings, files), never
credentials. ztflows' own messages never hold flow data either: they count records,
conversations and findings, and name files, never addresses from the logs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from zt_flows.errors import UsageError

PACKAGE = "zt_flows"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def level_for(verbosity: int) -> int:
    """No -v: warnings; -v: what each stage did; -vv: everything."""
    return {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)


@contextmanager
def logging_to(verbosity: int, log_file: Path | None) -> Iterator[None]:
    """Send the package's log to stderr (at ``verbosity``) and to ``log_file`` (appended,
    at ``verbosity`` but at least INFO) for the block, then put everything back."""
    logger = logging.getLogger(PACKAGE)
    level = level_for(verbosity)
    formatter = logging.Formatter(FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z")
    handlers: list[logging.Handler] = []
    console = logging.StreamHandler()
    console.setLevel(level)
    console.setFormatter(formatter)
    handlers.append(console)
    if log_file is not None:
        try:
            file = logging.FileHandler(log_file, mode="a", encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"--log-file: cannot write {log_file}: {exc.strerror or type(exc).__name__}"
            ) from None
        file.setLevel(min(level, logging.INFO))
        file.setFormatter(formatter)
        handlers.append(file)
    saved = (logger.level, logger.propagate)
    logger.setLevel(min(h.level for h in handlers))
    logger.propagate = False  # the root logger's handlers (a notebook's) stay out of it
    for handler in handlers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


__all__ = ["level_for", "logging_to"]
