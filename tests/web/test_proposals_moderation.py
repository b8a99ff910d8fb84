"""Point 4: residents report proposals and comments; the secretary hides (never deletes) with a
public reason, or dismisses; the author still sees their text and why; every action audited."""

# ruff: noqa: F811  (the shared fixtures are imported, then requested by name)

from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.proposals import moderation, service
from portal.proposals.models import Comment, Proposal, Report
from tests.conftest import text_of
from tests.web.test_proposals_fixtures import T0, assert_csp_clean, clock, make_proposal, world  # noqa: F401


def _report(client, p, reason="人身攻击", comment=None, htmx=False):
    data = {"reason": reason}
    if comment is not None:
        data["comment_id"] = comment.id
    return client.post_form(f"/proposals/{p.id}/report?lang=en", data, htmx=htmx)


def test_comments_in_order_with_htmx_and_without(client, world, login_as, clock):
    p = make_proposal(world)
    login_as(user=world.residents[1])
    clock.now = T0
    resp = client.post_form(f"/proposals/{p.id}/comments?lang=en", {"body": "第一条"}, htmx=True)
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)
    assert "Your comment is posted." in text_of(resp)
    login_as(user=world.residents[2])
    resp = client.post_form(f"/proposals/{p.id}/comments", {"body": "第二条"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#comments")
    text = text_of(client.get(f"/proposals/{p.id}"))
    assert text.index("第一条") < text.index("第二条")
    assert "李**" in text and "李秀英" not in text
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).comment_count == 2
    # empty comment: 422, nothing added
    assert client.post_form(f"/proposals/{p.id}/comments", {"body": " "}).status_code == 422
    # non-residents cannot comment
    login_as(user=world.stranger)
    assert client.post_form(f"/proposals/{p.id}/comments", {"body": "路过"}).status_code == 403
    assert db.session.scalar(select(func.count(Comment.id))) == 2


def test_report_then_hide_a_proposal_inline(client, world, login_as, clock):
    p = make_proposal(world, title="骂人的标题", body="不文明的内容")
    login_as(user=world.residents[1])
    resp = _report(client, p, htmx=True)
    assert resp.status_code == 200
    assert "Thank you. The community will look at your report." in text_of(resp)
    resp = _report(client, p, htmx=True)
    assert "You have already reported this" in text_of(resp)
    assert db.session.scalar(select(func.count(Report.id))) == 1

    login_as(user=world.secretary)
    queue = client.get("/staff/proposals/reports?lang=en")
    assert queue.status_code == 200
    text = text_of(queue)
    assert "骂人的标题" in text and "人身攻击" in text and "不文明的内容" in text
    assert_csp_clean(queue.get_data(as_text=True))
    r = db.session.scalar(select(Report))
    # a reason is needed (htmx: the row again with the error)
    resp = client.post_form(f"/staff/proposals/reports/{r.id}/hide", {"reason": ""}, htmx=True)
    assert resp.status_code == 200 and 'aria-invalid="true"' in resp.get_data(as_text=True)
    assert db.session.get(Proposal, p.id).hidden_at is None
    resp = client.post_form(
        f"/staff/proposals/reports/{r.id}/hide?lang=en", {"reason": "含有侮辱性语言"}, htmx=True
    )
    assert resp.status_code == 200
    row = resp.get_data(as_text=True)
    assert row.strip().startswith(f'<li class="report report-hidden" id="report-{r.id}"')
    db.session.expire_all()
    q = db.session.get(Proposal, p.id)
    assert q is not None and q.hidden_reason == "含有侮辱性语言"  # hidden, not deleted
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.hidden"))
    assert ev.actor_id == world.secretary.id and ev.detail["reason"] == "含有侮辱性语言"

    # the public sees the reason, not the text
    client.post("/logout", data={"csrf_token": client.csrf()})
    public = client.get(f"/proposals/{p.id}?lang=en")
    text = text_of(public)
    assert "Hidden by the community: 含有侮辱性语言" in text
    assert "骂人的标题" not in text and "不文明的内容" not in text
    board = text_of(client.get(f"/compounds/{world.compound.code}/proposals?lang=en"))
    assert "Hidden by the community: 含有侮辱性语言" in board and "骂人的标题" not in board
    # the author still sees the text, and why
    login_as(user=world.residents[0])
    text = text_of(client.get(f"/proposals/{p.id}?lang=en"))
    assert "骂人的标题" in text and "不文明的内容" in text
    assert "Hidden by the community: 含有侮辱性语言" in text
    # no more supports or comments on a hidden proposal
    login_as(user=world.residents[2])
    assert client.post_form(f"/proposals/{p.id}/support").status_code == 409


def test_hide_a_comment_without_js(client, world, login_as, clock):
    p = make_proposal(world)
    c = service.comment(world.residents[1], p.id, "难听的话", T0)
    db.session.commit()
    login_as(user=world.residents[2])
    resp = _report(client, p, reason="骂人", comment=c)
    assert resp.status_code == 302
    r = db.session.scalar(select(Report))
    assert r.comment_id == c.id and r.target_key == f"c:{c.id}"
    login_as(user=world.secretary)
    resp = client.post_form(f"/staff/proposals/reports/{r.id}/hide", {"reason": "不文明"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff/proposals/reports")
    db.session.expire_all()
    assert db.session.get(Proposal, p.id).comment_count == 0
    assert db.session.get(Comment, c.id).hidden_at is not None
    client.post("/logout", data={"csrf_token": client.csrf()})
    text = text_of(client.get(f"/proposals/{p.id}?lang=en"))
    assert "Hidden by the community: 不文明" in text and "难听的话" not in text
    login_as(user=world.residents[1])  # the comment's author
    text = text_of(client.get(f"/proposals/{p.id}?lang=en"))
    assert "难听的话" in text and "Hidden by the community: 不文明" in text
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "comment.hidden"))


def test_dismiss_keeps_the_content(client, world, login_as, clock):
    p = make_proposal(world)
    login_as(user=world.residents[1])
    _report(client, p, reason="我不喜欢")
    r = db.session.scalar(select(Report))
    login_as(user=world.secretary)
    resp = client.post_form(f"/staff/proposals/reports/{r.id}/dismiss?lang=en", htmx=True)
    assert resp.status_code == 200 and "Dismissed" in text_of(resp)
    db.session.expire_all()
    assert db.session.get(Report, r.id).status == "dismissed"
    assert db.session.get(Proposal, p.id).hidden_at is None
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "proposal.report_dismissed")
    )
    # decided reports cannot be decided again
    assert (
        client.post_form(f"/staff/proposals/reports/{r.id}/hide", {"reason": "x"}).status_code
        == 409
    )
    assert "我不喜欢" in text_of(client.get("/staff/proposals/reports?status=dismissed"))


def test_the_queue_is_the_secretarys_own_community(client, world, login_as, clock):
    p = make_proposal(world)
    login_as(user=world.residents[1])
    _report(client, p)
    r = db.session.scalar(select(Report))
    login_as(user=world.other_secretary)
    assert "人身攻击" not in text_of(client.get("/staff/proposals/reports"))
    assert (
        client.post_form(f"/staff/proposals/reports/{r.id}/hide", {"reason": "x"}).status_code
        == 403
    )
    assert client.post_form(f"/staff/proposals/reports/{r.id}/dismiss").status_code == 403
    assert client.post_form("/staff/proposals/reports/99999/dismiss").status_code == 404
    login_as(user=world.residents[1])
    assert client.get("/staff/proposals/reports").status_code == 403
    # outsiders cannot report
    login_as(user=world.outsider)
    assert _report(client, p, reason="x").status_code == 403


def test_the_queue_is_paginated_with_constant_queries(
    client, world, login_as, count_queries, clock
):
    p = make_proposal(world)
    login_as(user=world.secretary)
    moderation.report(world.residents[1], p.id, None, "原因", T0)
    for i in range(3):
        c = service.comment(world.residents[1], p.id, f"评论{i}", T0)
        moderation.report(world.residents[2], p.id, c.id, f"原因{i}", T0)
    db.session.commit()
    with count_queries() as small:
        assert client.get("/staff/proposals/reports").status_code == 200
    for i in range(30):
        c = service.comment(world.residents[3], p.id, f"更多{i}", T0)
        moderation.report(world.residents[4], p.id, c.id, f"更多原因{i}", T0)
    db.session.commit()
    with count_queries() as big:
        resp = client.get("/staff/proposals/reports?lang=en")
    assert big.count == small.count
    assert "Page 1 of 2" in text_of(resp)
