"""Point 3: the clocks. Accepted as "general" at 10:00, a proposal is overdue at 10:00 the next
day, and appears on the street's overdue list after the sweep — not before; the sweep is
idempotent and prints its counts."""

# ruff: noqa: F811  (the shared fixtures are imported, then requested by name)

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.proposals import service
from portal.proposals.cli import proposals_cli
from portal.proposals.models import Escalation, Event, Proposal
from tests.conftest import text_of
from tests.web.test_proposals_fixtures import (  # noqa: F401
    T0,
    H,
    S,
    accepted,
    assert_csp_clean,
    clock,
    make_proposal,
    world,
)

DAY = timedelta(days=1)


@pytest.fixture
def sweep(app):
    if "proposals" not in app.cli.commands:
        app.cli.add_command(proposals_cli)
    runner = app.test_cli_runner()

    def _sweep(now):
        result = runner.invoke(args=["proposals", "sweep", "--now", now.isoformat()])
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        return result.output

    return _sweep


def _on_street_list(client, p) -> bool:
    resp = client.get("/staff/street/proposals")
    assert resp.status_code == 200
    return f'href="/proposals/{p.id}"' in resp.get_data(as_text=True)


def test_general_at_ten_overdue_at_ten_next_day_on_the_street_list_after_the_sweep(
    client, world, login_as, clock, sweep
):
    p = make_proposal(world)
    login_as(user=world.secretary)
    clock.now = T0  # 10:00 Beijing time
    client.post_form(
        f"/proposals/{p.id}/accept", {"complexity": "general", "responsible": "company"}
    )
    deadline = T0 + DAY
    login_as(user=world.officer)

    # 09:59:59 the next day: one second left, not overdue, the sweep finds nothing
    clock.now = deadline - S
    frag = client.hx_get(f"/proposals/{p.id}/clock?lang=en")
    assert "Time left: less than a minute" in text_of(frag)
    assert 'hx-trigger="every 30s"' in frag.get_data(as_text=True)
    board = client.get(f"/compounds/{world.compound.code}/proposals?overdue=1")
    assert f'href="/proposals/{p.id}"' not in board.get_data(as_text=True)
    assert "overdue: 0 newly marked, escalated: 0" in sweep(deadline - S)
    assert not _on_street_list(client, p)

    # 10:00:00: overdue on the page at once, but not on the street's list before the sweep
    clock.now = deadline
    assert "Overdue by less than a minute" in text_of(
        client.hx_get(f"/proposals/{p.id}/clock?lang=en")
    )
    board = client.get(f"/compounds/{world.compound.code}/proposals?overdue=1")
    assert f'href="/proposals/{p.id}"' in board.get_data(as_text=True)
    assert not _on_street_list(client, p)

    out = sweep(deadline)
    assert "overdue: 1 newly marked, escalated: 1" in out
    assert _on_street_list(client, p)
    q = db.session.get(Proposal, p.id)
    assert (q.overdue_at, q.ever_overdue) == (deadline, True)
    esc = db.session.scalar(select(Escalation))
    assert (esc.street_id, esc.deadline_at, esc.resolved_at) == (world.street.id, deadline, None)
    text = text_of(client.get(f"/proposals/{p.id}?lang=en"))
    assert "Overdue: escalated to the street office" in text and "Portal (automatic)" in text

    # idempotent: a second run changes nothing
    events = db.session.scalar(select(func.count(Event.id)))
    audits = db.session.scalar(select(func.count(AuditEvent.id)))
    assert "overdue: 0 newly marked, escalated: 0" in sweep(deadline + H)
    assert db.session.scalar(select(func.count(Escalation.id))) == 1
    assert db.session.scalar(select(func.count(Event.id))) == events
    assert db.session.scalar(select(func.count(AuditEvent.id))) == audits

    # the late answer stops the clock and takes it off the open list (kept under "all")
    login_as(user=world.company_staff)
    clock.now = deadline + 2 * H
    client.post_form(f"/proposals/{p.id}/feedback", {"feedback": "已修"})
    login_as(user=world.officer)
    assert not _on_street_list(client, p)
    assert f'href="/proposals/{p.id}"' in client.get("/staff/street/proposals?show=all").get_data(
        as_text=True
    )
    assert "Answered late" in text_of(client.hx_get(f"/proposals/{p.id}/clock?lang=en"))


def test_the_street_list_is_for_the_officers_of_that_street(
    client, world, login_as, make_street, make_user, make_grant, clock, sweep
):
    p = accepted(world)
    sweep(T0 + DAY)
    other = make_user()
    make_grant(other, "street", make_street())
    login_as(user=other)
    assert not _on_street_list(client, p)
    login_as(user=world.secretary)
    assert client.get("/staff/street/proposals").status_code == 403
    login_as(user=world.residents[0])
    assert client.get("/staff/street/proposals").status_code == 403


def test_clock_fragment_and_page_without_js(client, world, clock):
    p = accepted(world, complexity="complex")
    clock.now = T0 + 2 * H
    frag = client.hx_get(f"/proposals/{p.id}/clock?lang=en")
    html = frag.get_data(as_text=True)
    assert "<html" not in html and f'id="clock-{p.id}"' in html
    assert f'hx-get="/proposals/{p.id}/clock"' in html and 'hx-swap="outerHTML"' in html
    assert "Time left: 2 d 22 h 0 min" in text_of(frag)
    assert "HX-Request" in frag.headers["Vary"]
    page = client.get(f"/proposals/{p.id}/clock?lang=en")
    assert "<html" in page.get_data(as_text=True) and "Time left: 2 d 22 h 0 min" in text_of(page)
    assert_csp_clean(page.get_data(as_text=True))


def test_a_stopped_clock_stops_polling(client, world, clock):
    p = accepted(world, responsible="community")
    service.respond(world.secretary, p.id, "好了", T0 + H)
    db.session.commit()
    html = client.hx_get(f"/proposals/{p.id}/clock?lang=en").get_data(as_text=True)
    assert "hx-trigger" not in html and "Answered in time" in html
    q = make_proposal(world, title="还没受理的问题")
    assert "hx-trigger" not in client.hx_get(f"/proposals/{q.id}/clock").get_data(as_text=True)


def test_reopening_starts_a_new_clock_that_can_be_escalated_again(world, sweep):
    p = accepted(world, responsible="community")
    sweep(T0 + DAY)
    service.respond(world.secretary, p.id, "第一次", T0 + DAY + H)
    service.verdict(world.residents[0], p.id, "unsatisfied", "", T0 + DAY + 2 * H)
    db.session.commit()
    q = db.session.get(Proposal, p.id)
    assert (q.state, q.overdue_at, q.deadline_at) == ("reopened", None, T0 + 2 * DAY + 2 * H)
    assert "escalated: 1" in sweep(T0 + 2 * DAY + 2 * H)
    assert db.session.scalar(select(func.count(Escalation.id))) == 2


def test_the_sweep_closes_feedback_never_judged_after_seven_days(world, sweep):
    p = accepted(world, responsible="community")
    service.respond(world.secretary, p.id, "好了", T0 + H)
    db.session.commit()
    assert "closed without the author's verdict: 0" in sweep(T0 + H + 7 * DAY - S)
    assert "closed without the author's verdict: 1" in sweep(T0 + H + 7 * DAY)
    q = db.session.get(Proposal, p.id)
    assert (q.state, q.outcome) == ("closed", "no_reply")
    assert "closed without the author's verdict: 0" in sweep(T0 + 30 * DAY)


def test_street_list_is_paginated_with_constant_queries(
    client, world, login_as, count_queries, sweep
):
    for i in range(3):
        accepted(world, title=f"问题{i}")
    sweep(T0 + DAY)
    login_as(user=world.officer)
    with count_queries() as small:
        assert client.get("/staff/street/proposals").status_code == 200
    for i in range(30):
        accepted(world, title=f"更多问题{i}")
    sweep(T0 + DAY)
    with count_queries() as big:
        resp = client.get("/staff/street/proposals?lang=en")
    assert big.count == small.count
    assert "Page 1 of 2" in text_of(resp)
    assert "33 escalated proposals" in text_of(resp)
