"""Settings from the environment.

PORTAL_ENV      development (default) | production | testing
SECRET_KEY      required in production; otherwise generated once into the instance folder
DATABASE_URL    default: SQLite file ``portal.db`` in the instance folder
REDIS_URL       optional; shared storage for rate-limit counters
PROXY_HOPS      number of trusted reverse proxies (X-Forwarded-For/-Proto); default 0
LOG_FORMAT      json | text: one JSON object per line, or readable text; default json in
                production, text otherwise. Logs go to stderr, one access line per request.
LOG_LEVEL       level of the portal's own loggers (DEBUG, INFO, WARNING, ERROR); default INFO
                (WARNING when PORTAL_ENV=testing, which keeps the test suite quiet)
BACKUP_DIR      where ``flask backup`` writes when no --output is given; default the
                ``backups`` folder in the instance folder
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    pass


def _dev_secret_key(instance_path: Path) -> str:
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    overrides = dict(overrides or {})
    env = overrides.get("PORTAL_ENV") or os.environ.get("PORTAL_ENV", "development")
    ipath = Path(instance_path)
    ipath.mkdir(parents=True, exist_ok=True)
    production = env == "production"

    secret = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("SECRET_KEY must be set when PORTAL_ENV=production")
        secret = _dev_secret_key(ipath)

    db_url = overrides.get("DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not db_url:
        db_url = f"sqlite:///{ipath / 'portal.db'}"
    if db_url.startswith("postgres://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgres://") :]
    elif db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://") :]

    redis_url = overrides.get("REDIS_URL", os.environ.get("REDIS_URL"))

    log_format = (
        overrides.get("LOG_FORMAT")
        or os.environ.get("LOG_FORMAT")
        or ("json" if production else "text")
    ).lower()
    if log_format not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, not {log_format!r}")
    log_level = (
        overrides.get("LOG_LEVEL")
        or os.environ.get("LOG_LEVEL")
        or ("WARNING" if env == "testing" else "INFO")
    ).upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {log_level!r}")

    config = {
        "PORTAL_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": db_url,
        # Pooled connections are pinged only after sitting idle this long (portal/dbpool.py).
        "DB_PING_IDLE_SECONDS": float(os.environ.get("DB_PING_IDLE_SECONDS", "1")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_STRATEGY": "fixed-window",
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh_Hans_CN": "中文", "en": "English"},
        # How many failed logins in a row before an account or an IP is throttled.
        "LOGIN_FAILURES_PER_ACCOUNT": "5 per 15 minutes",
        "LOGIN_FAILURES_PER_IP": "20 per 15 minutes",
        "REGISTRATIONS_PER_IP": "10 per hour",
        "PAGE_SIZE": 20,
        # Residents' questions on fee statements unanswered after this many days are overdue.
        "FEE_QUESTION_OVERDUE_DAYS": int(os.environ.get("FEE_QUESTION_OVERDUE_DAYS", "7")),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
        "PROXY_HOPS": int(os.environ.get("PROXY_HOPS", "0") or 0),
        # Logs on stderr: "json" (one object per line, for log shipping) or "text".
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": log_level,
        # Where `flask backup` writes by default.
        "BACKUP_DIR": os.environ.get("BACKUP_DIR") or str(ipath / "backups"),
        "TESTING": env == "testing",
    }
    config.update(overrides)
    return config
