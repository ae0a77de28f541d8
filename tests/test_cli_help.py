"""`--help` at any terminal width, shell completion, and the options every command takes."""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import subprocess
import sys

import pytest
import typer

from zt_flows.cli import main
from zt_flows.cli.helptext import reflow
from zt_flows.cli.main import app

WIDTHS = (60, 120)


def command_paths(
    typer_app: typer.Typer = app, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for info in typer_app.registered_commands:
        assert info.name is not None
        paths.append((*prefix, info.name))
    for group in typer_app.registered_groups:
        assert group.name is not None
        assert group.typer_instance is not None
        paths.append((*prefix, group.name))
        paths += command_paths(group.typer_instance, (*prefix, group.name))
    return paths


COMMANDS = command_paths()


def help_text(*command: str, width: int) -> str:
    """``ztflows COMMAND --help`` as a terminal of ``width`` columns shows it (rich reads
    the width from ``COLUMNS``, as it does in a real terminal)."""
    saved = {name: os.environ.get(name) for name in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    os.environ.update(COLUMNS=str(width), NO_COLOR="1")
    os.environ.pop("FORCE_COLOR", None)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            code = main([*command, "--help"])
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    assert code == 0
    return buffer.getvalue()


@pytest.fixture(scope="module")
def helps() -> dict[tuple[tuple[str, ...], int], str]:
    return {(c, w): help_text(*c, width=w) for c in [(), *COMMANDS] for w in WIDTHS}


def test_the_width_is_the_terminal_s() -> None:
    """The in-process rendering is what a terminal of that width shows."""
    env = {**os.environ, "COLUMNS": "60", "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    result = subprocess.run(
        [sys.executable, "-m", "zt_flows", "diff", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == help_text("diff", width=60)


def test_every_command_is_listed() -> None:
    names = {c[-1] for c in COMMANDS}
    assert {"ingest", "inventory", "collect", "show", "analyze", "reduce", "diff", "pr"} <= names
    assert len(COMMANDS) == 13


def _description(text: str) -> list[list[str]]:
    """The paragraphs above the option panels, each as its lines."""
    body = text.split("╭", 1)[0]
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Usage:"))
    paragraphs: list[list[str]] = [[]]
    for line in lines[start + 1 :]:
        if line.strip():
            paragraphs[-1].append(line.rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("command", [(), *COMMANDS], ids=lambda c: " ".join(c) or "ztflows")
def test_help_fits_and_reflows(
    helps: dict[tuple[tuple[str, ...], int], str], command: tuple[str, ...], width: int
) -> None:
    text = helps[(command, width)]
    too_long = [line for line in text.splitlines() if len(line) > width]
    assert not too_long, too_long
    prose = [p for p in _description(text) if not p[0].startswith("   ")]  # examples indent
    assert prose
    for paragraph in prose:
        for line, following in itertools.pairwise(paragraph):
            # A line is broken only where the next word would not have fitted.
            word = following.split()[0]
            assert len(line) + 1 + len(word) > width - 2, (line, following)


def test_every_command_takes_the_run_options(
    helps: dict[tuple[tuple[str, ...], int], str],
) -> None:
    for command in COMMANDS:
        if command == ("inventory",):
            continue  # a group: its commands take them
        text = helps[(command, 120)]
        for option in ("--config", "--verbose", "-v", "--log-file"):
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), (command, option)


def test_reflow_joins_prose_and_keeps_examples() -> None:
    text = "First line\nwrapped here.\n\nSecond\nparagraph.\n\n  ztflows a \\\n      --b c\n"
    assert (
        reflow(text)
        == "First line wrapped here.\n\nSecond paragraph.\n\n  ztflows a \\\n      --b c"
    )


def test_shell_completion_is_available() -> None:
    script = subprocess.run(
        [sys.executable, "-m", "zt_flows", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert script.returncode == 0, script.stderr
    assert "_ZTFLOWS_COMPLETE" in script.stdout or "_zt_flows" in script.stdout.lower()
    completed = subprocess.run(
        [sys.executable, "-m", "zt_flows"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "_ZTFLOWS_COMPLETE": "complete_bash",
            "COMP_WORDS": "ztflows ana",
            "COMP_CWORD": "1",
        },
        timeout=120,
    )
    assert completed.stdout.split() == ["analyze"]
    root = help_text(width=120)  # the root's own --help
    assert "--install-completion" in root
    assert "--show-completion" in root
