"""Health checks for load balancers, orchestrators and the benchmark.

``GET /healthz`` — liveness, and the bare framework floor: no database, no session, no template,
no cookie, no rate limit, no CSRF; always ``ok``.

``GET /health`` — readiness: the database answers and is at the code's migration head.
JSON ``{status, database, migration: {current, head, ok}, version}``; 200 when ready, else 503.
Nothing secret in it (no URL, no error text: the error goes to the log).
"""

from __future__ import annotations

import logging
from importlib import metadata

from flask import Response, jsonify

from portal.extensions import csrf, db, limiter
from portal.ops import bp
from portal.ops.revisions import current_revision, head_revision

log = logging.getLogger(__name__)

# Endpoints for which the app's before_request hooks must not load the user or the session.
BARE_ENDPOINTS = frozenset({"ops.healthz", "ops.health"})

try:
    VERSION = metadata.version("red-property-portal")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    VERSION = "unknown"


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    return Response("ok", mimetype="text/plain", headers={"Cache-Control": "no-store"})


@bp.get("/health")
@limiter.exempt
@csrf.exempt
def health():
    head = head_revision()
    current = None
    try:
        with db.engine.connect() as conn:
            current = current_revision(conn)
        database = "ok"
    except Exception:  # noqa: BLE001  (any failure means "not ready"; the log has the detail)
        log.exception("health check: the database did not answer")
        database = "error"
    migration_ok = database == "ok" and current == head
    ready = database == "ok" and migration_ok
    resp = jsonify(
        status="ok" if ready else "error",
        database=database,
        migration={"current": current, "head": head, "ok": migration_ok},
        version=VERSION,
    )
    resp.status_code = 200 if ready else 503
    resp.headers["Cache-Control"] = "no-store"
    return resp
