"""report.html in a real browser: headless Chromium renders it, offline, without errors.

Chromium takes a screenshot (a valid PNG of the window's size, not blank) and dumps the
DOM it built (every section and the inlined SVG are there), while logging the page's
console to stderr (a script error or a load the page's CSP blocked shows there) and its
network activity to a NetLog (any request the page itself made shows there).
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg
from test_report import sample_input

from zt_flows.report import ReportInput, render_report
from zt_flows.report.html import SECTIONS

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1280, 4000
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)
# What Chromium logs for the page: console messages (CSP violations, script errors) and
# failed loads.
PAGE_PROBLEMS = re.compile(r"CONSOLE|net::ERR_|Failed to load resource|Uncaught")


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Chromium; its NetLog goes to ``tmp/netlog.json`` (see :func:`page_requests`)."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the report's browser test needs headless Chromium"
            " (Debian/Ubuntu: apt-get install chromium)."
        )
    profile = tmp / "chromium-profile"
    env = {**os.environ, "HOME": str(tmp)}
    return subprocess.run(
        [
            str(CHROMIUM),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--log-net-log={tmp / 'netlog.json'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )


def page_problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if PAGE_PROBLEMS.search(line)]


def page_requests(tmp: Path) -> set[str]:
    """URLs the page requested over the network. Chromium's own background requests
    (updates, accounts) are not the page's: only requests made for a file:// document
    carry a file:// network isolation key."""
    events = json.loads((tmp / "netlog.json").read_text(encoding="utf-8"))["events"]
    return {
        str(e["params"]["url"])
        for e in events
        if "url" in e.get("params", {})
        and "file://" in str(e["params"].get("network_isolation_key", ""))
    }


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature, chunk CRCs and IEND."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, names = 8, []
    size = (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        name = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(name + body) == crc, f"bad CRC in chunk {name!r}"
        if name == b"IHDR":
            size = struct.unpack(">II", body[:8])
        names.append(name)
        pos += 12 + length
    assert names[0] == b"IHDR"
    assert names[-1] == b"IEND"
    assert b"IDAT" in names
    return size


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportInput, Path]:
    tmp = tmp_path_factory.mktemp("browser")
    data = sample_input(tmp, picture=None)  # the picture drawn by zt_flows.graph
    _, html = render_report(data, tmp / "out")
    return data, html


def test_screenshot_is_a_full_non_blank_page(
    report: tuple[ReportInput, Path], tmp_path: Path
) -> None:
    _, html = report
    shot = tmp_path / "report.png"
    done = chromium(
        tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", html.as_uri()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.is_file(), f"no screenshot; Chromium said: {done.stderr[-2000:]}"
    assert page_problems(done.stderr) == []
    assert page_requests(tmp_path) == set()
    assert png_size(shot.read_bytes()) == (WIDTH, HEIGHT)
    pixels = np.asarray(mpimg.imread(shot))[:, :, :3]
    assert pixels.std() > 0.05, "the screenshot is (nearly) one colour"
    ink = (pixels.min(axis=2) < 0.6).mean()  # text, borders, badges, the header bar
    assert ink > 0.01, f"only {ink:.2%} of the page has anything drawn on it"
    # The dark header bar is at the top, the page body below is mostly white.
    assert pixels[:60].mean() < 0.3
    assert pixels[400:].mean() > 0.85


def test_dom_has_every_section_and_the_svg(
    report: tuple[ReportInput, Path], tmp_path: Path
) -> None:
    data, html = report
    done = chromium(tmp_path, "--dump-dom", html.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert page_problems(done.stderr) == []
    assert page_requests(tmp_path) == set()
    dom = done.stdout
    for key, heading in SECTIONS:
        assert f'<section id="{key}">' in dom, key
        assert f"<h2>{heading}</h2>" in dom, heading
    picture = dom[dom.index('<figure class="picture">') :]
    picture = picture[: picture.index("</figure>")]
    assert picture.startswith('<figure class="picture"><svg ')
    assert "<text" in picture
    assert ">web-alb</text>" in picture
    assert ">postgres</text>" in picture
    assert dom.count('<section class="group"') == len(data.plan.security_groups)
    assert "<script" not in dom


def test_page_problems_would_be_caught(tmp_path: Path) -> None:
    """The checks above can fail: a script error and a network request are both seen."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><script>notDefined()</script>"
        '<img src="http://127.0.0.1:9/pixel.png"></body></html>'
    )
    done = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert any("notDefined" in line for line in page_problems(done.stderr)), done.stderr[-2000:]
    assert page_requests(tmp_path) == {"http://127.0.0.1:9/pixel.png"}
