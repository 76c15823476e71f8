"""What the browser tests share: a ``streamlit run`` server on a free localhost port, Debian's
chromium driven by Playwright (never a downloaded browser), and a page that aborts every request
not to localhost, so a test proves the app works offline."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("streamlit did not become healthy")


@contextlib.contextmanager
def streamlit_server(script: Path, *, env: dict | None = None, warm: bool = False,
                     processes: list | None = None):
    """Run ``streamlit run script`` on a free port; yield its URL; stop it afterwards.  ``warm``
    starts it the way `make run` does (``python -m ui.serve``).  The server's output goes to
    .pytest_cache/streamlit-PORT.log when that folder exists.  The server's ``Popen`` is appended
    to ``processes`` when given (to measure its memory)."""
    streamlit = Path(sys.executable).parent / "streamlit"
    if not streamlit.exists():
        pytest.skip("streamlit is not installed in this environment")
    port = free_port()
    cache = REPO / ".pytest_cache"
    # Open for the server's lifetime (closed when it is stopped), so no `with` block.
    log = open(cache / f"streamlit-{port}.log", "w") if cache.is_dir() else subprocess.DEVNULL  # noqa: SIM115
    command = [sys.executable, "-m", "ui.serve"] if warm else [str(streamlit), "run"]
    process = subprocess.Popen(
        [*command, str(script), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    if processes is not None:
        processes.append(process)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log is not subprocess.DEVNULL:
            log.close()


@contextlib.contextmanager
def chromium_browser():
    """Debian's chromium, headless, through Playwright; skips when either is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.skip("Debian's chromium is not installed (make browser-deps)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def offline_page(browser, blocked: list[str]):
    """A page that lets through localhost only; every other URL is aborted and listed in ``blocked``."""
    page = browser.new_page(viewport={"width": 1500, "height": 1900}, locale="zh-CN")

    def route(route):
        url = route.request.url
        host = url.split("/")[2] if "://" in url else ""
        if url.startswith(("data:", "blob:", "about:")) or host.split(":")[0] in (
                "127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", route)
    return page


def map_frame(page):
    """The map's iframe (the newest one while a re-mounted map replaces the old)."""
    return page.frame_locator(f"{MAP_FRAME} >> nth=-1")
