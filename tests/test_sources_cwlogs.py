"""read_flow_logs from a CloudWatch Logs log group: a moto server over HTTP.

The harness writes what VPC Flow Logs writes to CloudWatch Logs: one log stream per
interface (``eni-...-all``), one event per record, the record as text in the flow log's
format without a header (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-cwl.html),
each event stamped a couple of minutes after its record's capture window ends.

moto and AWS differ where it matters to a reader, and the harness keeps to what AWS does:
CloudWatch Logs accepts only events of the last 14 days (moto enforces this too), so the
records are dated relative to now; GetLogEvents excludes events "with a timestamp equal to
or later than" ``endTime`` (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html)
where moto includes an event exactly at ``endTime``, so no event is placed on that bound.
Requests are counted with the boto3 session's event hooks, on the wire.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from support.sources import connect, settings_for

from zt_flows.cli import main
from zt_flows.errors import FlowLogFormatError, SourceNotFoundError
from zt_flows.settings import SourceSettings
from zt_flows.sources import read_flow_logs

ACCOUNT = "123456789012"
# Two days ago on the hour: inside CloudWatch Logs' 14 days, whatever day the tests run.
BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
T0 = int(BASE.timestamp())


def v2_line(eni: str, src: str, dst: str, sport: int, dport: int, start: int) -> str:
    return f"2 {ACCOUNT} {eni} {src} {dst} {sport} {dport} 6 10 840 {start} {start + 60} ACCEPT OK"


@pytest.fixture
def logs_client(aws_session: boto3.session.Session, aws_env: str) -> Any:
    return aws_session.client("logs", endpoint_url=aws_env)


def _group(logs_client: Any, streams: dict[str, list[tuple[int, str]]], name: str = "") -> str:
    """A log group holding ``streams`` (name -> [(record start, message)]); returns its name."""
    group = name or f"/vpc/flow-logs-{uuid.uuid4().hex[:8]}"
    logs_client.create_log_group(logGroupName=group)
    for stream, events in streams.items():
        logs_client.create_log_stream(logGroupName=group, logStreamName=stream)
        batch = [
            # Published a couple of minutes after the record's capture window ends.
            {"timestamp": (start + 60 + 120) * 1000, "message": message}
            for start, message in sorted(events)
        ]
        logs_client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
    return group


def _two_streams(hours: int = 3) -> dict[str, list[tuple[int, str]]]:
    streams: dict[str, list[tuple[int, str]]] = {
        "eni-0aaaaaaaaaaaaaaa1-all": [],
        "eni-0bbb-all": [],
    }
    for i in range(hours * 6):  # a record every 10 minutes on each interface
        start = T0 + i * 600
        streams["eni-0aaaaaaaaaaaaaaa1-all"].append(
            (
                start,
                v2_line("eni-0aaaaaaaaaaaaaaa1", "10.0.1.10", "10.0.2.20", 40000 + i, 5432, start),
            )
        )
        streams["eni-0bbb-all"].append(
            (start, v2_line("eni-0bbb", "10.0.1.10", "10.0.2.20", 40000 + i, 5432, start))
        )
    return streams


def _count_calls(session: boto3.session.Session) -> tuple[Counter[str], list[dict[str, Any]]]:
    """Calls by operation, and the parameters of every GetLogEvents call."""
    calls: Counter[str] = Counter()
    seen: list[dict[str, Any]] = []

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    def keep(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetLogEvents":
            seen.append(dict(params))

    session.events.register("before-call.cloudwatch-logs", count)
    session.events.register("provide-client-params.cloudwatch-logs", keep)
    return calls, seen


def rows(con: Any, flows: Any, columns: str) -> list[tuple[Any, ...]]:
    query = f'SELECT {columns} FROM "{flows.view}" ORDER BY start, interface_id, srcport'
    return [tuple(r) for r in con.execute(query).fetchall()]


def _settings(cache: Path, endpoint: str, **kwargs: Any) -> Any:
    from dataclasses import replace

    page_size = kwargs.pop("events_page", None)
    fields = kwargs.pop("fields", None)
    settings = settings_for(cache, endpoint_url=endpoint, **kwargs)
    sources: SourceSettings = replace(
        settings.sources, log_events_page_size=page_size, text_fields=fields
    )
    return replace(settings, sources=sources)


def test_a_log_group_is_read_stream_by_stream_in_pages(
    logs_client: Any, aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    group = _group(logs_client, _two_streams())
    calls, params = _count_calls(aws_session)
    con = connect()
    flows = read_flow_logs(
        f"cwlogs://{group}",
        _settings(tmp_path / "cache", aws_env, events_page=5),
        con,
        session=aws_session,
    )
    assert [o.uri for o in flows.objects] == [
        f"cwlogs://{group}/eni-0aaaaaaaaaaaaaaa1-all",
        f"cwlogs://{group}/eni-0bbb-all",
    ]
    got = rows(con, flows, 'interface_id, srcport, start, "end", action')
    assert len(got) == 36
    assert got[0] == ("eni-0aaaaaaaaaaaaaaa1", 40000, T0, T0 + 60, "ACCEPT")
    # 18 events a stream in pages of 5: four pages with events, one that returns the token.
    assert calls["GetLogEvents"] == 2 * 5
    assert all(p["startFromHead"] is True and p["limit"] == 5 for p in params)
    summary = flows.summarize(con)
    assert (summary.records, summary.flows, summary.objects) == (36, 36, 2)


def test_the_window_bounds_the_events_fetched_and_the_records(
    logs_client: Any, aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    group = _group(logs_client, _two_streams(hours=6))
    _, params = _count_calls(aws_session)
    since, until = BASE + timedelta(hours=2), BASE + timedelta(hours=3)
    con = connect()
    settings = _settings(tmp_path / "cache", aws_env)
    from dataclasses import replace

    from zt_flows.settings import TimeWindow

    settings = replace(settings, window=TimeWindow(since, until))
    flows = read_flow_logs(f"cwlogs://{group}/eni-0b", settings, con, session=aws_session)
    # The stream prefix picked one stream; startTime/endTime are the window with an hour
    # of publishing slack on each side.
    assert [o.uri for o in flows.objects] == [f"cwlogs://{group}/eni-0bbb-all"]
    assert {(p["startTime"], p["endTime"]) for p in params} == {
        (int((since - timedelta(hours=1)).timestamp() * 1000),
         int((until + timedelta(hours=1)).timestamp() * 1000))
    }  # fmt: skip
    starts = [r[0] for r in rows(con, flows, "start")]
    # Exactly the records overlapping [since, until): end >= since and start < until.
    assert starts == [T0 + i * 600 for i in range(12, 18)]


def test_a_second_run_fetches_nothing_until_the_stream_grows(
    logs_client: Any, aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    group = _group(logs_client, _two_streams(hours=1))
    settings = _settings(tmp_path / "cache", aws_env)
    read_flow_logs(f"cwlogs://{group}", settings, connect(), session=aws_session)
    calls, _ = _count_calls(aws_session)
    con = connect()
    flows = read_flow_logs(f"cwlogs://{group}", settings, con, session=aws_session)
    assert calls["GetLogEvents"] == 0
    assert {o.fetched for o in flows.objects} == {"cached"}
    start = T0 + 3600
    logs_client.put_log_events(
        logGroupName=group,
        logStreamName="eni-0bbb-all",
        logEvents=[
            {
                "timestamp": (start + 180) * 1000,
                "message": v2_line("eni-0bbb", "10.0.1.10", "10.0.2.20", 41000, 5432, start),
            }
        ],
    )
    con = connect()
    flows = read_flow_logs(f"cwlogs://{group}", settings, con, session=aws_session)
    assert calls["GetLogEvents"] >= 1
    assert len(rows(con, flows, "start")) == 13


def test_a_group_name_with_slashes_and_a_custom_format(
    logs_client: Any, aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    fmt = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${action} ${log-status} ${tcp-flags}"  # noqa: E501
    line = f"3 eni-0ccc 10.0.3.3 10.0.4.4 41000 443 6 {T0} {T0 + 60} ACCEPT OK 2"
    group = _group(logs_client, {"eni-0ccc-all": [(T0, line)]}, name="/aws/vpc/flows")
    con = connect()
    flows = read_flow_logs(
        "cwlogs:///aws/vpc/flows/eni-0c",
        _settings(
            tmp_path / "cache",
            aws_env,
            fields=tuple(fmt.replace("${", "").replace("}", "").split()),
        ),
        con,
        session=aws_session,
    )
    assert group == "/aws/vpc/flows"
    got = rows(con, flows, "version, interface_id, dstport, tcp_flags, account_id")
    assert got == [(3, "eni-0ccc", 443, 2, None)]


def test_a_bad_record_is_named_by_stream_and_line(
    logs_client: Any, aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    good = v2_line("eni-0bbb", "10.0.1.10", "10.0.2.20", 40000, 5432, T0)
    bad = v2_line("eni-0bbb", "999.1.1.1", "10.0.2.20", 40001, 5432, T0 + 60)
    group = _group(logs_client, {"eni-0bbb-all": [(T0, good), (T0 + 60, bad)]})
    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(
            f"cwlogs://{group}",
            _settings(tmp_path / "cache", aws_env),
            connect(),
            session=aws_session,
        )
    assert str(info.value) == (
        f"cwlogs://{group}/eni-0bbb-all, line 2, column 'srcaddr': "
        "expected an IPv4 or IPv6 address or '-', found '999.1.1.1'"
    )


def test_the_cli_reads_a_log_group_and_refuses_a_missing_one(
    logs_client: Any, aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    group = _group(logs_client, _two_streams(hours=1))
    args = ["--cache-dir", str(tmp_path / "cache"), "--endpoint-url", aws_env, "-q"]
    assert main(["ingest", f"cwlogs://{group}", "--format", "json", *args]) == 0
    out = capsys.readouterr().out
    assert '"total": 12' in out
    assert main(["ingest", "cwlogs:///no/such/group", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no CloudWatch Logs log group named by cwlogs:///no/such/group")
    with pytest.raises(SourceNotFoundError):
        read_flow_logs(
            f"cwlogs://{group}/nothing-",
            _settings(tmp_path / "cache", aws_env),
            connect(),
            session=boto3.session.Session(region_name="us-east-1"),
        )
