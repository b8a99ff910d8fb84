"""Shared pages of signed-in users (``portal.pagecache.shared_view``): the compound hub and the
street dashboard are stored once per *audience* and get each user's own header and form token.

The central property: with the cache on, every role sees on every hub tab exactly what it sees
with the cache off, whichever role filled the cache first.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models_base import utcnow
from portal.places.labels import HUB_TABS
from portal.voting import service as voting
from tests.conftest import PortalClient, text_of
from tests.web import security_world
from tests.web.security_world import ROLES, as_user

SIGNED_IN = [r for r in ROLES if r != "visitor"]
HOLE = "portal-hole"


@pytest.fixture
def app_config(tmp_path):
    return {
        "PAGE_CACHE": True,
        "PAGE_CACHE_SECONDS": 60,
        "PAGE_CACHE_FILE": str(tmp_path / "generation"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }


world = security_world.world


def _cache(app):
    return app.extensions["pagecache"]


def _token_of(html: str) -> str:
    m = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert m, "no form token in the page"
    return m.group(1)


def _normalised(html: str) -> str:
    """The page without its form tokens (signed with a timestamp, so they differ by the second)."""
    html = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": "-"', html)
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value="-"', html)


def _compound_a():
    from portal.places.models import Compound

    return db.session.scalar(db.select(Compound).where(Compound.code == "A"))


@pytest.fixture
def draft_election(world):
    """A draft in compound A: only those who run its elections see it on the elections tab."""
    now = utcnow()
    e = voting.create_election(
        world.users["secretary"],
        _compound_a(),
        title="草稿选聘",
        matter="hire",
        rule="civil-code-278",
        opens_at=now + timedelta(days=40),
        closes_at=now + timedelta(days=47),
    )
    db.session.commit()
    return e


@pytest.mark.parametrize("tab", HUB_TABS)
def test_every_role_sees_on_every_tab_what_it_sees_without_the_cache(
    app, client, world, draft_election, tab
):
    url = f"/compounds/A/{tab}"
    uncached = {}
    app.config["PAGE_CACHE"] = False
    for role in ROLES:
        as_user(client.c, world.users.get(role))
        resp = client.get(url)
        assert resp.status_code == 200, role
        uncached[role] = _normalised(resp.get_data(as_text=True))
    app.config["PAGE_CACHE"] = True
    # Fill the cache in one order, read it in the reverse one: whoever stored an audience's
    # page, every other member of that audience must get exactly their own page.
    for order in (SIGNED_IN, list(reversed(SIGNED_IN))):
        for role in order:
            as_user(client.c, world.users[role])
            html = client.get(url).get_data(as_text=True)
            assert HOLE not in html
            assert _normalised(html) == uncached[role], f"{role} on {tab}"
    assert _cache(app).hits > 0 or tab in ("proposals", "volunteers")
    # the draft election shows exactly to those who run the compound's elections
    if tab == "elections":
        assert "草稿选聘" in uncached["secretary"] and "草稿选聘" in uncached["committee"]
        assert "草稿选聘" not in uncached["resident"]


def test_two_residents_share_the_page_but_each_gets_their_own_header_and_token(
    app, client, world, make_user, make_claim
):
    url = "/compounds/A"
    neighbour = make_user(name="邻居赵六")
    unit = world.extra["membership"].unit
    make_claim(neighbour, unit, relation="family", status="verified")

    as_user(client.c, world.users["resident"])
    first = client.get(url).get_data(as_text=True)
    client = PortalClient(app.test_client())  # the neighbour's own phone
    as_user(client.c, neighbour)
    hits = _cache(app).hits
    second = client.get(url)
    html = second.get_data(as_text=True)
    assert _cache(app).hits == hits + 1, "the neighbour's page came from the cache"
    assert "邻居赵六" in text_of(second)
    assert world.users["resident"].display_name not in text_of(second)
    assert _token_of(html) != _token_of(first)
    assert second.headers["Cache-Control"] == "no-store"
    # the token in the shared page is the neighbour's own: logging out with it works
    out = client.post("/logout", data={"csrf_token": _token_of(html)})
    assert out.status_code == 302
    assert "邻居赵六" not in text_of(client.get(url))


def test_a_message_waiting_is_shown_and_not_stored(app, client, world):
    url = "/compounds/A"
    as_user(client.c, world.users["resident"])
    client.get(url)
    with client.c.session_transaction() as sess:
        sess["_flashes"] = [("info", "一条只给我的提示")]
    assert "一条只给我的提示" in text_of(client.get(url))
    as_user(client.c, world.users["committee"])
    assert "一条只给我的提示" not in text_of(client.get(url))


def test_a_new_notice_is_seen_at_once_by_signed_in_residents(app, client, world):
    from portal.notices import service as notices

    url = "/compounds/A"
    as_user(client.c, world.users["resident"])
    assert "三号楼电梯检修" not in text_of(client.get(url))
    a = _compound_a()
    notices.create_notice(
        world.users["secretary"],
        "compound",
        a,
        category="maintenance",
        title="三号楼电梯检修",
        body="明天停水",
        now=utcnow(),
    )
    db.session.commit()
    assert "三号楼电梯检修" in text_of(client.get(url))


def test_fragments_and_errors_of_signed_in_users_carry_no_hole(app, client, world):
    as_user(client.c, world.users["resident"])
    for _ in range(2):
        frag = client.hx_get("/compounds/A/fees").get_data(as_text=True)
        assert HOLE not in frag and "<header" not in frag
    for url in ("/compounds/A/nosuchtab", "/compounds/NOPE"):
        resp = client.get(url)
        assert resp.status_code == 404
        html = resp.get_data(as_text=True)
        assert HOLE not in html and world.users["resident"].display_name in text_of(resp)


def test_a_hit_costs_only_the_viewer_lookups(app, client, world, count_queries):
    as_user(client.c, world.users["resident"])
    client.get("/compounds/A")
    with count_queries() as q:
        resp = client.get("/compounds/A")
    assert resp.status_code == 200
    assert q.count == 1, q.statements  # the user with her role grants, in one query


def test_officers_share_their_street_dashboard_and_only_theirs(
    app, client, world, make_user, make_grant
):
    street_a = world.users["street"]
    from portal.places.models import Street

    sa = db.session.scalar(db.select(Street).where(Street.code == "SA"))
    sb = db.session.scalar(db.select(Street).where(Street.code == "SB"))
    colleague = make_user(name="同街道干部")
    make_grant(colleague, "street", sa)
    other = make_user(name="外街道干部")
    make_grant(other, "street", sb)

    as_user(client.c, street_a)
    mine = client.get("/staff/street")
    assert mine.status_code == 200 and "和平街道" in text_of(mine)
    as_user(client.c, colleague)
    hits = _cache(app).hits
    theirs = client.get("/staff/street")
    assert _cache(app).hits == hits + 1
    assert "同街道干部" in text_of(theirs) and street_a.display_name not in text_of(theirs)
    as_user(client.c, other)
    elsewhere = text_of(client.get("/staff/street"))
    assert "光明街道" in elsewhere and "和平花园" not in elsewhere
    # a resident is still refused, also after officers filled the cache
    as_user(client.c, world.users["resident"])
    assert client.get("/staff/street").status_code == 403


def test_a_page_that_shows_a_message_it_just_flashed_is_not_stored(app, client, world):
    from flask import flash, render_template_string

    from portal.pagecache import shared_view

    @shared_view(lambda: ("everyone",))
    def flashing():
        flash("只给这一次的提示", "info")
        return render_template_string('{% extends "base.html" %}{% block content %}x{% endblock %}')

    app.add_url_rule("/test-flashing", "test_flashing", flashing)
    as_user(client.c, world.users["resident"])
    first = client.get("/test-flashing")
    assert "只给这一次的提示" in text_of(first)
    assert HOLE not in first.get_data(as_text=True)
    as_user(client.c, world.users["committee"])
    hits = _cache(app).hits
    second = client.get("/test-flashing")
    assert _cache(app).hits == hits, "the page with the message was not stored"
    assert text_of(second).count("只给这一次的提示") == 1  # its own message, once
