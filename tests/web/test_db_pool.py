"""Pooled connections are pinged only after sitting idle (``portal.dbpool``).

What a user would notice: after the database dropped a connection while the site was quiet
(a restart, a proxy's idle timeout), the next page still loads. And a busy site does not pay a
ping round trip on every request.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from portal.extensions import db
from tests.conftest import PG_URL

IDLE = 0.2


@pytest.fixture
def app_config():
    return {"DB_PING_IDLE_SECONDS": IDLE}


@pytest.fixture
def pings(app, monkeypatch):
    """Counts the pings the dialect sends."""
    dialect = db.engine.dialect
    real = dialect.do_ping
    seen = []

    def counting(dbapi_connection):
        seen.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return seen


def _checkout_and_return() -> object:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        return conn.connection.dbapi_connection


def test_a_connection_used_a_moment_ago_is_not_pinged(app, pings):
    db.session.remove()
    first = _checkout_and_return()
    for _ in range(5):
        assert _checkout_and_return() is first
    assert pings == []


def test_an_idle_connection_is_pinged_once_before_use(app, pings):
    db.session.remove()
    first = _checkout_and_return()
    time.sleep(IDLE + 0.05)
    assert _checkout_and_return() is first
    assert pings == [first]
    _checkout_and_return()
    assert len(pings) == 1  # used again just now: no second ping


def _close_behind_the_pools_back(dbapi_connection) -> None:
    """What a database restart does to a pooled connection: the server side goes away."""
    if PG_URL:
        pid = dbapi_connection.info.backend_pid
        admin = create_engine(PG_URL, poolclass=NullPool)  # not a connection of the pool
        with admin.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        admin.dispose()
        time.sleep(0.1)
    else:
        dbapi_connection.close()


def test_a_connection_closed_while_idle_is_replaced_and_the_page_loads(app, client, pings):
    db.session.remove()
    db.engine.dispose()
    stale = _checkout_and_return()
    _close_behind_the_pools_back(stale)
    time.sleep(IDLE + 0.05)
    resp = client.get("/")
    assert resp.status_code == 200
    assert pings and pings[0] is stale
    assert _checkout_and_return() is not stale
