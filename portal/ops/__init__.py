"""Operations: health checks, structured logs with request ids, backup and restore."""

from flask import Blueprint

bp = Blueprint("ops", __name__)

from portal.ops import health  # noqa: E402,F401  (registers the routes)
