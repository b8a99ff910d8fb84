"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL with TEST_DATABASE_URL),
the app and its client, factories, login_as, and a query counter."""

from __future__ import annotations

import os
import re
import shutil
import time
from contextlib import contextmanager
from html import unescape

import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import event, text

from portal import create_app
from portal.extensions import db


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own PostgreSQL database (``test_gw0`` …),
    created next to TEST_DATABASE_URL's on first use, so the workers never truncate each
    other's tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine

    base, _, name = url.rpartition("/")
    target = f"{name}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(10):  # workers creating theirs at the same moment may collide
            try:
                with admin.connect() as conn:
                    known = conn.execute(
                        text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target}
                    ).scalar()
                    if not known:
                        conn.execute(text(f'CREATE DATABASE "{target}"'))
                break
            except Exception:
                if attempt == 9:
                    raise
                time.sleep(0.5 + attempt)
    finally:
        admin.dispose()
    return f"{base}/{target}"


PG_URL = _worker_database(os.environ.get("TEST_DATABASE_URL"))

pytest_plugins = ["tests.factories"]


def _base_config(url: str) -> dict:
    return {
        "PORTAL_ENV": "testing",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": url,
        "REDIS_URL": None,
        "SERVER_NAME": None,
    }


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory):
    """SQLite: one schema file copied per test. PostgreSQL: the schema, made once."""
    if PG_URL:
        app = create_app(_base_config(PG_URL))
        with app.app_context():
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.create_all()
            db.engine.dispose()
        return None
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app(_base_config(f"sqlite:///{path}"))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return path


def _truncate_all(app) -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db_url(_template_db, tmp_path) -> str:
    if PG_URL:
        return PG_URL
    target = tmp_path / "test.db"
    shutil.copy(_template_db, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change settings."""
    return {}


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context (own ``g``, own db session), as in production,
    even though the test itself holds an app context for its factories and checks."""

    def open(self, *args, **kwargs):
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


@pytest.fixture
def app(db_url, app_config):
    app = create_app({**_base_config(db_url), **app_config})
    app.test_client_class = IsolatedClient
    with app.app_context():
        if PG_URL:
            _truncate_all(app)
        yield app
        db.session.remove()
        db.engine.dispose()


class PortalClient:
    """The Flask test client plus helpers for CSRF-protected forms and htmx requests."""

    def __init__(self, client):
        self.c = client

    def __getattr__(self, name):
        return getattr(self.c, name)

    def csrf(self, path: str = "/login") -> str:
        html = self.c.get(path).get_data(as_text=True)
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
            r'"X-CSRFToken": "([^"]+)"', html
        )
        assert m, f"no CSRF token on {path}"
        return m.group(1)

    def post_form(self, path: str, data: dict | None = None, htmx: bool = False, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf())
        headers = kw.pop("headers", {})
        if htmx:
            headers["HX-Request"] = "true"
        return self.c.post(path, data=data, headers=headers, **kw)

    def hx_get(self, path: str, **kw):
        headers = kw.pop("headers", {})
        headers["HX-Request"] = "true"
        return self.c.get(path, headers=headers, **kw)


@pytest.fixture
def client(app):
    return PortalClient(app.test_client())


@pytest.fixture
def login_as(client, make_user, make_grant):
    """login_as(role=None, scope=None, user=None) -> User; logs the test client in."""

    def _login(role: str | None = None, scope=None, user=None, **user_kw):
        if user is None:
            user = make_user(**user_kw)
        if role is not None:
            make_grant(user, role, scope)
        with client.c.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        return user

    return _login


@pytest.fixture
def count_queries(app):
    """with count_queries() as q: ...; q.count is the number of SQL statements run."""

    class Counter:
        count = 0
        statements: list[str]

    @contextmanager
    def _count():
        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.count += 1
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return _count


def text_of(resp) -> str:
    """The visible text of an HTML response, tags stripped and whitespace folded."""
    html = resp.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


@pytest.fixture
def en(app):
    """en(lazy_string) -> its English text, as a user with ?lang=en sees it."""

    def _en(value) -> str:
        with app.test_request_context("/?lang=en"):
            return str(value)

    return _en
