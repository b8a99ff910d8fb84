"""Requests that only read run their SQL without a database transaction.

A GET (or HEAD) request changes nothing: that is a rule of the design, and the security audit
walks every route to check it. Inside a transaction, every such request on PostgreSQL pays two
extra round trips for nothing: ``BEGIN`` before its first statement and ``ROLLBACK`` at the end.
For a signed-in page served from the shared-view cache (one statement: the user and her role
grants) those two are half of the request's round trips.

So the session of a GET request binds to a copy of the engine in *autocommit* mode (the same
connection pool; SQLAlchemy sets the mode when the connection is checked out and resets it when
it is returned). What a page reads does not change: under PostgreSQL's default READ COMMITTED
level, each statement takes its own snapshot inside a transaction too, and SQLite's driver never
opened a transaction for reads. What changes is that a write is no longer undone with the rest of
the request, so a write in such a request is refused outright: ``WriteInReadOnlyRequest``
(a server error) before the statement reaches the database. The rule "no state change on GET" is
thereby enforced at run time as well as by the tests.

A GET view that needs a transaction to read marks itself ``@needs_transaction``: on PostgreSQL a
streamed download reads through a server-side cursor (``yield_per``), which only exists inside a
transaction.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_sqlalchemy.session import Session as _FlaskSession
from sqlalchemy import event

READ_METHODS = frozenset({"GET", "HEAD"})
_OPTION = "portal_read_only"
_WRITE_WORDS = frozenset(
    {"insert", "update", "delete", "merge", "create", "drop", "alter", "truncate", "grant"}
)


class WriteInReadOnlyRequest(RuntimeError):
    """A GET or HEAD request tried to change the database."""


class StreamNeedsTransaction(RuntimeError):
    """A GET view streamed a query (``yield_per``) without ``@needs_transaction``."""


def needs_transaction(view):
    """Mark a GET view whose reads need a transaction (server-side cursors)."""
    view.portal_needs_transaction = True
    return view


class PortalSession(_FlaskSession):
    """Flask-SQLAlchemy's session, bound to the autocommit engine during read-only requests."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        engine = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if bind is None and has_app_context() and g.get("db_read_only"):
            base, read_only = current_app.extensions.get("portal_read_only_engine", (None, None))
            if base is engine:
                return read_only
        return engine


_CTE_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


def is_write(statement: str) -> bool:
    """Whether SQL ``statement`` changes data or takes row locks."""
    head = statement.lstrip()[:9].split(None, 1)
    first = head[0].lower() if head else ""
    if first in _WRITE_WORDS:
        return True
    if first == "with" and _CTE_WRITE.search(statement):
        return True  # a data-changing common table expression
    return "FOR UPDATE" in statement.upper()


def init_read_only(app: Flask, db) -> None:
    with app.app_context():
        engine = db.engine
    app.extensions["portal_read_only_engine"] = (
        engine,
        engine.execution_options(isolation_level="AUTOCOMMIT", **{_OPTION: True}),
    )

    @event.listens_for(engine, "before_cursor_execute")
    def _guard(conn, cursor, statement, parameters, context, executemany):
        if not conn.get_execution_options().get(_OPTION):
            return
        where = f"{request.method} {request.endpoint}" if has_request_context() else "a request"
        if is_write(statement):
            raise WriteInReadOnlyRequest(f"{where} tried to write: {statement[:60]!r}")
        # Refused on every database, so the SQLite test run finds a missing mark as well.
        if context is not None and context.execution_options.get("stream_results"):
            raise StreamNeedsTransaction(
                f"{where} streams a query: mark its view @needs_transaction"
            )

    @app.before_request
    def _read_only_request():
        if request.method not in READ_METHODS or request.endpoint is None:
            return
        view = app.view_functions.get(request.endpoint)
        if not getattr(view, "portal_needs_transaction", False):
            g.db_read_only = True
