"""Terminal output for the CLI: a rich console on stderr and rich-backed progress bars."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

# Progress and summaries go to stderr so stdout stays clean for --format json.
stderr_console = Console(stderr=True, highlight=False, soft_wrap=True)
stdout_console = Console(highlight=False)


class _RichTask:
    def __init__(self, progress: Progress, task_id: TaskID) -> None:
        self._progress = progress
        self._id = task_id

    def advance(self, amount: float = 1) -> None:
        self._progress.advance(self._id, amount)

    def update(self, *, total: float | None = None, description: str | None = None) -> None:
        if total is not None:
            self._progress.update(self._id, total=total)
        if description is not None:
            self._progress.update(self._id, description=description)


class RichProgress:
    """Implements :class:`zt_flows.progress.Progress` with rich bars on stderr."""

    def __init__(self, *, enabled: bool = True) -> None:
        self._enabled = enabled and stderr_console.is_terminal

    @contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[_RichTask]:
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=stderr_console,
            transient=True,
            disable=not self._enabled,
        )
        with progress:
            task_id = progress.add_task(description, total=total)
            yield _RichTask(progress, task_id)


def print_warnings(warnings: Iterable[object], *, label: str = "warning") -> None:
    """One yellow line per warning a stage returned, on stderr."""
    for warning in warnings:
        stderr_console.print(
            f"  {label:<14} {warning}", style="yellow", markup=False, highlight=False
        )
