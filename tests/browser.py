"""Driving the real app in headless Chromium (Debian's package) with Playwright: start, wait, screenshot."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import pytest

from tests.conftest import IN_CI, ROOT

CHROMIUM = os.environ.get("KNOWCO_CHROMIUM", "/usr/bin/chromium")
# what this machine's closed network needs: no background connections, no sandbox as root
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = os.environ.get("KNOWCO_SCREENSHOTS")


def require_browser():
    """Playwright's sync API, or a skip (a failure under CI=true) naming what is missing."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason, sync_playwright = "the playwright package is not installed (requirements-dev.txt)", None
    if reason is None and not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"{CHROMIUM} is absent: install Debian's chromium and chromium-driver"
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (required under CI=true)")
        pytest.skip(reason)
    return sync_playwright


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(db: Path, env: dict[str, str], timeout: float = 90) -> Iterator[str]:
    """`python run_app.py` on `db` until the block ends; yields the app's URL."""
    port = free_port()
    log = open(db.with_suffix(".app.log"), "wb")
    process = subprocess.Popen([sys.executable, str(ROOT / "run_app.py"), "--db", str(db), "--port", str(port)],
                               cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the app did not start: {db.with_suffix('.app.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
        log.close()


def settle(page, seconds: float = 1.0) -> None:
    """Wait until Streamlit has finished the run (its status widget gone) and the page has painted."""
    time.sleep(0.3)
    deadline = time.monotonic() + 30
    while page.locator('[data-testid="stStatusWidget"]').count() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(seconds)


def screenshot(page, name: str) -> Optional[Path]:
    """Save a full-page picture when KNOWCO_SCREENSHOTS names a folder (how README's pictures are made)."""
    if not SCREENSHOTS:
        return None
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    settle(page, 2.0)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
