"""The cache under faults: runs sharing it, damaged entries, a full disk, Ctrl-C.

Every test uses the moto server over HTTP and objects in the real key layouts. Runs that
share a cache are real processes (``python -m zt_flows``) started together against one
``--cache-dir``. After each scenario the cache holds only complete entries: every S3 entry
has its object's size, every conversion opens, and no ``.part`` file or staging folder is
left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow.parquet as pq
import pytest
from faults import small_disk
from support.signals import ztflows_command
from support.sources import (
    DEFAULT_TEXT_FIELDS,
    at,
    connect,
    default_key,
    hive_key,
    parquet_bytes,
    record,
    rows,
    settings_for,
    text_bytes,
)

from zt_flows.errors import OutputError
from zt_flows.sources import read_flow_logs
from zt_flows.sources.cache import PART_SUFFIX, STAGING


def _objects(count: int, *, records: int = 200) -> dict[str, bytes]:
    """``count`` hourly objects, alternately gzip text and Parquet, of ``records`` each."""
    objects: dict[str, bytes] = {}
    for i in range(count):
        stamp = at(f"2026-11-{16 + i // 24:02d}T{i % 24:02d}:05:00Z")
        base = int(stamp.timestamp()) - 60
        recs = [record(base, srcport=1024 + n, dstport=443 + i) for n in range(records)]
        if i % 2:
            objects[hive_key(stamp)] = parquet_bytes(recs)
        else:
            objects[default_key(stamp, hourly=True)] = text_bytes(
                [{**r, "version": 2} for r in recs], DEFAULT_TEXT_FIELDS
            )
    return objects


def _upload(s3_client: Any, bucket: str, objects: dict[str, bytes]) -> None:
    for key, data in objects.items():
        s3_client.put_object(Bucket=bucket, Key=key, Body=data)


def assert_cache_whole(cache: Path, sizes: set[int]) -> None:
    """Only complete entries: S3 entries of a listed size, conversions that open, no leftovers."""
    assert not list(cache.rglob(f"*{PART_SUFFIX}"))
    staging = cache / STAGING
    assert not staging.exists() or not any(staging.iterdir())
    for entry in (cache / "s3").rglob("*.parquet") if (cache / "s3").exists() else ():
        assert entry.stat().st_size in sizes, entry
    converted = cache / "converted"
    for entry in converted.rglob("*.parquet") if converted.exists() else ():
        pq.read_metadata(entry)  # raises on a cut file


def _env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


def _ingest(bucket: str, cache: Path, out: Path, endpoint: str) -> subprocess.Popen[str]:
    args = ["ingest", f"s3://{bucket}/", "--cache-dir", str(cache), "--out", str(out), "-q"]
    return subprocess.Popen(
        ztflows_command(*args, "--format", "json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(endpoint),
    )


def test_runs_sharing_a_cache_dir_do_not_crash_each_other(
    s3_client: Any, bucket: str, aws_env: str, tmp_path: Path
) -> None:
    """Two runs at once over one cache, started together or one a moment after the other
    (it then finds entries the first is still converting)."""
    objects = _objects(24)
    _upload(s3_client, bucket, objects)
    sizes = {len(data) for data in objects.values()}
    expected: list[tuple[object, ...]] | None = None
    for round_, delay in enumerate((0.0, 0.5)):
        cache = tmp_path / f"cache{round_}"
        first = _ingest(bucket, cache, tmp_path / f"a{round_}.parquet", aws_env)
        time.sleep(delay)
        second = _ingest(bucket, cache, tmp_path / f"b{round_}.parquet", aws_env)
        results = [(p, *p.communicate(timeout=300)) for p in (first, second)]
        for process, out, err in results:
            assert process.returncode == 0, err
            summary = json.loads(out)
            assert summary["objects"]["read"] == 24
            assert summary["records"]["total"] == 24 * 200
        for name in ("a", "b"):
            table = pq.read_table(tmp_path / f"{name}{round_}.parquet")
            got = sorted(tuple(r.values()) for r in table.to_pylist())
            expected = expected or got
            assert got == expected
        assert_cache_whole(cache, sizes)
        assert len(list((cache / "converted").rglob("*.parquet"))) == 12
        assert len(list((cache / "s3").rglob("*.parquet"))) == 12


def test_a_reader_keeps_its_entries_while_another_run_fills_the_cache(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    """Entries a run has read stay where they are while another run works on the same
    objects: the views of the first run still scan."""
    _upload(s3_client, bucket, _objects(12))
    cache = tmp_path / "cache"
    settings = settings_for(cache, endpoint_url=aws_env)
    con = connect()
    flows = read_flow_logs(f"s3://{bucket}/", settings, con, session=aws_session)
    before = {o.local_path: o.local_path.stat().st_ino for o in flows.objects}
    other = _ingest(bucket, cache, tmp_path / "other.parquet", aws_env)
    _, err = other.communicate(timeout=300)
    assert other.returncode == 0, err
    assert {p: p.stat().st_ino for p in before} == before  # not replaced, not removed
    assert len(rows(con, flows.all_view)) == 12 * 200


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "s3").rglob("*.parquet"))


@pytest.mark.parametrize("damage", ["truncated", "same size, other bytes"])
def test_a_damaged_entry_is_fetched_again_not_blamed_on_s3(
    damage: str,
    s3_client: Any,
    bucket: str,
    aws_session: boto3.session.Session,
    aws_env: str,
    tmp_path: Path,
) -> None:
    objects = {
        hive_key(at("2026-11-16T05:05:00Z")): parquet_bytes([record(srcport=1)]),
        hive_key(at("2026-11-16T06:05:00Z")): parquet_bytes([record(srcport=2)]),
    }
    _upload(s3_client, bucket, objects)
    cache = tmp_path / "cache"
    settings = settings_for(cache, endpoint_url=aws_env)
    first = read_flow_logs(f"s3://{bucket}/", settings, connect(), session=aws_session)
    entry = _entries(cache)[0]
    whole = entry.read_bytes()
    if damage == "truncated":
        entry.write_bytes(whole[: len(whole) // 2])
    else:
        entry.write_bytes(whole[:-12] + b"\0" * 12)  # the footer's tail: unreadable
    con = connect()
    again = read_flow_logs(f"s3://{bucket}/", settings, con, session=aws_session)
    summary = again.summarize(con)
    assert (summary.downloaded, summary.cached) == (1, 1)
    assert summary.records == 2
    assert entry.read_bytes() == whole
    assert [o.uri for o in again.objects] == [o.uri for o in first.objects]
    assert_cache_whole(cache, {len(b) for b in objects.values()})


def test_a_damaged_entry_beside_a_bad_text_object_under_on_error_skip(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    """The second preparation (after fetching the damaged entry again) does not convert
    again the text object skipped in the first: the skip stands, nothing crashes."""
    parquet_key = hive_key(at("2026-11-16T05:05:00Z"))
    text_key = default_key(at("2026-11-16T06:05:00Z"), hourly=True)
    good = parquet_bytes([record(srcport=1)])
    _upload(s3_client, bucket, {parquet_key: good})
    cache = tmp_path / "cache"
    settings = settings_for(cache, endpoint_url=aws_env, on_error="skip")
    read_flow_logs(f"s3://{bucket}/", settings, connect(), session=aws_session)
    entry = _entries(cache)[0]
    entry.write_bytes(good[:-12] + b"\0" * 12)
    _upload(s3_client, bucket, {text_key: b"\x1f\x8b truncated gzip"})
    con = connect()
    flows = read_flow_logs(f"s3://{bucket}/", settings, con, session=aws_session)
    assert [s.source for s in flows.skipped] == [f"s3://{bucket}/{text_key}"]
    assert [o.uri for o in flows.objects] == [f"s3://{bucket}/{parquet_key}"]
    assert flows.summarize(con).records == 1
    assert entry.read_bytes() == good


def test_an_object_that_is_bad_in_s3_too_is_reported_after_one_more_fetch(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    good = parquet_bytes([record(srcport=1)])
    key = hive_key(at("2026-11-16T05:05:00Z"))
    _upload(s3_client, bucket, {key: good[:-12] + b"\0" * 12})
    calls: list[str] = []
    aws_session.events.register("before-call.s3.GetObject", lambda **_: calls.append("get"))
    settings = settings_for(tmp_path / "cache", endpoint_url=aws_env)
    from zt_flows.errors import FlowLogFormatError

    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(f"s3://{bucket}/", settings, connect(), session=aws_session)
    assert str(info.value).startswith(f"s3://{bucket}/{key}: expected ")
    assert calls == ["get"]  # downloaded in this run: no second fetch
    with pytest.raises(FlowLogFormatError):
        read_flow_logs(f"s3://{bucket}/", settings, connect(), session=aws_session)
    assert calls == ["get", "get"]  # from the cache: fetched once more before blaming S3


def test_a_full_disk_is_exit_2_and_leaves_only_whole_entries(
    s3_client: Any, bucket: str, aws_env: str, tmp_path: Path
) -> None:
    objects = _objects(16, records=3000)
    _upload(s3_client, bucket, objects)
    biggest = max(len(b) for b in objects.values())
    with small_disk(tmp_path / "disk", room=biggest * 3) as disk:
        cache = disk.path / "cache"
        result = disk.run(
            ["ingest", f"s3://{bucket}/", "--cache-dir", str(cache), "-q"], env=_env(aws_env)
        )
        assert result.returncode == 2, result.stderr
        reason = "No space left on device" if disk.mounted else "File too large"
        assert result.stderr.startswith(f"error: cannot write to the cache in {cache}: {reason}")
        assert "hint: free space there, or pass --cache-dir on a disk with room" in result.stderr
        assert "internal error" not in result.stderr
        assert_cache_whole(cache, {len(b) for b in objects.values()})


class _InterruptConverting:
    """Progress that presses Ctrl-C when the first text conversion is done."""

    interrupted = False

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Any]:
        parent = self

        class _Task:
            def advance(self, amount: float = 1) -> None:
                if description.startswith("converting"):
                    parent.interrupted = True
                    raise KeyboardInterrupt

            def update(self, *, total: float | None = None, description: str | None = None) -> None:
                return None

        yield _Task()


def test_ctrl_c_while_converting_leaves_only_whole_entries(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    objects = _objects(6)
    _upload(s3_client, bucket, objects)
    cache = tmp_path / "cache"
    settings = settings_for(cache, endpoint_url=aws_env)
    progress = _InterruptConverting()
    with pytest.raises(KeyboardInterrupt):
        read_flow_logs(
            f"s3://{bucket}/", settings, connect(), session=aws_session, progress=progress
        )
    assert progress.interrupted
    assert_cache_whole(cache, {len(b) for b in objects.values()})
    con = connect()
    flows = read_flow_logs(f"s3://{bucket}/", settings, con, session=aws_session)
    assert flows.summarize(con).records == 6 * 200


def test_sigint_mid_run_exits_130_and_leaves_only_whole_entries(
    s3_client: Any, bucket: str, aws_env: str, tmp_path: Path
) -> None:
    """A real Ctrl-C (SIGINT) as soon as the run starts filling the cache. A run that
    finished before the signal arrived proves nothing, and is tried again."""
    objects = _objects(24, records=2000)
    _upload(s3_client, bucket, objects)
    interrupted = 0
    for attempt in range(3):
        cache = tmp_path / f"cache{attempt}"
        process = _ingest(bucket, cache, tmp_path / "out.parquet", aws_env)
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if any(cache.rglob("*.parquet")) or any(cache.rglob(f"*{PART_SUFFIX}")):
                break
            time.sleep(0.005)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
        if process.returncode == 0:
            continue
        assert process.returncode == 130, err
        assert err.strip().splitlines()[-1] == "interrupted"
        assert not (tmp_path / "out.parquet").exists()
        assert_cache_whole(cache, {len(b) for b in objects.values()})
        interrupted += 1
        break
    assert interrupted


def test_an_unwritable_cache_dir_is_exit_2_before_reading(
    s3_client: Any, bucket: str, aws_env: str, tmp_path: Path
) -> None:
    from faults import read_only_dir

    _upload(s3_client, bucket, _objects(2))
    calls: list[str] = []
    session = boto3.session.Session(region_name="us-east-1")
    session.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    with read_only_dir(tmp_path / "ro") as ro:
        settings = settings_for(ro / "cache", endpoint_url=aws_env)
        with pytest.raises(OutputError) as info:
            read_flow_logs(f"s3://{bucket}/", settings, connect(), session=session)
    assert str(info.value).startswith(f"cannot write to {ro / 'cache'} (--cache-dir): ")
    assert info.value.hint is not None
    assert "--cache-dir" in info.value.hint
    assert calls == []  # found before anything was listed
