"""Register, log in, log out, profile, preferences; the security baseline around them."""

import re

from sqlalchemy import select

from portal.accounts.models import User
from portal.audit import AuditEvent
from portal.extensions import db
from tests.conftest import text_of
from tests.factories import PASSWORD


def register(client, phone="13812345678", name="张三", password=PASSWORD, confirm=None):
    return client.post_form(
        "/register",
        {
            "phone": phone,
            "display_name": name,
            "password": password,
            "confirm": confirm or password,
        },
    )


def login(client, phone, password=PASSWORD, next_=""):
    return client.post_form("/login", {"phone": phone, "password": password, "next": next_})


def test_register_creates_account_and_logs_in(client):
    resp = register(client, phone="+86 138-1234-5678")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/units")
    user = db.session.scalar(select(User).where(User.phone == "13812345678"))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert "张三" in text_of(client.get("/account/units"))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.registered"))


def test_register_refuses_bad_phone_common_password_and_mismatch(client):
    resp = register(client, phone="12345", password="12345678", confirm="12345679")
    assert resp.status_code == 422
    text = text_of(client.get("/?lang=en")) and text_of(resp)
    assert db.session.scalar(select(User)) is None
    assert "11" in text  # the phone hint names an 11-digit number


def test_register_refuses_common_password_in_english(client):
    client.get("/?lang=en")
    client.set_cookie("lang", "en")
    resp = register(client, password="woaini1314")
    assert resp.status_code == 422
    assert "too common" in text_of(resp)
    assert db.session.scalar(select(User)) is None


def test_register_duplicate_phone(client, make_user):
    make_user(phone="13812345678")
    client.set_cookie("lang", "en")
    resp = register(client)
    assert resp.status_code == 422
    assert "already exists" in text_of(resp)


def test_login_with_wrong_password_fails_and_is_audited(client, make_user):
    make_user(phone="13812345678")
    client.set_cookie("lang", "en")
    resp = login(client, "13812345678", "wrong password here")
    assert resp.status_code == 422
    assert "not correct" in text_of(resp)
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login.failed"))
    assert ev is not None and ev.ip == "127.0.0.1" and ev.request_id


def test_login_success_redirects_to_safe_next_only(client, make_user):
    make_user(phone="13812345678")
    resp = login(client, "13812345678", next_="/account")
    assert resp.status_code == 302 and resp.headers["Location"] == "/account"
    client.post_form("/logout")
    resp = login(client, "13812345678", next_="//evil.example/x")
    assert resp.headers["Location"] == "/account/units"


def test_sixth_wrong_password_in_a_row_gets_429(client, make_user):
    make_user(phone="13812345678")
    client.set_cookie("lang", "en")
    for _ in range(5):
        assert login(client, "13812345678", "wrong password here").status_code == 422
    resp = login(client, "13812345678", "wrong password here")
    assert resp.status_code == 429
    assert "Too many attempts" in text_of(resp)
    assert "Traceback" not in resp.get_data(as_text=True)
    # even the right password is refused while throttled
    assert login(client, "13812345678").status_code == 429


def test_throttle_is_per_account_key(client, make_user):
    make_user(phone="13812345678")
    make_user(phone="13812345679")
    for _ in range(5):
        login(client, "13812345678", "wrong password here")
    assert login(client, "13812345679").status_code == 302


def test_failed_logins_throttled_per_ip(client, app, make_user):
    app.config["LOGIN_FAILURES_PER_IP"] = "3 per 15 minutes"
    for i in range(3):
        login(client, f"1381234567{i}", "wrong password here")
    assert login(client, "13812345679", "wrong password here").status_code == 429


def test_logout_invalidates_a_copied_cookie(app, client, make_user):
    make_user(phone="13812345678")
    login(client, "13812345678")
    cookie = client.get_cookie("session").value
    assert client.get("/account").status_code == 200
    client.post_form("/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    resp = thief.get("/account")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_new_session_on_login(client, make_user):
    make_user(phone="13812345678")
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "x"
    login(client, "13812345678")
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_session_cookie_flags(client, make_user):
    make_user(phone="13812345678")
    resp = login(client, "13812345678")
    cookie = resp.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_in_production(make_user, db_url):
    from portal import create_app

    app = create_app({"PORTAL_ENV": "production", "SECRET_KEY": "x" * 32, "DATABASE_URL": db_url})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_production_requires_secret_key(db_url, monkeypatch):
    import pytest

    from portal import create_app
    from portal.config import ConfigError

    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app({"PORTAL_ENV": "production", "DATABASE_URL": db_url})


def test_post_without_csrf_token_is_400(client, make_user):
    make_user(phone="13812345678")
    resp = client.post("/login", data={"phone": "13812345678", "password": PASSWORD})
    assert resp.status_code == 400
    assert "<html" in resp.get_data(as_text=True)


def test_htmx_csrf_header_is_accepted(client, make_user):
    user = make_user(phone="13812345678")
    token = client.csrf()
    resp = client.post(
        "/prefs/large-text",
        data={"large_text": "1"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert resp.status_code == 302
    assert user


def test_logout_by_get_is_refused(client):
    assert client.get("/logout").status_code == 405


def test_profile_saves_name_language_and_large_text(client, login_as):
    user = login_as(name="李四")
    resp = client.post_form(
        "/account", {"display_name": "李老四", "locale": "en", "large_text": "y"}
    )
    assert resp.status_code == 302
    db.session.refresh(user)
    assert (user.display_name, user.locale, user.large_text) == ("李老四", "en", True)
    page = client.get("/account")
    html = page.get_data(as_text=True)
    assert 'class="large-text"' in html and 'lang="en"' in html


def test_password_change_logs_out_other_devices(app, client, login_as):
    user = login_as()
    other = app.test_client()
    with other.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
    assert other.get("/account").status_code == 200
    resp = client.post_form(
        "/account/password",
        {
            "current": PASSWORD,
            "password": "a new long phrase 2026",
            "confirm": "a new long phrase 2026",
        },
    )
    assert resp.status_code == 302
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_language_switch_persists_for_visitors(client):
    resp = client.post_form("/prefs/language", {"lang": "en", "next": "/compounds?lang=zh"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/compounds"  # the lang override is dropped
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Find a compound" in html


def test_language_query_override(client):
    assert '<html lang="en">' in client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in client.get("/").get_data(as_text=True)


def test_language_switch_persists_for_users(client, login_as):
    user = login_as()
    client.post_form("/prefs/language", {"lang": "en", "next": "/"})
    db.session.refresh(user)
    assert user.locale == "en"


def test_large_text_toggle_persists(client):
    client.post_form("/prefs/large-text", {"large_text": "1", "next": "/"})
    assert 'class="large-text"' in client.get("/").get_data(as_text=True)
    client.post_form("/prefs/large-text", {"large_text": "0", "next": "/"})
    assert 'class="large-text"' not in client.get("/").get_data(as_text=True)


def test_security_headers(client):
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert re.fullmatch(r"[0-9a-f]{32}", resp.headers["X-Request-ID"])


def test_no_inline_scripts_or_handlers_in_templates():
    from pathlib import Path

    from portal import ROOT

    for path in Path(ROOT / "templates").rglob("*.html"):
        src = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", src), path
        assert not re.search(r"\son[a-z]+\s*=", src), path


def test_error_pages_are_translated(client):
    zh = client.get("/no-such-page")
    assert zh.status_code == 404 and "<html" in zh.get_data(as_text=True)
    en = text_of(client.get("/no-such-page?lang=en"))
    assert "Page not found" in en
    assert text_of(zh) != en


def test_500_page_has_no_traceback(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom-test")
    def boom():
        raise RuntimeError("secret internals")

    resp = client.get("/boom-test?lang=en")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "secret internals" not in body and "Traceback" not in body
    assert "Something went wrong" in body
