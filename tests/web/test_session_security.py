"""Sessions, error pages, security headers and redirects.

- a session cookie copied before logout is refused after it (there is no remember-me cookie);
- in production mode a failing route, an unknown page and a wrong method give the translated
  error page with no traceback, file path or SQL;
- every kind of response carries the security headers (CSP, frame-ancestors / X-Frame-Options,
  Referrer-Policy, nosniff);
- ``next=`` parameters never send the browser to another site.
"""

from __future__ import annotations

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import _base_config
from tests.factories import PASSWORD
from tests.web import security_world
from tests.web.security_world import as_user

app_config = security_world.uploads_config
world = security_world.world

PHONE = "13800000001"  # the world's resident


def _login(client, phone=PHONE, next_=""):
    token = client.csrf("/login")
    return client.post(
        "/login" + (f"?next={next_}" if next_ else ""),
        data={"phone": phone, "password": PASSWORD, "csrf_token": token, "next": next_},
    )


def _session_cookie(app, client) -> str:
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    return cookie.value


def test_a_session_cookie_copied_before_logout_is_refused_after_it(app, client, world):
    resp = _login(client)
    assert resp.status_code == 302
    assert "remember_token" not in resp.headers.get("Set-Cookie", "")  # no remember-me cookie
    assert client.get("/account").status_code == 200
    stolen = _session_cookie(app, client)

    thief = app.test_client()
    thief.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), stolen)
    assert thief.get("/account").status_code == 200  # the copy works while the session lives

    token = client.csrf("/account")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    resp = thief.get("/account")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    # and the copy cannot act either
    resp = thief.post("/prefs/large-text", data={"large_text": "1"})
    db.session.expire_all()
    assert world.users["resident"].large_text is not True

    # logging in again gives a new session; the stolen one stays dead
    _login(client)
    assert client.get("/account").status_code == 200
    assert thief.get("/account").status_code == 302


def test_the_session_cookie_is_httponly_and_samesite(app, client, world):
    resp = _login(client)
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies and "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0]


@pytest.fixture
def production(db_url, tmp_path):
    app = create_app(
        {
            **_base_config(db_url),
            "PORTAL_ENV": "production",
            "TESTING": False,
            "DEBUG": False,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )

    @app.get("/__audit/boom")
    def _boom():  # a route that fails the way a real bug would
        db.session.execute(db.text("SELECT * FROM no_such_table_for_the_audit"))
        return "unreachable"

    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


LEAKS = ("Traceback", "no_such_table", "SELECT", "sqlalchemy", ".py", "/work/", 'File "')


@pytest.mark.parametrize(
    "method, path, status, title",
    [
        ("get", "/__audit/boom", 500, "Something went wrong"),
        ("get", "/no/such/page", 404, "Page not found"),
        ("post", "/compounds", 405, "Not allowed"),
    ],
)
def test_production_error_pages_leak_nothing(production, method, path, status, title):
    assert production.config["PORTAL_ENV"] == "production" and not production.debug
    client = production.test_client()
    resp = getattr(client, method)(path + "?lang=en", base_url="https://localhost")
    html = resp.get_data(as_text=True)
    assert resp.status_code == status
    assert title in html
    for leak in LEAKS:
        assert leak not in html, leak
    zh = getattr(client, method)(path, base_url="https://localhost").get_data(as_text=True)
    assert title not in zh  # translated: Chinese by default
    assert "Traceback" not in zh and "no_such_table" not in zh


HEADERS = {
    "Content-Security-Policy": ("frame-ancestors 'none'",),
    "X-Frame-Options": ("DENY",),
    "Referrer-Policy": ("same-origin",),
    "X-Content-Type-Options": ("nosniff",),
}


def test_security_headers_on_pages_fragments_files_and_errors(client, world):
    ids = world.ids
    as_user(client, world.users["resident"])
    responses = {
        "page": client.get(f"/compounds/{ids['compound']}"),
        "fragment": client.hx_get(f"/compounds/{ids['compound']}/notices"),
        "csv": client.get("/open-data/fees.csv"),
        "json": client.get("/open-data/fees.json"),
        "file": client.get(f"/files/{ids['notice_attachment']}"),
        "atom": client.get(f"/feeds/compounds/{ids['compound']}.atom"),
        "404": client.get("/no/such/page"),
        "403": client.get("/staff/audit"),
    }
    for kind, resp in responses.items():
        for name, parts in HEADERS.items():
            value = resp.headers.get(name, "")
            for part in parts:
                assert part in value, f"{kind}: {name} lacks {part!r}"
        csp = resp.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "script-src 'self'" in csp or "default-src 'none'" in csp, kind


EVIL = ["//evil.example/x", "/\\evil.example/x", "https://evil.example/x", "/%5Cevil.example"]


def _local(location: str) -> bool:
    return location.startswith("/") and not location.startswith(("//", "/\\"))


def test_next_parameters_never_leave_the_site(client, world):
    for target in EVIL:
        resp = _login(client, next_=target)
        assert resp.status_code == 302 and _local(resp.headers["Location"]), target
        for url in ("/prefs/language", "/prefs/large-text"):
            token = client.csrf("/account")
            resp = client.post(url, data={"lang": "en", "next": target, "csrf_token": token})
            assert _local(resp.headers["Location"]), (url, resp.headers["Location"])
    # the company answering a fee question (the form carries the page to return to);
    # "/\\evil" was let through before the audit (browsers read it as "//evil")
    as_user(client, world.users["company"])
    token = client.csrf("/account")
    resp = client.post(
        f"/fees/questions/{world.ids['question']}/answer",
        data={"answer": "钱用于楼道照明维修。", "next": "/\\evil.example/x", "csrf_token": token},
    )
    assert resp.status_code == 302
    assert _local(resp.headers["Location"]), resp.headers["Location"]
