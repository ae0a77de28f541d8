"""`ztflows.toml`: every key read into Settings, every mistake named by its key path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import REPO_ROOT, SAMPLE_DATA

from zt_flows.cli import main
from zt_flows.cli.common import build_settings
from zt_flows.configuration import KEYS, find_configuration, load_configuration
from zt_flows.errors import ConfigurationError
from zt_flows.settings import ExpectedPeer, ScopeSettings, Settings, Suppression

EXAMPLE = REPO_ROOT / "docs" / "ztflows.example.toml"
DOC = REPO_ROOT / "docs" / "configuration.md"

FULL = """
[scope]
accounts = ["111122223333", "444455556666"]
regions = ["eu-west-1"]
vpcs = ["vpc-0abc"]
groups = ["sg-0123abcd", "web-*"]

[networks]
onprem = ["10.128.5.0/12"]
partners = ["198.51.100.0/24", "2001:db8::/32"]
scanners = ["10.0.250.10/32"]

[recommend]
min_flows = 3
min_days = 2
port_range_density = 0.75
port_ranges = ["30000-32767", "49152-49200"]

[[expected_peers]]
client = "sg-0123abcd"
server = "aws:S3"
port = "tcp/443"
reason = "backups"

[[expected_peers]]
client = "internet"
server = "*"

[[suppressions]]
code = "ZT004"
subject = "sgr-0006e2f4f9e814d35"
reason = "office SSH, reviewed"
expires = 2027-03-31

[[suppressions]]
code = "ZT011"
subject = "sg-035d65ba02fbd3236"
reason = "runbook"
expires = "2027-04-01"
"""


def write(tmp_path: Path, text: str, name: str = "ztflows.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_key_is_read_into_the_settings(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    settings = load_configuration(path)
    assert settings.config_file == path
    assert settings.scope == ScopeSettings(
        accounts=("111122223333", "444455556666"),
        regions=("eu-west-1",),
        vpc_ids=("vpc-0abc",),
        group_ids=("sg-0123abcd",),
        group_names=("web-*",),
    )
    # Network-address form, as the flags give them.
    assert settings.conversations.onprem_cidrs == ("10.128.0.0/12",)
    assert settings.conversations.partner_cidrs == ("198.51.100.0/24", "2001:db8::/32")
    assert settings.conversations.scanner_cidrs == ("10.0.250.10/32",)
    assert settings.recommend.min_flows == 3
    assert settings.recommend.min_days == 2
    assert settings.recommend.port_range_density == 0.75
    assert settings.recommend.port_ranges == ((30000, 32767), (49152, 49200))
    assert settings.expected_peers == (
        ExpectedPeer("sg-0123abcd", "aws:S3", "tcp/443", "backups"),
        ExpectedPeer("internet", "*", None, ""),
    )
    assert settings.suppressions == (
        Suppression("ZT004", "sgr-0006e2f4f9e814d35", "office SSH, reviewed", date(2027, 3, 31)),
        Suppression("ZT011", "sg-035d65ba02fbd3236", "runbook", date(2027, 4, 1)),
    )
    # What the file does not set keeps its default.
    assert settings.recommend.admin_ports == Settings().recommend.admin_ports
    assert settings.engine == Settings().engine


def test_an_empty_file_is_the_defaults(tmp_path: Path) -> None:
    settings = load_configuration(write(tmp_path, "# nothing decided yet\n"))
    assert settings == Settings(config_file=tmp_path / "ztflows.toml")
    assert settings.scope.everything


def test_the_example_file_is_valid_and_sets_every_key() -> None:
    settings = load_configuration(EXAMPLE)
    assert not settings.scope.everything
    assert settings.scope.group_ids
    assert settings.scope.group_names
    assert settings.conversations.onprem_cidrs
    assert settings.conversations.partner_cidrs
    assert settings.conversations.scanner_cidrs
    assert settings.expected_peers
    assert settings.suppressions
    text = EXAMPLE.read_text()
    for key in KEYS:
        name = key.path.rsplit(".", 1)[-1]
        assert re.search(rf"^{re.escape(name)} = ", text, re.M), key.path


def test_every_key_is_documented() -> None:
    doc = DOC.read_text()
    sections = {"scope": "[scope]", "networks": "[networks]", "recommend": "[recommend]"}
    sections |= {"expected_peers[]": "[[expected_peers]]", "suppressions[]": "[[suppressions]]"}
    for key in KEYS:
        table, name = key.path.rsplit(".", 1)
        heading = f"## `{sections[table]}`"
        assert heading in doc, heading
        section = doc.split(heading, 1)[1].split("\n## ", 1)[0]
        assert f"| `{name}` |" in section, key.path


@pytest.mark.parametrize(
    ("text", "where", "expected", "found"),
    [
        ('[scope]\nvpcs = "vpc-1"\n', "scope.vpcs", "a list of VPC ids", "the string 'vpc-1'"),
        ('[scope]\nvpcs = ["vpc-1", "subnet-2"]\n', "scope.vpcs[1]", "VPC ids", "'subnet-2'"),
        ('[scope]\naccounts = ["1234"]\n', "scope.accounts[0]", "12-digit", "'1234'"),
        ("[scope]\naccounts = [123456789012]\n", "scope.accounts[0]", "12-digit", "number"),
        ('[scope]\nregions = ["Ireland"]\n', "scope.regions[0]", "Region", "'Ireland'"),
        ('[scope]\ngroups = ["sg-xyz"]\n', "scope.groups[0]", "security-group ids", "'sg-xyz'"),
        ("scope = 3\n", "scope", "a table", "the number 3"),
        ('[networks]\nonprem = ["10.0.0.0/33"]\n', "networks.onprem[0]", "CIDR", "'10.0.0.0/33'"),
        ('[networks]\nscanners = ["nope/8"]\n', "networks.scanners[0]", "CIDR", "'nope/8'"),
        ("[recommend]\nmin_days = 0\n", "recommend.min_days", "at least 1", "the number 0"),
        ("[recommend]\nmin_flows = true\n", "recommend.min_flows", "integer", "boolean true"),
        ("[recommend]\nmin_flows = 2.5\n", "recommend.min_flows", "integer", "number 2.5"),
        (
            "[recommend]\nport_range_density = 1.5\n",
            "recommend.port_range_density",
            "(0, 1]",
            "1.5",
        ),
        (
            '[recommend]\nport_ranges = ["100-50"]\n',
            "recommend.port_ranges[0]",
            "LOW-HIGH",
            "'100-50'",
        ),
        (
            '[[expected_peers]]\nclient = "internet"\n',
            "expected_peers[0].server",
            "conversation side",
            "nothing",
        ),
        (
            '[[expected_peers]]\nclient = "a"\nserver = "b"\nport = "443"\n',
            "expected_peers[0].port",
            "tcp/443",
            "'443'",
        ),
        ("expected_peers = 1\n", "expected_peers", "array of tables", "the number 1"),
        (
            '[[suppressions]]\ncode = "ZT999"\nsubject = "x"\nreason = "r"\n',
            "suppressions[0].code",
            "finding code",
            "'ZT999'",
        ),
        (
            '[[suppressions]]\ncode = "ZT001"\nsubject = "x"\nreason = "  "\n',
            "suppressions[0].reason",
            "non-empty",
            "'  '",
        ),
        (
            '[[suppressions]]\ncode = "ZT001"\nsubject = "x"\n',
            "suppressions[0].reason",
            "non-empty",
            "nothing",
        ),
        (
            '[[suppressions]]\ncode = "ZT001"\nsubject = "x"\nreason = "r"\n'
            '[[suppressions]]\ncode = "ZT001"\nsubject = "y"\nreason = "r"\n'
            '[[suppressions]]\ncode = "ZT001"\nsubject = "z"\nreason = "r"\nexpires = "soon"\n',
            "suppressions[2].expires",
            "a date like 2027-01-31",
            "the string 'soon'",
        ),
        (
            '[[suppressions]]\ncode = "ZT001"\nsubject = "x"\nreason = "r"\n'
            "expires = 2027-01-31T10:00:00Z\n",
            "suppressions[0].expires",
            "a date like",
            "date and time",
        ),
    ],
)
def test_a_bad_value_names_its_key_path(
    tmp_path: Path, text: str, where: str, expected: str, found: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError) as caught:
        load_configuration(path)
    error = caught.value
    assert error.location.source == str(path)
    assert error.location.path == where
    assert expected in error.expected
    assert found in error.found
    assert str(error).startswith(f"{path}, at {where}: expected ")


@pytest.mark.parametrize(
    ("text", "where", "hint"),
    [
        ('[scope]\nvpc = ["vpc-1"]\n', "scope.vpc", "did you mean 'vpcs'?"),
        ("[recomend]\nmin_days = 2\n", "recomend", "did you mean 'recommend'?"),
        (
            '[[suppressions]]\ncode = "ZT001"\nsubject = "x"\nreason = "r"\nexpiry = 2027-01-01\n',
            "suppressions[0].expiry",
            "did you mean 'expires'?",
        ),
        ('[networks]\nwhatever = ["10.0.0.0/8"]\n', "networks.whatever", None),
    ],
)
def test_an_unknown_key_is_an_error_with_a_suggestion(
    tmp_path: Path, text: str, where: str, hint: str | None
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_configuration(write(tmp_path, text))
    assert caught.value.location.path == where
    assert caught.value.found.startswith("unknown key")
    assert caught.value.hint == hint


def test_toml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[scope]\nvpcs = [\n  "vpc-1",\n  oops\n]\n')
    with pytest.raises(ConfigurationError) as caught:
        load_configuration(path)
    assert caught.value.location.line == 4
    assert caught.value.expected == "valid TOML"
    assert "column" in caught.value.found


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no such file"):
        load_configuration(tmp_path / "missing.toml")
    with pytest.raises(ConfigurationError, match="a folder"):
        load_configuration(tmp_path)
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[scope]\ngroups = ["caf\xe9"]\n')
    with pytest.raises(ConfigurationError, match="UTF-8"):
        load_configuration(path)


def test_the_file_is_found_in_the_working_directory(tmp_path: Path) -> None:
    assert find_configuration(None, cwd=tmp_path) is None
    path = write(tmp_path, "")
    assert find_configuration(None, cwd=tmp_path) == path
    other = tmp_path / "elsewhere.toml"
    assert find_configuration(other, cwd=tmp_path) == other  # --config wins, even if missing


def test_flags_override_the_file(tmp_path: Path) -> None:
    base = load_configuration(write(tmp_path, FULL))
    settings = build_settings(
        base=base, min_days=5, onprem_cidr=["172.16.0.0/12"], port_range=["1000-2000"]
    )
    assert settings.recommend.min_days == 5
    assert settings.recommend.min_flows == 3  # the file's, no flag
    assert settings.conversations.onprem_cidrs == ("172.16.0.0/12",)  # replaced, not added
    assert settings.conversations.partner_cidrs == base.conversations.partner_cidrs
    assert settings.recommend.port_ranges == ((1000, 2000),)
    assert settings.suppressions == base.suppressions
    assert settings.scope == base.scope


COMMANDS = [
    ["ingest", "SOURCE"],
    ["inventory", "collect", "--out", "inv"],
    ["inventory", "show", "DIR"],
    ["conversations", "SOURCE", "--out", "edges.parquet"],
    ["graph", "edges.parquet", "--out", "g.svg"],
    ["recommend", "SOURCE", "--out", "plan.json"],
    ["check", "plan.json", "SOURCE"],
    ["terraform", "plan.json", "--out", "tf"],
    ["pr", "plan.json", "--repo", "repo"],
    ["analyze", "SOURCE", "--out", "out"],
    ["diff", "old", "new"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_reads_the_configuration_first(
    command: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bad file stops any command before it does anything: exit 2, the key path named."""
    monkeypatch.chdir(tmp_path)  # where the commands' relative outputs would go
    path = write(tmp_path, '[[suppressions]]\ncode = "ZT004"\nsubject = "x"\nreason = ""\n')
    code = main([*command, "--config", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"error: {path}, at suppressions[0].reason: expected a non-empty string" in err
    assert [p.name for p in tmp_path.iterdir()] == ["ztflows.toml"]


def test_ztflows_toml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    """Run as a user would, in a folder holding ztflows.toml: no --config needed."""
    write(tmp_path, "[scope]\nvpcs = [1]\n")
    result = subprocess.run(
        [sys.executable, "-m", "zt_flows", "diff", "old", "new"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "ZTFLOWS_CONFIG": ""},
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "ztflows.toml, at scope.vpcs[0]: expected a list of VPC ids" in result.stderr


def test_the_configuration_reaches_the_plan_and_flags_win(tmp_path: Path) -> None:
    """The thresholds of the file are the plan's, unless a flag says otherwise."""
    config = write(tmp_path, "[recommend]\nmin_days = 2\nmin_flows = 4\n")
    common = [
        "recommend",
        str(SAMPLE_DATA / "flowlogs"),
        "--inventory",
        str(SAMPLE_DATA / "inventory"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--quiet",
        "--config",
        str(config),
    ]
    assert main([*common, "--out", str(tmp_path / "a" / "plan.json")]) == 0
    assert main([*common, "--out", str(tmp_path / "b" / "plan.json"), "--min-days", "3"]) == 0
    a = json.loads((tmp_path / "a" / "plan.json").read_text())["settings"]
    b = json.loads((tmp_path / "b" / "plan.json").read_text())["settings"]
    assert (a["min_days"], a["min_flows"]) == (2, 4)
    assert (b["min_days"], b["min_flows"]) == (3, 4)
