"""Progress reporting without a UI dependency in the library.

Stages accept a :class:`Progress` and report through it; the default does
nothing. The CLI passes a rich-backed implementation (``zt_flows.cli.console``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType
from typing import Protocol


class Task(Protocol):
    def advance(self, amount: float = 1) -> None: ...

    def update(self, *, total: float | None = None, description: str | None = None) -> None: ...


class Progress(Protocol):
    def task(
        self, description: str, total: float | None = None
    ) -> AbstractContextManager[Task]: ...


class _NullTask:
    def advance(self, amount: float = 1) -> None:
        return None

    def update(self, *, total: float | None = None, description: str | None = None) -> None:
        return None

    def __enter__(self) -> _NullTask:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class NullProgress:
    """Reports nothing; the default for library callers and notebooks."""

    def task(self, description: str, total: float | None = None) -> _NullTask:
        return _NullTask()


NULL_PROGRESS: Progress = NullProgress()
