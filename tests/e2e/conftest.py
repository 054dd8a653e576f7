"""A real `patron serve` on a demo database, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI

CHROMIUM = "/usr/bin/chromium"
# Headless in a container as root, on a closed network: no sandbox, no background fetches.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@dataclass(frozen=True)
class Server:
    """A running Patron and how to log in to it."""

    url: str
    email: str
    password: str
    admin_key: str
    demo_dir: Path
    write_key: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`patron init`, `patron demo` and `patron serve` as `make run` does, on a scratch SQLite file."""
    home = tmp_path_factory.mktemp("serve")
    env = {**os.environ, "PATRON_DATABASE_URL": f"sqlite:///{home / 'patron.db'}", "PATRON_SECRET_KEY": "e2e"}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "patron", *args], env=env, cwd=home, check=True, capture_output=True, text=True
    )
    keys = json.loads(run("init", "--json").stdout)
    run("demo", "--people", "800", "--json")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "patron", "serve", "--port", str(port)],
        env={**env, "PATRON_BASE_URL": url},
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            process.kill()
            raise RuntimeError(
                "patron serve did not start:\n" + (process.stdout.read() if process.stdout else "")
            )
        yield Server(
            url,
            keys["admin_email"],
            keys["admin_password"],
            keys["admin_api_key"],
            home / "var" / "demo",
            keys["write_key"],
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"browser tests skipped: {CHROMIUM} is not installed (apt-get install chromium)")
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser context (no cookies) and page."""
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
