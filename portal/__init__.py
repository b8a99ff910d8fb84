"""The red-property resident portal: ``create_app()`` builds the Flask application."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from portal.config import load_config
from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent
HTMX_VERSION = "2.0.11"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_relative_config=True,
    )
    app.config.update(load_config(app.instance_path, config))
    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    # First hooks registered: the access log's timer starts before, and its line is written
    # after, every other hook; the request id exists before any hook can log or fail.
    from portal.ops.logs import init_logging
    from portal.security import init_security

    init_logging(app)
    init_security(app)

    _init_db(app)
    _init_i18n(app)
    _init_login(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from portal.accounts import bp as accounts_bp
    from portal.minutes import bp as minutes_bp
    from portal.notices import bp as notices_bp
    from portal.ops import bp as ops_bp
    from portal.places import bp as places_bp
    from portal.proposals import bp as proposals_bp
    from portal.ratings import bp as ratings_bp
    from portal.transparency import bp as transparency_bp
    from portal.uploads import bp as uploads_bp
    from portal.volunteers import bp as volunteers_bp
    from portal.voting import bp as voting_bp

    for blueprint in (
        places_bp,
        accounts_bp,
        voting_bp,
        notices_bp,
        minutes_bp,
        proposals_bp,
        volunteers_bp,
        transparency_bp,
        ratings_bp,
        uploads_bp,
        ops_bp,
    ):
        app.register_blueprint(blueprint)

    from portal.web import init_web

    init_web(app)

    from portal.cli import register_cli

    register_cli(app)

    from portal.pagecache import init_pagecache

    init_pagecache(app)
    return app


def _init_db(app: Flask) -> None:
    import portal.models  # noqa: F401  (registers every table on the metadata)
    from portal.dbpool import init_idle_ping
    from portal.readonly import init_read_only

    db.init_app(app)
    with app.app_context():
        init_idle_ping(db.engine, app.config["DB_PING_IDLE_SECONDS"])
    init_read_only(app, db)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: WAL journal, a busy timeout, and foreign keys enforced."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _init_i18n(app: Flask) -> None:
    from portal.i18n import compile_catalogs, select_locale

    target = Path(app.instance_path) / "translations"
    compile_catalogs(ROOT / "translations", target)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    babel.init_app(app, locale_selector=select_locale)


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        """The session's user and, in the same query, the user's active role grants (which
        ``portal.security`` would otherwise load for nearly every signed-in page)."""
        from sqlalchemy import select

        from portal.accounts.models import RoleGrant, User

        uid, _, version = user_id.partition(":")
        if not uid.isdigit() or not version.isdigit():
            return None
        rows = db.session.execute(
            select(User, RoleGrant)
            .outerjoin(RoleGrant, (RoleGrant.user_id == User.id) & RoleGrant.revoked_at.is_(None))
            .where(User.id == int(uid))
        ).all()
        if not rows:
            return None
        user = rows[0][0]
        if user.session_version != int(version) or not user.active:
            return None
        g.setdefault("_grants_cache", {})[user.id] = [grant for _u, grant in rows if grant]
        return user

    from portal.ops.health import BARE_ENDPOINTS

    @app.before_request
    def _prefs():
        from flask_login import current_user

        if request.endpoint in BARE_ENDPOINTS:
            return  # health checks: no session, no user, no database
        if current_user.is_authenticated:
            g.large_text = bool(current_user.large_text)
        else:
            g.large_text = request.cookies.get("large_text") == "1"
