"""Residents' public questions on statement lines, the company's public answers, and the
overdue mark after the configured number of days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.errors import InvalidTransition
from portal.extensions import db
from portal.models_base import utcnow
from portal.transparency import service
from portal.transparency.models import FeeQuestion
from tests.conftest import text_of
from tests.web.test_fee_support import *  # noqa: F403
from tests.web.test_fee_support import publish


@pytest.fixture
def app_config():
    return {"FEE_QUESTION_OVERDUE_DAYS": 3}


@pytest.fixture
def published(fee_place, staff, secretary):
    return publish(fee_place, staff, secretary)


def questions() -> list[FeeQuestion]:
    db.session.expire_all()
    return list(db.session.scalars(select(FeeQuestion).order_by(FeeQuestion.id)))


def test_a_verified_resident_asks_publicly_under_a_masked_name(
    client, published, resident, login_as
):
    line = published.lines[0]
    login_as(user=resident)
    page = text_of(client.get(f"/fees/lines/{line.id}?lang=en"))
    assert "Ask publicly" in page
    resp = client.post_form(f"/fees/lines/{line.id}/questions", {"body": "物业费为什么比上月少？"})
    assert resp.status_code == 302
    [q] = questions()
    assert q.user_id == resident.id and q.period_key == "2026-01"
    client.post_form("/logout")
    public = text_of(client.get(f"/fees/lines/{line.id}?lang=en"))
    assert "物业费为什么比上月少？" in public and "李**" in public and "李秀英" not in public
    assert "Awaiting the company's answer" in public
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fee.question_asked"))
    assert ev.actor_id == resident.id


def test_who_may_ask(client, published, fee_place, make_user, make_claim, login_as):
    line = published.lines[0]
    resp = client.post_form(f"/fees/lines/{line.id}/questions", {"body": "匿名提问可以吗"})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    pending = make_user()
    from tests.factories import first_unit

    make_claim(pending, first_unit(fee_place.compound), status="pending")
    login_as(user=pending)
    assert "Only residents verified in this compound can ask." in text_of(
        client.get(f"/fees/lines/{line.id}?lang=en")
    )
    resp = client.post_form(f"/fees/lines/{line.id}/questions", {"body": "我还没认证能问吗"})
    assert resp.status_code == 403
    assert questions() == []


def test_a_question_with_a_phone_number_is_refused(client, published, resident, login_as):
    login_as(user=resident)
    resp = client.post_form(
        f"/fees/lines/{published.lines[0].id}/questions?lang=en",
        {"body": "请打我电话 139 1234 5678"},
    )
    assert resp.status_code == 422
    assert "leave phone numbers" in text_of(resp)
    assert questions() == []


def test_the_company_answers_inline_and_only_once(
    client, published, resident, staff, secretary, login_as
):
    q = service.ask(resident, published.lines[0], "请公开收费明细", utcnow())
    db.session.commit()
    login_as(user=secretary)
    assert client.post_form(f"/fees/questions/{q.id}/answer", {"answer": "x"}).status_code == 403
    login_as(user=staff)
    page = client.get(f"/compounds/{published.compound.code}/fees/2026-01/questions?lang=en")
    assert f'hx-post="/fees/questions/{q.id}/answer"' in page.get_data(as_text=True)
    empty = client.post_form(f"/fees/questions/{q.id}/answer?lang=en", {"answer": ""}, htmx=True)
    assert empty.status_code == 200 and "Write the answer." in text_of(empty)
    resp = client.post_form(
        f"/fees/questions/{q.id}/answer?lang=en",
        {"answer": "明细见公告栏，下周一起公示。"},
        htmx=True,
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<html" not in html and f'id="question-{q.id}"' in html
    assert "The property company answered" in text_of(resp)
    [saved] = questions()
    assert saved.answer == "明细见公告栏，下周一起公示。" and saved.answered_by_id == staff.id
    again = client.post_form(f"/fees/questions/{q.id}/answer?lang=en", {"answer": "改一下"})
    assert again.status_code == 303
    assert questions()[0].answer == "明细见公告栏，下周一起公示。"
    ev = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fee.question_answered"))
    assert ev.actor_id == staff.id
    # without JavaScript: the form posts and redirects
    q2 = service.ask(resident, published.lines[1], "停车费怎么算的", utcnow())
    db.session.commit()
    resp = client.post_form(f"/fees/questions/{q2.id}/answer", {"answer": "按月计费。"})
    assert resp.status_code == 302


def test_unanswered_questions_turn_overdue_after_the_configured_days(
    client, published, resident, staff
):
    code = published.compound.code
    fresh = service.ask(resident, published.lines[0], "刚刚提的问题", utcnow() - timedelta(days=2))
    old = service.ask(resident, published.lines[1], "四天前提的问题", utcnow() - timedelta(days=4))
    answered = service.ask(
        resident, published.lines[2], "十天前提的问题", utcnow() - timedelta(days=10)
    )
    service.answer(staff, answered, "已答复", utcnow())
    db.session.commit()
    overdue = text_of(
        client.get(f"/compounds/{code}/fees/2026-01/questions?status=overdue&lang=en")
    )
    assert "四天前提的问题" in overdue
    assert "刚刚提的问题" not in overdue and "十天前提的问题" not in overdue
    assert "Overdue: unanswered for more than 3 days" in overdue
    unanswered = text_of(
        client.get(f"/compounds/{code}/fees/2026-01/questions?status=open&lang=en")
    )
    assert "刚刚提的问题" in unanswered and "四天前提的问题" in unanswered
    assert "十天前提的问题" not in unanswered
    frag = client.hx_get(f"/compounds/{code}/fees/2026-01/questions?status=answered&lang=en")
    assert "<html" not in frag.get_data(as_text=True) and "十天前提的问题" in text_of(frag)
    tab = text_of(client.get(f"/compounds/{code}/fees?lang=en"))
    assert "1 overdue" in tab and "2 unanswered" in tab
    assert fresh.id and old.id


def test_a_revision_does_not_hide_questions(client, published, resident, staff, secretary):
    q = service.ask(resident, published.lines[0], "修订前提的问题", utcnow())
    rev = service.start_revision(staff, published, "更正", utcnow())
    service.submit(staff, rev, utcnow())
    service.publish(secretary, rev, utcnow())
    db.session.commit()
    code = published.compound.code
    page = text_of(client.get(f"/compounds/{code}/fees/2026-01?lang=en"))
    assert "修订前提的问题" in page
    new_line = next(x for x in rev.lines if x.category == "property_fees")
    assert "修订前提的问题" in text_of(client.get(f"/fees/lines/{new_line.id}"))
    # questions go to the current revision
    with pytest.raises(InvalidTransition):
        service.ask(resident, published.lines[0], "再问旧版本", utcnow())
    assert q.id


def test_the_company_sees_its_waiting_questions(client, published, resident, staff, login_as):
    service.ask(resident, published.lines[0], "等待回答的问题", utcnow())
    db.session.commit()
    login_as(user=staff)
    page = text_of(client.get("/staff/fees/questions?lang=en"))
    assert "等待回答的问题" in page and "和平花园" in page
    login_as(user=resident)
    assert client.get("/staff/fees/questions").status_code == 403
