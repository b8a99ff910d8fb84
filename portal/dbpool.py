"""Pooled database connections are checked before use only after they sat idle.

SQLAlchemy's ``pool_pre_ping`` sends a ping before *every* checkout: one more round trip for
every request, which on a signed-in page served from the shared-view cache is a third of its
round trips. A connection that was used a moment ago is almost always still good; one that sat
idle may have been closed meanwhile (a database restart, a failover, an idle timeout in a
proxy). So a connection idle for longer than ``DB_PING_IDLE_SECONDS`` (default 1 s) is pinged on
checkout; a dead one is replaced transparently (the pool retries with a new connection). One
used within that second is handed out as it is.

The trade-off: if the database restarts while a worker is busy, that worker's next request
within the second can fail once (a server error; SQLAlchemy then discards every connection of
the pool made before the failure, so the request after it reconnects). Requests in flight at the
moment of a restart fail either way.
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_IDLE_SINCE = "portal_idle_since"


def init_idle_ping(engine: Engine, idle_seconds: float) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since <= idle_seconds:
            return  # new, or used a moment ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(str(exc)) from exc
            raise
        if alive is False:
            raise DisconnectionError("the database did not answer the ping")
