"""Satisfaction surveys: opened by the community secretary, one answer per household through any
verified member (also under simultaneous requests), results only after closing, and never who
answered what."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from portal.audit import AuditEvent
from portal.errors import Conflict, DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.ratings import service
from portal.ratings.models import (
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyResponse,
)
from tests.conftest import text_of
from tests.web.test_rating_kit import make_company, sign, units_of


def _open_survey(secretary, compound, areas=("cleaning", "security"), hours=48):
    now = utcnow()
    s = service.create_survey(
        secretary,
        compound,
        title="2025年物业服务满意度测评",
        areas=list(areas),
        opens_at=now,
        closes_at=now + timedelta(hours=hours),
        now=now,
    )
    db.session.commit()
    return s


@pytest.fixture
def setup(make_compound, make_user, make_grant):
    compound = make_compound(name="和平花园", buildings=1, units_per_building=4)
    company = make_company()
    sign(compound, company)
    secretary = make_user()
    make_grant(secretary, "secretary", compound.community)
    return compound, company, secretary


def _answer(client, survey, unit_id, cleaning=4, security=5, comment=""):
    return client.post_form(
        f"/surveys/{survey.id}/respond",
        {
            "unit": str(unit_id),
            "area_cleaning": str(cleaning),
            "area_security": str(security),
            "comment": comment,
        },
    )


def test_secretary_opens_a_survey(client, login_as, setup):
    compound, company, _s = setup
    secretary = login_as("secretary", compound.community)
    page = client.get(f"/ratings/surveys/new?compound={compound.code}")
    assert page.status_code == 200
    today = service.local_today(utcnow())
    resp = client.post_form(
        f"/ratings/surveys/new?compound={compound.code}",
        {
            "title": "季度测评",
            "areas": ["cleaning", "greening", "repairs"],
            "opens_date": today.isoformat(),
            "opens_time": "23:59",
            "closes_date": (today + timedelta(days=10)).isoformat(),
            "closes_time": "20:00",
        },
    )
    assert resp.status_code == 302
    s = db.session.scalar(select(Survey))
    assert s.areas == ["cleaning", "greening", "repairs"] and s.company_id == company.id
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "survey.created")).actor_id
        == secretary.id
    )


@pytest.mark.parametrize(
    ("day", "at", "scheduled"),
    [(0, "00:00", False), (1, "08:00", True)],
    ids=["midnight-today-opens-now", "tomorrow-is-scheduled"],
)
def test_the_flash_says_whether_the_survey_is_open_or_only_scheduled(
    client, login_as, setup, day, at, scheduled
):
    compound, *_ = setup
    login_as("secretary", compound.community)
    client.set_cookie("lang", "en")
    today = service.local_today(utcnow())
    resp = client.post_form(
        f"/ratings/surveys/new?compound={compound.code}",
        {
            "title": "季度测评",
            "areas": ["cleaning"],
            "opens_date": (today + timedelta(days=day)).isoformat(),
            "opens_time": at,
            "closes_date": (today + timedelta(days=10)).isoformat(),
            "closes_time": "20:00",
        },
        follow_redirects=True,
    )
    page = text_of(resp)
    assert ("The survey is scheduled: it opens" in page) is scheduled
    assert ("The survey has been opened." in page) is not scheduled
    survey = db.session.scalar(select(Survey))
    assert service.survey_state(survey, utcnow()) == ("scheduled" if scheduled else "open")


def test_survey_needs_areas_and_a_closing_after_opening(client, login_as, setup):
    compound, *_ = setup
    login_as("secretary", compound.community)
    today = service.local_today(utcnow())
    client.set_cookie("lang", "en")
    resp = client.post_form(
        f"/ratings/surveys/new?compound={compound.code}",
        {
            "title": "x",
            "opens_date": today.isoformat(),
            "opens_time": "23:00",
            "closes_date": today.isoformat(),
            "closes_time": "22:00",
        },
    )
    assert resp.status_code == 422 and "Choose at least one service area" in text_of(resp)
    resp = client.post_form(
        f"/ratings/surveys/new?compound={compound.code}",
        {
            "title": "x",
            "areas": ["cleaning"],
            "opens_date": today.isoformat(),
            "opens_time": "23:00",
            "closes_date": today.isoformat(),
            "closes_time": "22:00",
        },
    )
    assert resp.status_code == 422 and "must close after it opens" in text_of(resp)
    assert db.session.scalar(select(func.count(Survey.id))) == 0


@pytest.mark.parametrize("role", ["street", "committee", "company", None])
def test_only_the_secretary_opens_surveys(client, login_as, setup, role):
    compound, company, _s = setup
    scope = {"street": compound.community.street, "committee": compound, "company": company}
    login_as(role, scope.get(role))
    assert client.get(f"/ratings/surveys/new?compound={compound.code}").status_code == 403


def test_verified_member_answers_for_the_household(client, login_as, setup, make_claim):
    compound, _c, secretary = setup
    s = _open_survey(secretary, compound)
    unit = units_of(compound)[0]
    resident = login_as()
    make_claim(resident, unit, status="verified")
    page = text_of(client.get(f"/surveys/{s.id}?lang=en"))
    assert "Your household's answers" in page and f"Answering for {unit.label}" in page
    resp = _answer(client, s, unit.id, 4, 5, "楼道灯坏了")
    assert resp.status_code == 302
    assert db.session.scalar(select(SurveyParticipation)).unit_id == unit.id
    response = db.session.scalar(select(SurveyResponse))
    assert response.comment == "楼道灯坏了" and len(response.id) == 32
    answers = {a.area: a.score for a in db.session.scalars(select(SurveyAnswer))}
    assert answers == {"cleaning": 4, "security": 5}
    db.session.expire_all()
    assert db.session.get(Survey, s.id).response_count == 1
    assert "already answered" in text_of(client.get(f"/surveys/{s.id}?lang=en"))


def test_second_member_of_the_household_is_told_it_has_answered(
    client, login_as, setup, make_claim, make_user
):
    compound, _c, secretary = setup
    s = _open_survey(secretary, compound)
    unit = units_of(compound)[0]
    first = make_user()
    make_claim(first, unit, status="verified")
    service.respond(first, s.id, unit.id, {"cleaning": 3, "security": 3}, "", utcnow())
    db.session.commit()
    second = login_as()
    make_claim(second, unit, relation="family", status="verified")
    client.set_cookie("lang", "en")
    assert "already answered" in text_of(client.get(f"/surveys/{s.id}"))
    resp = _answer(client, s, unit.id)
    assert resp.status_code == 409 and "already answered" in text_of(resp)
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 1


def test_unverified_claimants_and_strangers_cannot_answer(client, login_as, setup, make_claim):
    compound, _c, secretary = setup
    s = _open_survey(secretary, compound)
    unit = units_of(compound)[0]
    pending = login_as()
    make_claim(pending, unit, status="pending")
    client.set_cookie("lang", "en")
    assert "Only verified residents" in text_of(client.get(f"/surveys/{s.id}"))
    assert _answer(client, s, unit.id).status_code == 403
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 0


def test_a_member_cannot_answer_for_another_household(client, login_as, setup, make_claim):
    compound, _c, secretary = setup
    s = _open_survey(secretary, compound)
    mine, other = units_of(compound)[:2]
    resident = login_as()
    make_claim(resident, mine, status="verified")
    resp = _answer(client, s, other.id)
    assert resp.status_code == 422
    assert db.session.scalar(select(func.count(SurveyParticipation.unit_id))) == 0


def test_every_area_must_be_rated(client, login_as, setup, make_claim):
    compound, _c, secretary = setup
    s = _open_survey(secretary, compound)
    unit = units_of(compound)[0]
    resident = login_as()
    make_claim(resident, unit, status="verified")
    client.set_cookie("lang", "en")
    resp = client.post_form(
        f"/surveys/{s.id}/respond", {"unit": str(unit.id), "area_cleaning": "4"}
    )
    assert resp.status_code == 422 and "Choose a rating from 1 to 5" in text_of(resp)
    resp = client.post_form(
        f"/surveys/{s.id}/respond",
        {"unit": str(unit.id), "area_cleaning": "9", "area_security": "4"},
    )
    assert resp.status_code == 422
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 0


def test_results_only_after_close_with_counts_and_averages(
    client, login_as, setup, make_claim, make_user
):
    compound, _c, secretary = setup
    s = _open_survey(secretary, compound)
    for unit, (c, sec) in zip(units_of(compound), [(5, 4), (4, 4), (3, 5), (5, 2)], strict=True):
        user = make_user()
        make_claim(user, unit, status="verified")
        service.respond(user, s.id, unit.id, {"cleaning": c, "security": sec}, "评论", utcnow())
        db.session.commit()
    client.set_cookie("lang", "en")
    open_page = text_of(client.get(f"/surveys/{s.id}"))
    assert "Results" not in open_page and "4 households have answered" in open_page
    login_as("secretary", compound.community)
    resp = client.post_form(f"/surveys/{s.id}/close")
    assert resp.status_code == 302
    client.post_form("/logout")
    text = text_of(client.get(f"/surveys/{s.id}"))
    # cleaning 5+4+3+5 = 17/4 = 4.25; security 4+4+5+2 = 15/4 = 3.75; all 32/8 = 4.00
    assert "Average of all answers: 4.00 out of 5" in text
    assert re.search(r"Cleaning 4\.25 .*? 5 2 4 1 3 1 2 0 1 0 4 answers", text)
    assert re.search(r"Security 3\.75 .*? 5 1 4 2 3 0 2 1 1 0 4 answers", text)
    assert "评论" not in text  # comments are not public
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "survey.closed_early"))


def test_staff_see_comments_after_close_never_with_households(
    client, login_as, setup, make_claim, make_user
):
    compound, company, secretary = setup
    s = _open_survey(secretary, compound)
    unit = units_of(compound)[0]
    user = make_user(name="王建国")
    make_claim(user, unit, status="verified")
    service.respond(user, s.id, unit.id, {"cleaning": 2, "security": 2}, "保洁不到位", utcnow())
    service.close_survey(secretary, s.id, utcnow())
    db.session.commit()
    login_as("company", company)
    text = text_of(client.get(f"/surveys/{s.id}"))
    assert "保洁不到位" in text
    assert unit.label not in text and "王建国" not in text and "王*" not in text


def test_answers_cannot_be_linked_to_households_or_people():
    """By construction: no column links a response to a unit, a user or a time."""
    from portal.ratings.models import SurveyAnswer as A
    from portal.ratings.models import SurveyParticipation as P
    from portal.ratings.models import SurveyResponse as R

    assert {c.name for c in inspect(R).columns} == {"id", "survey_id", "comment"}
    assert {c.name for c in inspect(A).columns} == {"response_id", "area", "survey_id", "score"}
    assert {c.name for c in inspect(P).columns} == {"survey_id", "unit_id"}
    # no sequential id that could pair a participation with a response
    assert [c.name for c in inspect(P).primary_key] == ["survey_id", "unit_id"]
    assert str(inspect(R).primary_key[0].type).startswith("VARCHAR")


def test_resident_answer_is_not_audited_with_the_person(client, login_as, setup, make_claim):
    compound, _c, secretary = setup
    s = _open_survey(secretary, compound)
    unit = units_of(compound)[0]
    resident = login_as()
    make_claim(resident, unit, status="verified")
    _answer(client, s, unit.id)
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.actor_id == resident.id)
        )
        == 0
    )


def test_closed_and_scheduled_surveys_take_no_answers(client, login_as, setup, make_claim):
    compound, _c, secretary = setup
    now = utcnow()
    later = service.create_survey(
        secretary,
        compound,
        title="下月测评",
        areas=["cleaning"],
        opens_at=now + timedelta(days=3),
        closes_at=now + timedelta(days=9),
        now=now,
    )
    db.session.commit()
    unit = units_of(compound)[0]
    resident = login_as()
    make_claim(resident, unit, status="verified")
    assert (
        client.post_form(
            f"/surveys/{later.id}/respond", {"unit": str(unit.id), "area_cleaning": "4"}
        ).status_code
        == 409
    )
    assert client.get("/surveys/999").status_code == 404


def test_compound_surveys_list_and_tab(client, setup):
    compound, _c, secretary = setup
    s = _open_survey(secretary, compound)
    assert s.title in text_of(client.get(f"/compounds/{compound.code}/surveys"))
    assert s.title in text_of(client.get(f"/compounds/{compound.code}/ratings"))


def test_survey_page_queries_stay_constant(client, setup, make_claim, make_user, count_queries):
    compound, _c, secretary = setup
    s = _open_survey(secretary, compound)
    service.close_survey(secretary, s.id, utcnow())
    db.session.commit()
    with count_queries() as q1:
        client.get(f"/surveys/{s.id}")
    s2 = _open_survey(secretary, compound)
    for unit in units_of(compound):
        user = make_user()
        make_claim(user, unit, status="verified")
        service.respond(user, s2.id, unit.id, {"cleaning": 4, "security": 3}, "x", utcnow())
    service.close_survey(secretary, s2.id, utcnow())
    db.session.commit()
    with count_queries() as q2:
        client.get(f"/surveys/{s2.id}")
    assert q1.count == q2.count


def test_one_answer_per_household_under_simultaneous_requests(app, setup, make_claim, make_user):
    """Eight members of one household press "send" at the same moment: one answer counts."""
    compound, _c, secretary = setup
    s = _open_survey(secretary, compound)
    unit = units_of(compound)[0]
    members = []
    for _ in range(8):
        user = make_user()
        make_claim(user, unit, relation="family", status="verified")
        members.append(user.id)
    survey_id, unit_id = s.id, unit.id
    barrier = threading.Barrier(len(members))
    outcomes, lock = [], threading.Lock()

    def run(user_id):
        from portal.accounts.models import User

        with app.app_context():
            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                service.with_retry(
                    service.respond,
                    user,
                    survey_id,
                    unit_id,
                    {"cleaning": 5, "security": 5},
                    "",
                    utcnow(),
                )
                result = "ok"
            except Conflict:
                result = "already"
            except DomainError as e:
                result = f"domain:{type(e).__name__}"
            except Exception as e:  # noqa: BLE001
                result = f"error:{type(e).__name__}:{e}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(uid,)) for uid in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["already"] * 7 + ["ok"], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 1
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 2
    assert db.session.get(Survey, survey_id).response_count == 1


@pytest.mark.parametrize("role", ["street", "committee", None])
def test_only_the_secretary_closes_a_survey(client, login_as, setup, role):
    compound, _company, secretary = setup
    s = _open_survey(secretary, compound)
    scope = {"street": compound.community.street, "committee": compound}
    login_as(role, scope.get(role))
    assert client.post_form(f"/surveys/{s.id}/close").status_code == 403
    db.session.expire_all()
    assert db.session.get(Survey, s.id).closed_early is False
