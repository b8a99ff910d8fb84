"""Health checks, request ids and structured logs, as a load balancer, an operator reading the
logs and a resident quoting a reference on the error page see them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from portal import create_app
from portal.extensions import db
from portal.ops.revisions import head_revision
from tests.conftest import text_of


@pytest.fixture
def app_config(request, tmp_path):
    """JSON access logs on; a test's own page-cache counter (other processes on this host bump
    the shared one); plus what a test asks for with ``parametrize(..., indirect=True)``."""
    config = {
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "PAGE_CACHE_FILE": str(tmp_path / "page-cache.generation"),
    }
    config.update(getattr(request, "param", {}))
    return config


def _json_lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def _access(capsys) -> list[dict]:
    return [r for r in _json_lines(capsys.readouterr().err) if r["logger"] == "portal.access"]


# ---- /healthz: the bare floor ------------------------------------------------------------


def test_healthz_is_plain_ok_without_database_session_or_cookie(client, login_as, count_queries):
    login_as()  # even a signed-in browser's cookie loads neither the user nor anything else
    with count_queries() as q:
        resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == "ok"
    assert resp.mimetype == "text/plain"
    assert q.count == 0, q.statements
    assert "Set-Cookie" not in resp.headers
    with count_queries() as q:
        anonymous = client.application.test_client().get("/healthz")
    assert anonymous.status_code == 200 and q.count == 0
    assert "Set-Cookie" not in anonymous.headers


@pytest.fixture
def default_limit():
    """RATELIMIT_DEFAULT for one test: the limiter is one object for every app of the process
    and keeps default limits once set, so put back what was there."""
    from portal.extensions import limiter

    before = list(limiter.limit_manager._default_limits)
    yield
    limiter.limit_manager.set_default_limits(before)


@pytest.mark.parametrize("app_config", [{"RATELIMIT_DEFAULT": "2 per minute"}], indirect=True)
def test_health_checks_are_not_rate_limited(default_limit, client):
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
        assert client.get("/health").status_code in (200, 503)
    # the same limit does stop an ordinary page: the exemption is what lets the checks through
    assert [client.get("/").status_code for _ in range(3)][-1] == 429


def test_healthz_needs_no_csrf_token_for_a_head_request(client):
    assert client.head("/healthz").status_code == 200


# ---- /health: readiness ------------------------------------------------------------------


@pytest.fixture
def stamped(app):
    def _stamp(revision):
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS alembic_version "
                    "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
                )
            )
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": revision})

    yield _stamp
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_health_is_ready_only_at_the_code_migration_head(client, app, stamped):
    stamped("694b9479a2d9")  # an older migration: the database needs `flask db upgrade`
    resp = client.get("/health")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["migration"] == {"current": "694b9479a2d9", "head": head_revision(), "ok": False}

    stamped(head_revision())
    resp = client.get("/health")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body == {
        "status": "ok",
        "database": "ok",
        "migration": {"current": head_revision(), "head": head_revision(), "ok": True},
        "version": body["version"],
    }
    assert body["version"] and resp.headers["Cache-Control"] == "no-store"
    raw = resp.get_data(as_text=True)
    assert app.config["SECRET_KEY"] not in raw
    assert "sqlite" not in raw and "postgres" not in raw
    assert "Set-Cookie" not in resp.headers


def test_health_reports_an_unreachable_database_as_503_without_details(capsys):
    app = create_app(
        {
            "PORTAL_ENV": "testing",
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": "postgresql+psycopg://portal:hunter2@127.0.0.1:1/portal",
            "REDIS_URL": None,
            "LOG_FORMAT": "json",
        }
    )
    resp = app.test_client().get("/health")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["database"] == "error" and body["status"] == "error"
    assert body["migration"]["ok"] is False
    assert "hunter2" not in resp.get_data(as_text=True)
    errors = [r for r in _json_lines(capsys.readouterr().err) if r["level"] == "ERROR"]
    assert errors and "did not answer" in errors[0]["message"] and "Traceback" in errors[0]["exc"]
    assert errors[0]["request_id"] == resp.headers["X-Request-ID"]
    with app.app_context():
        db.engine.dispose()


# ---- request ids and access lines ---------------------------------------------------------


def test_sane_request_id_is_kept_and_echoed_and_a_bad_one_replaced(client, capsys):
    resp = client.get("/healthz", headers={"X-Request-ID": "lb-2026.03.02_abc"})
    assert resp.headers["X-Request-ID"] == "lb-2026.03.02_abc"
    for bad in ("has spaces in it", "x" * 65, "<script>alert(1)</script>"):
        resp = client.get("/healthz", headers={"X-Request-ID": bad})
        assert resp.headers["X-Request-ID"] != bad
        assert len(resp.headers["X-Request-ID"]) == 32
    lines = _access(capsys)
    assert [r["request_id"] for r in lines] == ["lb-2026.03.02_abc"] + [
        r["request_id"] for r in lines[1:]
    ]
    assert all("<script>" not in r["request_id"] for r in lines)


def test_one_json_access_line_per_request_without_query_or_personal_data(client, login_as, capsys):
    user = login_as(phone="13912345678", name="王小明")
    capsys.readouterr()
    resp = client.get("/profile?token=s3cret-token&lang=en", headers={"X-Request-ID": "abcd1234"})
    lines = _access(capsys)
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET" and line["path"] == "/profile"
    assert line["status"] == resp.status_code
    assert line["request_id"] == "abcd1234" == resp.headers["X-Request-ID"]
    assert line["user_id"] == user.id
    assert line["remote_addr"] == "127.0.0.1"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["time"].endswith("Z")
    raw = json.dumps(line, ensure_ascii=False)
    assert "s3cret-token" not in raw and "13912345678" not in raw and "王小明" not in raw


@pytest.mark.parametrize("app_config", [{"LOG_FORMAT": "text", "PROXY_HOPS": 1}], indirect=True)
def test_access_line_shows_the_client_address_behind_the_proxy(client, capsys):
    client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    (line,) = [
        ln
        for ln in capsys.readouterr().err.splitlines()
        if "portal.access" in ln and "/healthz" in ln
    ]
    # development default: readable text, one line, with the same fields
    assert " INFO portal.access [" in line and "GET /healthz 200" in line
    assert "remote_addr=203.0.113.9" in line and "duration_ms=" in line


@pytest.mark.parametrize(
    "app_config",
    [{"LOG_LEVEL": "INFO", "LOG_FORMAT": "json", "PROPAGATE_EXCEPTIONS": False}],
    indirect=True,
)
def test_server_error_page_quotes_the_request_id_that_the_log_has(app, client, capsys):
    def explode():
        raise RuntimeError("boom in a view")

    app.add_url_rule("/ops-test-explode", "ops_test_explode", explode)
    resp = client.get("/ops-test-explode?lang=en", headers={"X-Request-ID": "resident-ref-42"})
    assert resp.status_code == 500
    assert "quote the reference resident-ref-42" in text_of(resp)
    assert "boom" not in text_of(resp)
    records = _json_lines(capsys.readouterr().err)
    (error,) = [r for r in records if r["level"] == "ERROR"]
    assert error["request_id"] == "resident-ref-42"
    assert "RuntimeError: boom in a view" in error["exc"] and "Traceback" in error["exc"]
    (access,) = [r for r in records if r["logger"] == "portal.access"]
    assert access["status"] == 500 and access["request_id"] == "resident-ref-42"


def test_chinese_error_page_shows_the_reference_too(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def explode():
        raise RuntimeError("boom")

    app.add_url_rule("/ops-test-explode", "ops_test_explode", explode)
    resp = client.get("/ops-test-explode", headers={"X-Request-ID": "ref-zh-0001"})
    assert resp.status_code == 500 and "ref-zh-0001" in text_of(resp)


# ---- with the page cache on (production default) -------------------------------------------


@pytest.mark.parametrize("app_config", [{"PAGE_CACHE": True}], indirect=True)
def test_health_is_never_answered_from_the_page_cache(client, stamped):
    stamped(head_revision())
    assert client.get("/health").status_code == 200
    # another process (a migration run, an operator) changes the database behind this worker
    other = create_engine(db.engine.url.render_as_string(hide_password=False))
    with other.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    other.dispose()
    assert client.get("/health").status_code == 503


@pytest.mark.parametrize("app_config", [{"PAGE_CACHE": True}], indirect=True)
def test_healthz_stays_query_free_with_the_page_cache_on(client, login_as, count_queries):
    login_as()
    with count_queries() as q:
        assert client.get("/healthz").status_code == 200
    assert q.count == 0, q.statements
