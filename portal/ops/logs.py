"""Structured logs: one line per record on stderr, JSON or text, every record of a request
carrying its request id; plus one access line per request (logger ``portal.access``).

The request id itself is chosen in ``portal.security`` (an incoming ``X-Request-ID`` when it is a
sane token, otherwise a new one) and echoed in the response; here it is attached to every record
emitted while the request runs, by a filter on the handler.

Cheap on purpose: the access line is a handful of scalars; nothing is built when the level is off.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from flask import Flask, g, has_request_context, request

ACCESS_LOGGER = "portal.access"

# Attributes every LogRecord has; anything else on a record was passed with ``extra=`` and is
# written out as a field of its own.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName"}
)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the moment (test runners and gunicorn swap it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.setStream; nothing to keep
        pass


class RequestIdFilter(logging.Filter):
    """Put ``request_id`` on every record emitted during a request (``None`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def _utc_time(created: float) -> str:
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": _utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)  # None also without the filter (gunicorn)
        if rid is not None:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for development: ``time LEVEL logger [request id] message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    _IN_MESSAGE = frozenset({"method", "path", "status"})

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.request_id = "-" if rid is None else rid
        try:
            line = super().format(record)
        finally:
            record.request_id = rid
        extra = [
            f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD and key not in self._IN_MESSAGE
        ]
        if not extra:
            return line
        head, sep, tail = line.partition("\n")  # keep a traceback below the first line
        return head + " " + " ".join(extra) + sep + tail


def configure(log_format: str, level: str) -> logging.Logger:
    """Send the ``portal`` loggers (the app's own, ``portal.access`` and every ``portal.*``
    module) to stderr in ``log_format``; idempotent, the last call wins."""
    logger = logging.getLogger("portal")
    for handler in list(logger.handlers):
        if isinstance(handler, _StderrHandler):
            logger.removeHandler(handler)
    from flask.logging import default_handler

    logger.removeHandler(default_handler)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    # Alembic's env.py calls logging.config.fileConfig(), which disables every logger it
    # does not name; a later app in the same process must get its logs back.
    logger.disabled = False
    for name, child in logging.Logger.manager.loggerDict.items():
        if name.startswith("portal.") and isinstance(child, logging.Logger):
            child.disabled = False
    return logger


def _user_id() -> int | None:
    """The signed-in user's id if this request loaded one, without loading it or its row."""
    user = g.get("_login_user")
    if user is None:
        return None
    from sqlalchemy import inspect

    state = inspect(user, raiseerr=False)
    if state is None or not state.identity:
        return None  # the anonymous user
    return state.identity[0]


def init_logging(app: Flask) -> None:
    """Configure the handlers and log one access line per request.

    Call this before any other ``before_request`` hook is registered: its timer then starts
    first, and its ``after_request`` runs last, after the other hooks changed the response.
    """
    configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    access = logging.getLogger(ACCESS_LOGGER)

    @app.before_request
    def _start_timer():
        g._started = time.perf_counter()

    @app.after_request
    def _access_line(resp):
        if not access.isEnabledFor(logging.INFO):
            return resp
        started = g.get("_started")
        duration = round((time.perf_counter() - started) * 1000, 1) if started else None
        req = request._get_current_object()
        method, path, status = req.method, req.path, resp.status_code  # path: no query string
        # makeRecord + handle: what access.info() does, minus the search for the caller's
        # source line, which costs as much as the rest together
        record = access.makeRecord(
            ACCESS_LOGGER,
            logging.INFO,
            __file__,
            0,
            "%s %s %s",
            (method, path, status),
            None,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": duration,
                "user_id": _user_id(),
                "remote_addr": req.remote_addr,  # the client's, after ProxyFix
            },
        )
        access.handle(record)
        return resp
