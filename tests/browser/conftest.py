"""Browser fixtures: a real server on a free localhost port and the system Chromium.

The app comes from tests/conftest.py's ``app`` fixture (a fresh database per test: a copied
SQLite file, or truncated PostgreSQL tables with TEST_DATABASE_URL). Tests seed data with the
factories (which commit), then drive the browser; the server answers in its own threads with
their own app contexts and therefore their own SQLAlchemy sessions. To read what the server
wrote, call ``fresh()`` (drops the test thread's identity map) before querying.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.extensions import db

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
# Playwright's default is 30 s; a local server answers in milliseconds, so fail fast instead.
TIMEOUT_MS = 10_000


def _chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM


def _missing(reason: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (REQUIRE_BROWSER=1, so this is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the environment
        _missing("Playwright is not installed: pip install -e '.[test]'")
    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(_playwright):
    path = _chromium_path()
    if not Path(path).exists():
        _missing(f"Chromium not found at {path}: install Debian's chromium to run browser tests")
    b = _playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@contextmanager
def serving(app, name: str = "live-server") -> Iterator[LiveServer]:
    """``app`` served by werkzeug on 127.0.0.1:<free port>, in a daemon thread."""
    # What the factories wrote is committed; the server's threads open their own sessions.
    db.session.commit()
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    """The test's app served by werkzeug on 127.0.0.1:<free port>, in a daemon thread."""
    with serving(app) as server:
        yield server


@pytest.fixture
def fresh(app) -> Callable[[], None]:
    """Forget the test thread's loaded objects, so the next query sees the server's writes."""

    def _fresh() -> None:
        db.session.rollback()
        db.session.expire_all()

    return _fresh


class ConsoleLog:
    """Console messages and page errors of every page opened through ``new_page``."""

    def __init__(self):
        self.messages: list[str] = []

    def attach(self, page) -> None:
        page.on("console", lambda msg: self.messages.append(f"console.{msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: self.messages.append(f"pageerror: {err}"))
        page.on("response", self._on_response)

    def _on_response(self, response) -> None:
        if response.status >= 500:
            # Printed, so a failing test's captured output names the broken request at once.
            line = f"server error {response.status}: {response.request.method} {response.url}"
            self.messages.append(line)
            print(line)

    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m]

    def assert_no_csp_violations(self) -> None:
        bad = self.csp_violations()
        assert not bad, "the Content Security Policy blocked something:\n" + "\n".join(bad)


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def new_page(browser, console):
    """new_page(js=True, width=1280, height=900, **context_options) -> a Page in a new context.

    Each call is a new browser context: its own cookies, as a second person on another phone.
    """
    contexts = []

    def _new(js: bool = True, width: int = 1280, height: int = 900, **options):
        ctx = browser.new_context(
            java_script_enabled=js,
            viewport={"width": width, "height": height},
            locale="zh-CN",
            **options,
        )
        ctx.set_default_timeout(TIMEOUT_MS)
        ctx.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        console.attach(page)
        return page

    yield _new
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session")
def _artifacts_dir() -> Path:
    target = ARTIFACTS / "browser"
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # workers would delete each other's files
        shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def shot(request, _artifacts_dir):
    """shot(page, "step") saves test-artifacts/browser/<test>--<nn>-<step>.png (full page)."""
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    counter = iter(range(1, 100))

    def _shot(page, step: str) -> Path:
        path = _artifacts_dir / f"{test}--{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


@pytest.fixture
def tr(app) -> Callable[..., str]:
    """tr(message, locale="zh_Hans_CN"): a message id or lazy label as the catalog renders it.

    Asserting on this (not on a hard-coded Chinese string) keeps a test true to the catalog
    while translations are still being written.
    """
    from flask_babel import force_locale, gettext

    def _tr(message, locale: str = "zh_Hans_CN") -> str:
        with app.test_request_context(), force_locale(locale):
            return gettext(message) if isinstance(message, str) else str(message)

    return _tr


class Place:
    """The seeded street › community › compound, with names in Chinese."""

    street = None
    community = None
    compound = None


@pytest.fixture
def place(make_street, make_community, make_compound) -> Place:
    """和平街道 › 向阳社区 › 和平花园 (2 buildings of 4 units: 1栋 101…104, 2栋 101…104)."""
    p = Place()
    p.street = make_street(name="和平街道")
    p.community = make_community(street=p.street, name="向阳社区")
    p.compound = make_compound(
        community=p.community,
        name="和平花园",
        buildings=2,
        units_per_building=4,
        address="和平路 18 号",
    )
    return p
