"""Point 2: accept / reject / merge, the agenda, the conclusion, feedback and the author's verdict,
each on the public timeline; refused moves say why and change nothing."""

# ruff: noqa: F811  (the shared fixtures are imported, then requested by name)

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.proposals import service
from portal.proposals.models import Event, Proposal, Settings, Support
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


def _state(p):
    db.session.expire_all()
    return db.session.get(Proposal, p.id)


def _snapshot(p):
    q = _state(p)
    events = db.session.scalar(select(func.count(Event.id)).where(Event.proposal_id == p.id))
    return (q.state, q.complexity, q.responsible, q.feedback, q.support_count, events)


def test_the_secretary_accepts_with_complexity_and_party(client, world, login_as, clock):
    p = make_proposal(world)
    login_as(user=world.secretary)
    page = client.get(f"/proposals/{p.id}?lang=en").get_data(as_text=True)
    assert "Accept and start the clock" in page
    assert_csp_clean(page)
    resp = client.post_form(
        f"/proposals/{p.id}/accept", {"complexity": "hard", "responsible": "company"}
    )
    assert resp.status_code == 302
    q = _state(p)
    assert (q.state, q.complexity, q.responsible) == ("accepted", "hard", "company")
    assert q.accepted_at == T0 and q.deadline_at == T0 + 48 * H
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.accepted"))
    assert ev.actor_id == world.secretary.id and ev.object_id == p.id
    text = text_of(client.get(f"/proposals/{p.id}?lang=en"))
    assert "Hard (answer within 48 hours)" in text and "Property company" in text
    assert "Community secretary" in text  # the timeline's who


def test_a_secretary_of_another_community_cannot_accept(client, world, login_as, clock):
    p = make_proposal(world)
    before = _snapshot(p)
    login_as(user=world.other_secretary)
    resp = client.post_form(
        f"/proposals/{p.id}/accept?lang=en", {"complexity": "general", "responsible": "company"}
    )
    assert resp.status_code == 403
    assert "Only the community secretary of 向阳社区 can do this." in text_of(resp)
    assert _snapshot(p) == before
    # and the page offers them no buttons
    assert "Accept and start the clock" not in client.get(f"/proposals/{p.id}?lang=en").get_data(
        as_text=True
    )


def test_residents_and_staff_of_other_roles_cannot_accept(client, world, login_as, clock):
    p = make_proposal(world)
    for user in (world.residents[1], world.company_staff, world.officer, world.committee):
        login_as(user=user)
        resp = client.post_form(
            f"/proposals/{p.id}/accept", {"complexity": "general", "responsible": "company"}
        )
        assert resp.status_code == 403, user.display_name
    assert _state(p).state == "collect"


def test_moves_on_unknown_proposals_are_404(client, world, login_as):
    login_as(user=world.secretary)
    for action in ("accept", "reject", "merge", "schedule", "conclude", "feedback", "verdict"):
        assert client.post_form(f"/proposals/999999/{action}", {}).status_code == 404


def test_accept_without_choices_is_422_and_changes_nothing(client, world, login_as, clock):
    p = make_proposal(world)
    login_as(user=world.secretary)
    resp = client.post_form(f"/proposals/{p.id}/accept?lang=en", {})
    assert resp.status_code == 422
    assert _state(p).state == "collect"


def test_reject_needs_a_public_reason(client, world, login_as, clock):
    p = make_proposal(world)
    login_as(user=world.secretary)
    assert client.post_form(f"/proposals/{p.id}/reject", {"reject-reason": ""}).status_code == 422
    resp = client.post_form(f"/proposals/{p.id}/reject", {"reject-reason": "属于业主私人纠纷"})
    assert resp.status_code == 302
    assert _state(p).state == "rejected"
    text = text_of(client.get(f"/proposals/{p.id}?lang=en"))
    assert "属于业主私人纠纷" in text and "Not accepted" in text


def test_feedback_before_acceptance_is_refused_clearly(client, world, login_as, clock):
    p = make_proposal(world)
    before = _snapshot(p)
    login_as(user=world.company_staff)
    resp = client.post_form(f"/proposals/{p.id}/feedback?lang=en", {"feedback": "已修好"})
    assert resp.status_code == 409
    assert (
        "Feedback can be published only after the community has accepted the proposal; "
        "this one is: Collecting." in text_of(resp)
    )
    assert _snapshot(p) == before


def test_the_company_under_contract_publishes_feedback_and_the_author_is_satisfied(
    client, world, login_as, clock
):
    p = accepted(world, responsible="company")
    login_as(user=world.other_company_staff)  # not the contracted company
    assert client.post_form(f"/proposals/{p.id}/feedback", {"feedback": "x"}).status_code == 403
    login_as(user=world.company_staff)
    clock.now = T0 + 3 * H
    page = client.get(f"/proposals/{p.id}?lang=en").get_data(as_text=True)
    assert "Publish the feedback" in page
    resp = client.post_form(f"/proposals/{p.id}/feedback", {"feedback": "已更换**两盏**灯泡。"})
    assert resp.status_code == 302
    q = _state(p)
    assert (q.state, q.responded_at, q.first_response_at) == ("feedback", T0 + 3 * H, T0 + 3 * H)
    assert not q.ever_overdue
    # only the author judges
    login_as(user=world.residents[1])
    assert (
        client.post_form(f"/proposals/{p.id}/verdict", {"verdict": "satisfied"}).status_code == 403
    )
    login_as(user=world.residents[0])
    resp = client.post_form(f"/proposals/{p.id}/verdict", {"verdict": "satisfied"})
    assert resp.status_code == 302
    q = _state(p)
    assert (q.state, q.outcome, q.resolved_at) == ("closed", "satisfied", T0 + 3 * H)
    text = text_of(client.get(f"/proposals/{p.id}?lang=en"))
    assert "<strong>两盏</strong>" in client.get(f"/proposals/{p.id}").get_data(as_text=True)
    for step in (
        "Submitted",
        "Accepted",
        "Feedback published",
        "The author is satisfied",
        "Closed",
    ):
        assert step in text, step


@pytest.mark.parametrize(
    "party, staff, others",
    [
        ("community", "secretary", ["company_staff", "committee", "officer"]),
        ("committee", "committee", ["company_staff", "secretary", "officer"]),
        ("street", "officer", ["company_staff", "committee", "secretary"]),
    ],
)
def test_each_party_answers_its_own(client, world, login_as, clock, party, staff, others):
    p = accepted(world, responsible=party)
    for other in others:
        login_as(user=getattr(world, other))
        resp = client.post_form(f"/proposals/{p.id}/feedback", {"feedback": "处理了"})
        assert resp.status_code == 403, other
    login_as(user=getattr(world, staff))
    assert (
        client.post_form(f"/proposals/{p.id}/feedback", {"feedback": "处理了"}).status_code == 302
    )
    assert _state(p).state == "feedback"
    ev = db.session.scalar(
        select(Event).where(Event.proposal_id == p.id, Event.action == "feedback")
    )
    assert ev.actor_role == party


def test_unsatisfied_reopens_once_then_closes(client, world, login_as, clock):
    p = accepted(world, responsible="community")
    login_as(user=world.secretary)
    client.post_form(f"/proposals/{p.id}/feedback", {"feedback": "第一次处理"})
    login_as(user=world.residents[0])
    clock.now = T0 + 5 * H
    resp = client.post_form(
        f"/proposals/{p.id}/verdict", {"verdict": "unsatisfied", "note": "灯还是不亮"}
    )
    assert resp.status_code == 302
    q = _state(p)
    assert (q.state, q.reopened) == ("reopened", True)
    assert q.deadline_at == T0 + 5 * H + 24 * H  # a new general clock
    assert q.first_response_at == T0  # the first response stays the first
    login_as(user=world.secretary)
    client.post_form(f"/proposals/{p.id}/feedback", {"feedback": "第二次处理"})
    login_as(user=world.residents[0])
    page = client.get(f"/proposals/{p.id}?lang=en").get_data(as_text=True)
    assert "this verdict closes the case" in page
    client.post_form(f"/proposals/{p.id}/verdict", {"verdict": "unsatisfied"})
    q = _state(p)
    assert (q.state, q.outcome) == ("closed", "unsatisfied")
    text = text_of(client.get(f"/proposals/{p.id}?lang=en"))
    assert "Reopened" in text and "灯还是不亮" in text and "Not satisfied" in text


def test_the_agenda_needs_the_threshold_then_conclusion_then_feedback(
    client, world, login_as, clock
):
    db.session.add(Settings(compound_id=world.compound.id, support_threshold=3))
    db.session.commit()
    p = accepted(world, responsible="committee")
    login_as(user=world.secretary)
    resp = client.post_form(f"/proposals/{p.id}/schedule?lang=en", {"meeting_on": "2026-03-10"})
    assert resp.status_code == 409
    assert "A proposal goes on the agenda with 3 supports; this one has 1." in text_of(resp)
    assert _state(p).state == "accepted"
    for r in world.residents[1:3]:
        service.support(r, p.id, T0)
    db.session.commit()
    # a date in the past is refused
    resp = client.post_form(f"/proposals/{p.id}/schedule", {"meeting_on": "2026-03-01"})
    assert resp.status_code == 422 and _state(p).state == "accepted"
    clock.now = T0 + 2 * H
    resp = client.post_form(f"/proposals/{p.id}/schedule", {"meeting_on": "2026-03-10"})
    assert resp.status_code == 302
    q = _state(p)
    assert (q.state, q.meeting_on, q.responded_at) == (
        "deliberating",
        date(2026, 3, 10),
        T0 + 2 * H,
    )
    # feedback must wait for the meeting's conclusion
    login_as(user=world.committee)
    resp = client.post_form(f"/proposals/{p.id}/feedback?lang=en", {"feedback": "做了"})
    assert resp.status_code == 409
    assert "Record the joint meeting's conclusion before publishing the feedback." in text_of(resp)
    login_as(user=world.secretary)
    assert (
        client.post_form(f"/proposals/{p.id}/conclude", {"conclusion": "增设路灯两盏"}).status_code
        == 302
    )
    assert (
        client.post_form(f"/proposals/{p.id}/conclude", {"conclusion": "再来"}).status_code == 409
    )
    login_as(user=world.committee)
    assert (
        client.post_form(f"/proposals/{p.id}/feedback", {"feedback": "已增设"}).status_code == 302
    )
    assert _state(p).state == "feedback"
    text = text_of(client.get(f"/proposals/{p.id}?lang=en"))
    assert "Put on the joint meeting's agenda" in text and "Meeting on 2026-03-10" in text
    assert "增设路灯两盏" in text


def test_merge_into_a_proposal_of_the_same_community_moves_the_supports(
    client, world, login_as, clock
):
    target = make_proposal(world, title="路灯问题", author=world.residents[1])
    dup = make_proposal(world, title="楼道灯不亮", author=world.residents[0])
    service.support(world.residents[2], dup.id, T0)
    service.support(world.residents[1], dup.id, T0)  # already supports the target (author)
    db.session.commit()
    elsewhere = make_proposal(world, author=world.outsider, compound=world.other_compound)
    login_as(user=world.secretary)
    page = client.get(f"/proposals/{dup.id}").get_data(as_text=True)
    assert f'value="{target.id}"' in page and f'value="{elsewhere.id}"' not in page
    # another community's proposal cannot be chosen
    resp = client.post_form(f"/proposals/{dup.id}/merge", {"target": elsewhere.id})
    assert resp.status_code == 422 and _state(dup).state == "collect"
    resp = client.post_form(f"/proposals/{dup.id}/merge", {"target": target.id})
    assert resp.status_code == 302
    assert (_state(dup).state, _state(dup).merged_into_id) == ("merged", target.id)
    t = _state(target)
    assert t.support_count == 3  # residents 1 (author), 0 and 2 — each once
    assert (
        db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == target.id))
        == 3
    )
    text = text_of(client.get(f"/proposals/{dup.id}?lang=en"))
    assert f"Go to proposal #{target.id}" in text


def test_the_threshold_is_a_compound_setting_for_its_secretary(client, world, login_as):
    url = f"/compounds/{world.compound.code}/proposals/settings"
    login_as(user=world.other_secretary)
    assert client.get(url).status_code == 403
    login_as(user=world.secretary)
    assert 'value="10"' in client.get(url).get_data(as_text=True)  # the default
    assert client.post_form(url, {"support_threshold": "0"}).status_code == 422
    assert client.post_form(url, {"support_threshold": "25"}).status_code == 302
    assert service.threshold_for(world.compound) == 25
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "proposal.threshold_set")
    ).detail == {"old": 10, "new": 25}


def test_staff_moves_are_audited(client, world, login_as, clock):
    p = accepted(world, responsible="community")
    login_as(user=world.secretary)
    client.post_form(f"/proposals/{p.id}/feedback", {"feedback": "好了"})
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"proposal.submitted", "proposal.accepted", "proposal.feedback"} <= actions


def test_csrf_is_required(app, world, login_as, clock):
    app.config["WTF_CSRF_ENABLED"] = True
    p = make_proposal(world)
    login_as(user=world.secretary)
    from tests.conftest import PortalClient

    c = PortalClient(app.test_client())
    with c.c.session_transaction() as s:
        s["_user_id"] = world.secretary.get_id()
    resp = c.c.post(
        f"/proposals/{p.id}/accept", data={"complexity": "general", "responsible": "company"}
    )
    assert resp.status_code == 400
    assert _state(p).state == "collect"
