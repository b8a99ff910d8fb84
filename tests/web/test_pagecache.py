"""The public page cache: visitors get stored pages, never someone else's, never stale data."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.pagecache import Generation
from tests.conftest import PortalClient, text_of


@pytest.fixture
def app_config(tmp_path):
    # a counter of this test's own: other test processes must not invalidate its pages
    return {
        "PAGE_CACHE": True,
        "PAGE_CACHE_SECONDS": 60,
        "PAGE_CACHE_FILE": str(tmp_path / "generation"),
    }


@pytest.fixture
def compound(make_compound):
    return make_compound(name="颐景花园")


def _cache(app):
    return app.extensions["pagecache"]


def test_a_visitor_page_is_served_again_without_touching_the_database(
    app, client, compound, count_queries
):
    url = f"/compounds/{compound.code}"
    first = client.get(url)
    assert first.status_code == 200
    assert "Set-Cookie" not in first.headers, "a public page must not start a session"
    with count_queries() as q:
        second = client.get(url)
    assert q.count == 0
    assert second.get_data() == first.get_data()
    assert "颐景花园" in text_of(second)
    # security headers and a fresh request id are added to the stored page every time
    assert second.headers["Content-Security-Policy"]
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert _cache(app).hits == 1


def test_a_committed_change_is_shown_at_once(app, client, compound):
    url = f"/compounds/{compound.code}"
    assert "颐景花园" in text_of(client.get(url))
    compound.name = "颐景新苑"
    db.session.commit()
    assert "颐景新苑" in text_of(client.get(url))


def test_a_rolled_back_change_keeps_the_stored_page(app, client, compound):
    url = f"/compounds/{compound.code}"
    client.get(url)
    generation = _cache(app).generation.read()
    compound.name = "不会保存"
    db.session.flush()
    db.session.rollback()
    assert _cache(app).generation.read() == generation
    assert "颐景花园" in text_of(client.get(url))
    assert _cache(app).hits == 1


def test_pages_expire_after_the_configured_seconds(app, client, compound):
    url = f"/compounds/{compound.code}"
    client.get(url)
    _cache(app).seconds = 0
    client.get(url)
    assert _cache(app).hits == 0


def test_language_text_size_and_fragments_are_separate_entries(app, client, compound):
    url = f"/compounds/{compound.code}/notices"
    zh = client.get(url).get_data(as_text=True)
    en = client.get(url + "?lang=en").get_data(as_text=True)
    assert zh != en and "Notices" in en
    client.set_cookie("large_text", "1")
    large = client.get(url).get_data(as_text=True)
    assert 'class="large-text"' in large
    client.delete_cookie("large_text")
    assert 'class="large-text"' not in client.get(url).get_data(as_text=True)
    fragment = client.hx_get(url).get_data(as_text=True)
    assert "<html" not in fragment
    assert "<html" in client.get(url).get_data(as_text=True)


def test_a_logged_in_user_never_gets_a_visitors_page_nor_gives_one(
    app, client, compound, login_as, count_queries
):
    url = f"/compounds/{compound.code}"
    client.get(url)  # stored for visitors
    user = login_as(name="王建国")
    page = client.get(url)
    assert "王建国" in text_of(page), "the logged-in header, not the visitor's page"
    assert page.headers["Cache-Control"] == "no-store"
    assert _cache(app).hits == 0
    # her page is a separate, shared entry (tests/web/test_pagecache_shared.py) ...
    assert len(_cache(app)) == 2
    # ... and the visitors' page is still the visitors' one
    visitor = PortalClient(app.test_client())
    assert "王建国" not in text_of(visitor.get(url))
    assert user.id


def test_pages_with_a_form_token_are_not_stored(app, client, compound):
    first = client.get("/login")
    second = client.get("/login")
    assert 'name="csrf_token"' in second.get_data(as_text=True)
    assert _cache(app).hits == 0
    assert first.status_code == second.status_code == 200


def test_a_visitor_with_a_message_waiting_sees_it(app, client, compound):
    url = f"/compounds/{compound.code}"
    client.get(url)
    with client.c.session_transaction() as sess:
        sess["_flashes"] = [("info", "一条提示")]
    assert "一条提示" in text_of(client.get(url))


def test_visitors_switch_language_and_text_size_without_a_form_token(app, client, compound):
    url = f"/compounds/{compound.code}"
    resp = client.post("/prefs/large-text", data={"large_text": "1", "next": url})
    assert resp.status_code == 302
    assert 'class="large-text"' in client.get(url).get_data(as_text=True)
    resp = client.post("/prefs/language", data={"lang": "en", "next": url})
    assert resp.status_code == 302
    assert "Notices" in text_of(client.get(url))


def test_a_logged_in_user_needs_the_form_token_for_preferences(app, client, compound, login_as):
    app.config["WTF_CSRF_ENABLED"] = True
    user = login_as()
    resp = client.post("/prefs/large-text", data={"large_text": "1", "next": "/"})
    assert resp.status_code == 400
    db.session.refresh(user)
    assert not user.large_text
    resp = client.post_form("/prefs/large-text", {"large_text": "1", "next": "/"}, headers={})
    assert resp.status_code == 302
    db.session.refresh(user)
    assert user.large_text


def test_the_generation_counter_is_shared_by_processes(tmp_path):
    path = tmp_path / "gen"
    a, b = Generation(path), Generation(path)
    assert a.read() == b.read() == 0
    a.bump()
    b.bump()
    assert a.read() == b.read() == 2


def test_the_cache_is_bounded(app, client, make_compound):
    cache = _cache(app)
    cache.max_entries = 3
    codes = [make_compound(name=f"小区{i}").code for i in range(5)]
    for code in codes:
        client.get(f"/compounds/{code}")
    assert len(cache) == 3


def test_a_notice_page_with_its_unshown_staff_forms_is_stored(
    app, client, compound, make_user, make_grant, count_queries
):
    """The notice page builds its staff forms (withdraw, confirm) for every viewer; a visitor
    is shown none, so the page carries no token, starts no session and is stored."""
    from portal.models_base import utcnow
    from portal.notices import service as notices

    secretary = make_user()
    make_grant(secretary, "secretary", compound.community)
    notice = notices.create_notice(
        secretary,
        "compound",
        compound,
        now=utcnow(),
        category="announcement",
        title="停水通知",
        body="周三上午停水。",
    )
    db.session.commit()
    first = client.get(f"/notices/{notice.id}")
    assert first.status_code == 200 and "停水通知" in text_of(first)
    assert "Set-Cookie" not in first.headers
    assert 'name="csrf_token"' not in first.get_data(as_text=True)
    with count_queries() as q:
        again = client.get(f"/notices/{notice.id}")
    assert q.count == 0 and again.get_data() == first.get_data()
