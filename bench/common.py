"""Shared pieces of the benchmark scripts: gunicorn, forged sessions, wrk, the manifest."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
DEFAULT_MANIFEST = ROOT / "instance" / "bench-manifest.json"
# A fixed key: the benchmark forges the session cookies of seeded users with it.
BENCH_SECRET = "bench-secret-key-not-for-production-0123456789abcdef"

WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\"p50\": %d, \"p95\": %d, \"p99\": %d, \"requests\": %d, " ..
    "\"duration_us\": %d, \"socket_errors\": %d, \"non2xx\": %d}\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def load_manifest(path: Path) -> dict:
    if not path.exists():
        sys.exit(f"no manifest at {path}: run `flask bench seed` on this database first")
    return json.loads(path.read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def portal_env(db_url: str, **extra: str) -> dict:
    env = dict(os.environ)
    env.update(
        PORTAL_ENV="production",
        SECRET_KEY=BENCH_SECRET,
        DATABASE_URL=db_url,
        LOG_LEVEL=env.get("LOG_LEVEL", "WARNING"),
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def gunicorn(db_url: str, workers: int = 2, **extra_env: str):
    """Start ``gunicorn -w N 'portal:create_app()'`` and yield its base URL."""
    port = free_port()
    exe = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [exe, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120"]
        + ["--error-logfile", "-", "portal:create_app()"],
        cwd=ROOT,
        env=portal_env(db_url, **extra_env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log.name}")
            time.sleep(0.3)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def make_app(db_url: str, **config):
    """An app object on the benchmark database (for counting queries and forging cookies)."""
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from portal import create_app

    return create_app(
        {"PORTAL_ENV": "production", "SECRET_KEY": BENCH_SECRET, "DATABASE_URL": db_url, **config}
    )


def session_cookie(app, user_id: int) -> str:
    """The signed Flask session cookie of a logged-in ``user_id`` (as Flask-Login stores it
    after the login form)."""
    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        user = db.session.get(User, user_id)
        if user is None:
            raise SystemExit(f"user {user_id} from the manifest is not in the database")
        data = login_session(app, user.id, user.session_version)
        serializer = app.session_interface.get_signing_serializer(app)
        return serializer.dumps(data)


def login_session(app, user_id: int, session_version: int) -> dict:
    """The session Flask-Login and Flask-WTF leave after a real login from the benchmark's
    clients (127.0.0.1, no User-Agent: wrk and http.client send none): the user, the login
    form's CSRF secret and the session-protection identifier. Without the last two, every
    response would write a new session cookie (wrk never stores one), which a returning
    resident's browser does not cause."""
    from flask_login.utils import _create_identifier

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        identifier = _create_identifier()
    return {
        "_user_id": f"{user_id}:{session_version}",
        "_fresh": True,
        "_id": identifier,
        "csrf_token": secrets.token_hex(20),
    }


def cookie_header(app, cookie: str) -> str:
    return f"{app.config.get('SESSION_COOKIE_NAME', 'session')}={cookie}"


def wrk(url: str, seconds: int, connections: int, threads: int, headers: dict) -> dict:
    """Run wrk against ``url``; returns p50/p95/p99 in ms, requests/s and error counts."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_LUA)
        script = fh.name
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", script]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    os.unlink(script)
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    raw = json.loads(line[len("WRKJSON ") :])
    return {
        "p50": raw["p50"] / 1000,
        "p95": raw["p95"] / 1000,
        "p99": raw["p99"] / 1000,
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "requests": raw["requests"],
        "errors": raw["socket_errors"] + raw["non2xx"],
    }


def git_rev() -> str:
    """The short commit the run measured."""
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def write_section(start: str, end: str, heading: str, section: str) -> Path:
    """Put ``section`` (which begins with ``start`` and ends with ``end``) into
    docs/benchmarks.md in place of the previous one, or append it under ``heading``."""
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + f"\n\n## {heading}\n\n" + section + "\n"
    doc.write_text(text)
    return doc
