"""The command line's shared options: declared once, the same on every command, and every
setting they do not name kept as it was."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from zt_flows.cli import main
from zt_flows.cli.common import build_settings
from zt_flows.settings import (
    AwsSettings,
    ConversationSettings,
    EngineSettings,
    RecommendSettings,
    Settings,
    SourceSettings,
)

OBSERVING = ("conversations", "recommend", "check", "analyze")


def _help(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    assert main([*command, "--help"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", ["ingest", *OBSERVING])
def test_every_command_that_reads_flow_logs_takes_the_same_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _help(capsys, command)
    for option in (
        "--since",
        "--until",
        "--on-error",
        "--fields",
        "--cache-dir",
        "--profile",
        "--region",
        "--endpoint-url",
        "--memory-limit",
        "--temp-dir",
        "--quiet",
    ):
        assert option in text, option
    assert ("--onprem-cidr" in text) == (command in OBSERVING)
    assert ("--partner-cidr" in text) == (command in OBSERVING)
    assert ("--port-range" in text) == (command in ("recommend", "analyze"))
    assert "[stop|skip]" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "x", "--on-error", "maybe"], "--on-error: expected 'stop' or 'skip'"),
        (["ingest", "x", "--format", "xml"], "--format: expected 'text' or 'json'"),
        (
            ["conversations", "x", "--out", "e.parquet", "--format", "xml"],
            "--format: expected 'text' or 'json'",
        ),
        (["check", "p.json", "x", "--format", "yaml"], "--format: expected 'text' or 'json'"),
        (
            ["analyze", "x", "--out", "o", "--format", "xml"],
            "--format: expected 'text', 'json' or 'sarif'",
        ),
        (
            ["analyze", "x", "--out", "o", "--fail-on", "extreme"],
            "--fail-on: expected one of critical, high, medium, low, info",
        ),
        (
            ["diff", "a", "b", "--fail-on", "extreme"],
            "--fail-on: expected one of critical, high, medium, low, info",
        ),
        (["diff", "a", "b", "--format", "xml"], "--format: expected 'text', 'json' or 'markdown'"),
        (["inventory", "show", "d", "--format", "yaml"], "--format: expected 'text' or 'json'"),
        (
            ["graph", "e.parquet", "--out", "g.svg", "--level", "vpc"],
            "--level: expected one of security_group, eni, subnet",
        ),
    ],
)
def test_a_value_outside_the_choices_is_a_usage_error(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may be written, not even a folder for --out
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}, found '{args[-1]}'")
    assert list(tmp_path.iterdir()) == []


def test_settings_no_option_names_are_kept() -> None:
    base = Settings(
        aws=AwsSettings(profile="audit", region="eu-west-1", max_attempts=3),
        sources=SourceSettings(
            cache_dir=Path("/c"),
            download_workers=3,
            on_error="skip",
            progress=False,
            list_page_size=7,
            text_fields=("version",),
            log_events_page_size=50,
        ),
        engine=EngineSettings(memory_limit="1GB", threads=2, temp_dir=Path("/t")),
        conversations=ConversationSettings(onprem_cidrs=("10.9.0.0/16",)),
        recommend=RecommendSettings(min_days=3),
    )
    assert build_settings(base=base) == base


def test_options_reach_their_settings() -> None:
    settings = build_settings(
        since="2026-11-16",
        profile="audit",
        on_error="skip",
        quiet=True,
        memory_limit="2GB",
        onprem_cidr=["10.9.1.0/16"],
        partner_cidr=["203.0.113.0/24", "198.51.100.0/24"],
        min_days=2,
        port_range=["8000-8100"],
        port_range_density=0.25,
    )
    defaults = Settings()
    assert settings.window.since is not None
    assert settings.aws == replace(defaults.aws, profile="audit")
    assert (settings.sources.on_error, settings.sources.progress) == ("skip", False)
    assert settings.engine == replace(defaults.engine, memory_limit="2GB")
    assert settings.conversations.onprem_cidrs == ("10.9.0.0/16",)
    assert settings.conversations.partner_cidrs == ("198.51.100.0/24", "203.0.113.0/24")
    assert settings.recommend == replace(
        defaults.recommend, min_days=2, port_ranges=((8000, 8100),), port_range_density=0.25
    )
