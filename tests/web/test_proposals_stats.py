"""Statistics per community and per street: monthly figures, a server-drawn accessible chart
and its data table."""

# ruff: noqa: F811  (the shared fixtures are imported, then requested by name)

import re
from datetime import UTC, datetime, timedelta

from portal.extensions import db
from portal.proposals import service
from tests.conftest import text_of
from tests.web.test_proposals_fixtures import T0, H, assert_csp_clean, make_proposal, world  # noqa: F401


def _scenario(w):
    # March 2026: three received; one closed satisfied in 3 h, one rejected, one overdue & open
    a = make_proposal(w, title="甲", now=T0)
    service.accept(w.secretary, a.id, "general", "community", T0 + H)
    service.respond(w.secretary, a.id, "好了", T0 + 2 * H)
    service.verdict(w.residents[0], a.id, "satisfied", "", T0 + 3 * H)
    b = make_proposal(w, title="乙", now=T0)
    service.reject(w.secretary, b.id, "重复", T0 + H)
    c = make_proposal(w, title="丙", now=T0)
    service.accept(w.secretary, c.id, "general", "company", T0 + H)
    service.sweep(T0 + 30 * H)
    # April, the other community of the street
    make_proposal(
        w, title="丁", author=w.outsider, compound=w.other_compound, now=T0 + timedelta(days=31)
    )
    db.session.commit()


def test_community_statistics(client, world, monkeypatch):
    monkeypatch.setattr("portal.proposals.routes.utcnow", lambda: datetime(2026, 6, 1, tzinfo=UTC))
    _scenario(world)
    resp = client.get(f"/communities/{world.community.code}/proposals/stats?lang=en")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert_csp_clean(html)
    assert '<svg class="pchart"' in html and 'role="img"' in html
    assert '<title id="chart-title">Proposals received and resolved per month, 2026</title>' in html
    assert "March: 3 received, 1 resolved." in html  # the chart's description
    rows = {
        m: re.sub(r"\s+", " ", r)
        for m, r in re.findall(r'<th scope="row">(\w+)</th>(.*?)</tr>', html, re.S)
    }
    cells = re.findall(r'<td class="num">([^<]*)</td>', rows["March"])
    # received, accepted, resolved, rejected, overdue, first response, resolution, satisfied
    assert cells == ["3", "2", "1", "1", "1", "1.0 h", "3.0 h", "100%"]
    assert re.findall(r'<td class="num">([^<]*)</td>', rows["April"])[:1] == ["0"]
    text = text_of(resp)
    assert "How the figures are counted" in text


def test_street_statistics_add_up_the_communities(client, world, monkeypatch):
    monkeypatch.setattr("portal.proposals.routes.utcnow", lambda: datetime(2026, 6, 1, tzinfo=UTC))
    _scenario(world)
    html = client.get(f"/streets/{world.street.code}/proposals/stats?lang=en").get_data(
        as_text=True
    )
    assert "March: 3 received, 1 resolved." in html and "April: 1 received, 0 resolved." in html
    assert "向阳社区" in html and "东风社区" in html
    # another year is empty, and an absurd year is 404
    other = client.get(f"/streets/{world.street.code}/proposals/stats?year=2025&lang=en")
    assert "March: 0 received" in other.get_data(as_text=True)
    assert client.get(f"/streets/{world.street.code}/proposals/stats?year=1900").status_code == 404
    assert client.get("/streets/NOPE/proposals/stats").status_code == 404
    assert client.get("/communities/NOPE/proposals/stats").status_code == 404


def test_statistics_in_chinese(client, world, monkeypatch):
    monkeypatch.setattr("portal.proposals.routes.utcnow", lambda: datetime(2026, 6, 1, tzinfo=UTC))
    _scenario(world)
    html = client.get(f"/communities/{world.community.code}/proposals/stats").get_data(as_text=True)
    assert "三月" in html or "3月" in html
