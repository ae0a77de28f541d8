"""The one place where exceptions become messages and exit codes.

Library code raises :mod:`zt_flows.errors`; this boundary prints one clear line
(and a hint) to stderr and returns the documented exit code. A traceback is shown
only for an unexpected exception and only with ``--debug``: tracebacks carry local
values, and those may hold flow data or credentials.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

import typer

# typer (>= 0.25) vendors its own click and raises these, not the click package's.
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from zt_flows.errors import ExitCode, ZtFlowsError

ISSUES_URL = "https://github.com/ztflows/ztflows/issues"


def run_guarded(func: Callable[[], object], *, debug: bool, stderr: TextIO | None = None) -> int:
    """Run ``func`` and return the exit code its outcome maps to."""
    err = stderr or sys.stderr
    try:
        result = func()
    except ZtFlowsError as exc:
        print(f"error: {exc.message}", file=err)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=err)
        return int(exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        print("aborted", file=err)
        return int(ExitCode.INTERRUPTED)
    except NoArgsIsHelpError:
        # The command's help has been printed already: that is the whole answer.
        return int(ExitCode.INPUT)
    except ClickException as exc:
        exc.show(file=err)
        return int(ExitCode.INPUT)
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # the boundary: anything else is our bug
        if _interrupted_query(exc):
            print("interrupted", file=err)
            return int(ExitCode.INTERRUPTED)
        if _out_of_memory(exc):
            # A limit of the machine or of the options, not a bug: say which knobs exist.
            print("error: the query engine ran out of memory", file=err)
            print(
                "  hint: raise --memory-limit (default 4GB), give --temp-dir a folder"
                " on a disk with free space so it can spill, or narrow the window with"
                " --since/--until",
                file=err,
            )
            return int(ExitCode.INPUT)
        if debug or os.environ.get("ZTFLOWS_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__} (a bug in ztflows). "
            f"Re-run with --debug for the traceback and report it at {ISSUES_URL}",
            file=err,
        )
        return int(ExitCode.INTERNAL)
    if result == ExitCode.INTERRUPTED:
        # typer turns a KeyboardInterrupt inside a command into this exit code, silently.
        print("interrupted", file=err)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)


def _out_of_memory(exc: BaseException) -> bool:
    """DuckDB's OutOfMemoryException (duckdb is not imported here: the CLI loads fast)."""
    kind = type(exc)
    return kind.__name__ == "OutOfMemoryException" and kind.__module__.lstrip("_") == "duckdb"


def _interrupted_query(exc: BaseException) -> bool:
    """A DuckDB query stopped by Ctrl-C: an interruption, not a bug.

    DuckDB's Python client turns SIGINT during a query into ``duckdb.InterruptException``
    or ``RuntimeError("Query interrupted")`` rather than ``KeyboardInterrupt``. duckdb is
    looked up, not imported: ``--help`` stays fast, and if it was never imported no query
    can have been interrupted.
    """
    duckdb = sys.modules.get("duckdb")
    if duckdb is None:
        return False
    from zt_flows.sources.scanerrors import interrupted_query

    return interrupted_query(exc)
