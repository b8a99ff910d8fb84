"""Everywhere: the staff inbox, every page without inline script/style/handlers, no phone numbers
on public pages, and both languages."""

# ruff: noqa: F811  (the shared fixtures are imported, then requested by name)

import re

from portal.extensions import db
from portal.proposals import moderation, service
from tests.conftest import text_of
from tests.web.test_proposals_fixtures import (  # noqa: F401
    T0,
    H,
    accepted,
    assert_csp_clean,
    clock,
    make_proposal,
    world,
)


def test_inbox_shows_each_role_its_own_work(client, world, login_as, clock):
    waiting = make_proposal(world, title="待受理")
    for_company = accepted(world, title="物业的活", responsible="company")
    for_committee = accepted(world, title="业委会的活", responsible="committee")
    for_street = accepted(world, title="街道的活", responsible="street")
    elsewhere = make_proposal(
        world, title="别的社区", author=world.outsider, compound=world.other_compound
    )

    def listed(user):
        login_as(user=user)
        resp = client.get("/staff/proposals")
        assert resp.status_code == 200
        return set(re.findall(r'href="/proposals/(\d+)"', resp.get_data(as_text=True)))

    ids = lambda *ps: {str(p.id) for p in ps}  # noqa: E731
    assert listed(world.secretary) == ids(waiting, for_company, for_committee, for_street)
    assert listed(world.company_staff) == ids(for_company)
    assert listed(world.other_company_staff) == set()
    assert listed(world.committee) == ids(for_committee)
    assert listed(world.officer) == ids(for_street)
    assert listed(world.other_secretary) == ids(elsewhere)
    login_as(user=world.residents[0])
    assert client.get("/staff/proposals").status_code == 403
    # the state tabs have real URLs and an htmx fragment
    login_as(user=world.secretary)
    resp = client.get("/staff/proposals?state=collect&lang=en")
    assert set(re.findall(r'href="/proposals/(\d+)"', resp.get_data(as_text=True))) == ids(waiting)
    frag = client.hx_get("/staff/proposals?state=collect")
    assert "<html" not in frag.get_data(as_text=True)


def test_every_page_is_free_of_inline_script_style_and_handlers(client, world, login_as, clock):
    p = accepted(world, responsible="community")
    service.comment(world.residents[1], p.id, "评论", T0)
    moderation.report(world.residents[2], p.id, None, "举报", T0)
    db.session.commit()
    code = world.compound.code
    public = [
        f"/compounds/{code}/proposals",
        f"/compounds/{code}/proposals?state=accepted&sort=deadline",
        f"/proposals/{p.id}",
        f"/proposals/{p.id}/clock",
        f"/communities/{world.community.code}/proposals/stats",
        f"/streets/{world.street.code}/proposals/stats",
    ]
    for path in public:
        for lang in ("", "?lang=en" if "?" not in path else "&lang=en"):
            resp = client.get(path + lang)
            assert resp.status_code == 200, path
            html = resp.get_data(as_text=True)
            assert_csp_clean(html)
            for u in world.residents:  # no phone numbers on public pages
                assert u.phone not in html, path
    login_as(user=world.residents[0])
    for path in (f"/compounds/{code}/proposals/new", f"/proposals/{p.id}"):
        assert_csp_clean(client.get(path).get_data(as_text=True))
    login_as(user=world.secretary)
    for path in (
        f"/proposals/{p.id}",
        "/staff/proposals",
        "/staff/proposals/reports",
        f"/compounds/{code}/proposals/settings",
    ):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert_csp_clean(resp.get_data(as_text=True))
    login_as(user=world.officer)
    assert_csp_clean(client.get("/staff/street/proposals").get_data(as_text=True))


def test_hub_tab_is_a_fragment_for_htmx(client, world, clock):
    make_proposal(world)
    frag = client.hx_get(f"/compounds/{world.compound.code}/proposals")
    html = frag.get_data(as_text=True)
    assert "<html" not in html and 'id="proposal-results"' in html and 'id="tab-panel"' in html


def test_chinese_is_the_default(client, world, clock):
    p = make_proposal(world)
    html = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert 'lang="zh-Hans"' in html
    assert "2026-03-02 10:00" in text_of(client.get(f"/proposals/{p.id}"))  # Beijing time
    assert "2 Mar 2026 10:00" in text_of(client.get(f"/proposals/{p.id}?lang=en"))
