"""Volunteer teams, activities, sign-up with waiting list, check-in, hours and points."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.volunteers.models import Activity, Signup, Team
from tests.conftest import text_of
from tests.web.test_volunteers_world import World, now_utc


@pytest.fixture
def world(make_compound, make_user, make_claim, make_grant, make_community) -> World:
    return World(make_compound, make_user, make_claim, make_grant, make_community)


def _signups(activity) -> list[Signup]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Signup).where(Signup.activity_id == activity.id).order_by(Signup.seq)
        )
    )


def _reload(activity) -> Activity:
    db.session.expire_all()
    return db.session.get(Activity, activity.id)


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# ---- public pages ------------------------------------------------------------------------


def test_community_page_lists_upcoming_activities_and_teams(client, world):
    world.activity(title="周末楼道清理")
    world.activity(title="上周的活动", starts_in=timedelta(days=-7))
    resp = client.get(f"/communities/{world.community.code}/volunteers?lang=en")
    assert resp.status_code == 200
    text = text_of(resp)
    assert "周末楼道清理" in text and "上周的活动" not in text
    assert "红管家" in text
    assert "0 of 5 places taken" in text and "Sign-up open" in text
    # the coordinator is named masked, never in full
    assert "李*" in text and "李协调" not in text


def test_unknown_things_are_404(client, world):
    assert client.get("/communities/NOPE/volunteers").status_code == 404
    assert client.get("/communities/NOPE/volunteers/calendar").status_code == 404
    assert client.get("/compounds/NOPE/volunteers/calendar").status_code == 404
    assert client.get("/communities/NOPE/volunteers/summary").status_code == 404
    assert client.get("/volunteers/teams/999").status_code == 404
    assert client.get("/volunteers/activities/999").status_code == 404
    assert client.get("/volunteers/activities/999.ics").status_code == 404
    _login(client, world.secretary)
    assert client.get("/volunteers/activities/999/roster").status_code == 404
    assert client.get("/volunteers/activities/999/edit").status_code == 404
    assert (
        client.post_form("/volunteers/signups/999/attendance", {"mark": "attended"}).status_code
        == 404
    )


def _login(client, user):
    with client.c.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
    return user


def test_compound_tab_shows_the_compound_and_community_teams(client, world):
    world.make_team("环境巡查队")  # a community-wide team: its activities reach every compound
    other = world._make_compound(community=world.community, name="光明小区")
    world.make_team("光明义诊", compound=other)
    world.activity(title="红管家活动")
    resp = client.get(f"/compounds/{world.compound.code}/volunteers?lang=en")
    text = text_of(resp)
    assert "红管家活动" in text and "环境巡查队" in text and "红管家" in text
    assert "光明义诊" not in text
    assert f"/compounds/{world.compound.code}/volunteers/calendar" in resp.get_data(as_text=True)
    frag = client.hx_get(f"/compounds/{world.compound.code}/volunteers")
    assert "<html" not in frag.get_data(as_text=True) and "红管家活动" in frag.get_data(
        as_text=True
    )


def test_activity_page_for_a_visitor_offers_log_in_and_ics(client, world):
    a = world.activity(title="义诊", place="社区服务站", description="带上医保卡")
    text = text_of(client.get(f"/volunteers/activities/{a.id}?lang=en"))
    assert "义诊" in text and "社区服务站" in text and "带上医保卡" in text
    assert "Log in to sign up" in text
    assert "Hours: 2 · points: 2" in text
    html = client.get(f"/volunteers/activities/{a.id}").get_data(as_text=True)
    assert f"/volunteers/activities/{a.id}.ics" in html


def test_activity_time_is_shown_in_beijing_time(client, world):
    from datetime import UTC, datetime

    a = world.activity(starts_at=datetime(2031, 3, 4, 23, 30, tzinfo=UTC))
    text = text_of(client.get(f"/volunteers/activities/{a.id}"))
    assert "2031-03-05 07:30–09:30" in text


def test_sign_up_without_javascript_confirms_a_place(client, world):
    a = world.activity(capacity=2)
    user = _login(client, world.resident("张三"))
    resp = client.post_form(f"/volunteers/activities/{a.id}/signup", {})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/volunteers/activities/{a.id}")
    page = text_of(client.get(resp.headers["Location"] + "?lang=en"))
    assert "Your place is confirmed." in page
    assert "Cancel my sign-up" in page
    rows = _signups(a)
    assert [(r.user_id, r.status) for r in rows] == [(user.id, "confirmed")]
    assert _reload(a).confirmed_count == 1
    assert len(_events("volunteer.signed_up")) == 1


def test_sign_up_with_htmx_returns_the_box_alone(client, world):
    a = world.activity(capacity=1)
    _login(client, world.resident())
    resp = client.post_form(f"/volunteers/activities/{a.id}/signup?lang=en", {}, htmx=True)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<html" not in body and 'id="signup-box"' in body
    assert "You are signed up. Your place is confirmed." in text_of(resp)
    assert "HX-Request" in resp.headers.get("Vary", "")


def test_when_full_sign_ups_queue_on_the_waiting_list_in_order(client, world):
    a = world.activity(capacity=1)
    world.sign_up_before_start(world.resident(), a)
    second = _login(client, world.resident("二号"))
    resp = client.post_form(f"/volunteers/activities/{a.id}/signup?lang=en", {}, htmx=True)
    assert "waiting list (number 1)" in text_of(resp)
    third = world.resident("三号")
    world.sign_up_before_start(third, a)
    text = text_of(client.get(f"/volunteers/activities/{a.id}?lang=en"))
    assert "You are number 1 on the waiting list." in text
    assert "1 of 1 places taken" in text and "2 on the waiting list" in text
    statuses = [(s.user_id, s.status) for s in _signups(a)]
    assert statuses[1:] == [(second.id, "waitlisted"), (third.id, "waitlisted")]
    assert _reload(a).confirmed_count == 1 and _reload(a).waitlist_count == 2


def test_a_cancel_promotes_the_first_in_line_who_sees_it_on_their_page(client, world):
    a = world.activity(capacity=1)
    first = world.resident("一号")
    second = world.resident("二号")
    third = world.resident("三号")
    for u in (first, second, third):
        world.sign_up_before_start(u, a)

    _login(client, first)
    resp = client.post_form(f"/volunteers/activities/{a.id}/cancel?lang=en", {}, htmx=True)
    assert "Your sign-up has been cancelled." in text_of(resp)
    by_user = {s.user_id: s for s in _signups(a)}
    assert by_user[first.id].status == "cancelled"
    assert by_user[second.id].status == "confirmed" and by_user[second.id].promoted_at
    assert by_user[third.id].status == "waitlisted"
    fresh = _reload(a)
    assert (fresh.confirmed_count, fresh.waitlist_count) == (1, 1)
    assert [e.detail["user"] for e in _events("volunteer.promoted")] == [second.id]

    _login(client, second)
    mine = text_of(client.get("/account/volunteering?lang=en"))
    assert "you moved up from the waiting list" in mine and "Place confirmed" in mine
    _login(client, third)
    assert "You are number 1 on the waiting list." in text_of(
        client.get(f"/volunteers/activities/{a.id}?lang=en")
    )


def test_leaving_the_waiting_list_promotes_nobody(client, world):
    a = world.activity(capacity=1)
    first, second, third = (world.resident() for _ in range(3))
    for u in (first, second, third):
        world.sign_up_before_start(u, a)
    _login(client, second)
    client.post_form(f"/volunteers/activities/{a.id}/cancel", {})
    by_user = {s.user_id: s.status for s in _signups(a)}
    assert by_user == {first.id: "confirmed", second.id: "cancelled", third.id: "waitlisted"}
    _login(client, third)
    assert "You are number 1 on the waiting list." in text_of(
        client.get(f"/volunteers/activities/{a.id}?lang=en")
    )


def test_signing_up_again_after_cancelling_goes_to_the_back_of_the_line(client, world):
    a = world.activity(capacity=1)
    first, second = world.resident(), world.resident()
    world.sign_up_before_start(first, a)
    world.sign_up_before_start(second, a)
    _login(client, first)
    client.post_form(f"/volunteers/activities/{a.id}/cancel", {})
    client.post_form(f"/volunteers/activities/{a.id}/signup", {})
    rows = {s.user_id: s for s in _signups(a)}
    assert rows[second.id].status == "confirmed"
    assert rows[first.id].status == "waitlisted" and rows[first.id].seq > rows[second.id].seq
    assert db.session.scalar(select(func.count(Signup.id))) == 2  # the row was reused


# ---- refused moves: a clear message, nothing changed ---------------------------------------


def _nothing_changed(a, before_rows, before_events):
    fresh = _reload(a)
    assert [(s.user_id, s.status, s.seq) for s in _signups(a)] == before_rows
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before_events
    return fresh


def _snapshot(a):
    rows = [(s.user_id, s.status, s.seq) for s in _signups(a)]
    return rows, db.session.scalar(select(func.count(AuditEvent.id)))


@pytest.mark.parametrize("htmx", [False, True])
def test_sign_up_after_the_start_is_refused_and_changes_nothing(client, world, htmx):
    a = world.activity(starts_in=timedelta(minutes=-1), length=timedelta(hours=3))
    _login(client, world.resident())
    rows, events = _snapshot(a)
    resp = client.post_form(f"/volunteers/activities/{a.id}/signup?lang=en", {}, htmx=htmx)
    assert resp.status_code == (200 if htmx else 409)
    assert "This activity has already started, so sign-up and cancellation are closed." in (
        text_of(resp)
    )
    fresh = _nothing_changed(a, rows, events)
    assert fresh.confirmed_count == 0 and fresh.last_seq == 0


def test_cancel_after_the_start_is_refused_and_changes_nothing(client, world):
    a = world.activity(starts_in=timedelta(hours=1))
    user = world.resident()
    world.sign_up(user, a)
    a.starts_at = now_utc() - timedelta(minutes=5)
    db.session.commit()
    _login(client, user)
    rows, events = _snapshot(a)
    resp = client.post_form(f"/volunteers/activities/{a.id}/cancel?lang=en", {})
    assert resp.status_code == 409
    assert "already started" in text_of(resp)
    assert _nothing_changed(a, rows, events).confirmed_count == 1


def test_sign_up_twice_is_refused_with_a_clear_message(client, world):
    a = world.activity()
    user = _login(client, world.resident())
    client.post_form(f"/volunteers/activities/{a.id}/signup", {})
    rows, events = _snapshot(a)
    resp = client.post_form(f"/volunteers/activities/{a.id}/signup?lang=en", {})
    assert resp.status_code == 409
    assert "You have already signed up for this activity." in text_of(resp)
    _nothing_changed(a, rows, events)
    assert [s.user_id for s in _signups(a)] == [user.id]


def test_closed_sign_up_is_refused(client, world):
    a = world.activity(signup_open=False)
    _login(client, world.resident())
    text = text_of(client.get(f"/volunteers/activities/{a.id}?lang=en"))
    assert "Sign-up closed" in text and 'action="/volunteers' not in text
    resp = client.post_form(f"/volunteers/activities/{a.id}/signup?lang=en", {})
    assert resp.status_code == 409
    assert "The coordinator has closed sign-up for this activity." in text_of(resp)
    assert _signups(a) == []


@pytest.mark.parametrize("who", ["pending", "other_community", "no_claim"])
def test_only_verified_residents_of_the_community_sign_up(
    client, world, who, make_user, make_compound
):
    a = world.activity()
    if who == "pending":
        user = world.resident(status="pending")
    elif who == "other_community":
        elsewhere = make_compound(buildings=1, units_per_building=1)
        from tests.factories import first_unit

        user = world.resident(unit=first_unit(elsewhere))
    else:
        user = make_user()
    _login(client, user)
    page = text_of(client.get(f"/volunteers/activities/{a.id}?lang=en"))
    assert "Sign-up is for verified residents of 向阳社区." in page
    resp = client.post_form(f"/volunteers/activities/{a.id}/signup?lang=en", {})
    assert resp.status_code == 403
    assert "Only verified residents of this community can sign up." in text_of(resp)
    assert _signups(a) == []


def test_a_visitor_is_sent_to_log_in_and_back(client, world):
    a = world.activity()
    resp = client.post_form(f"/volunteers/activities/{a.id}/signup", {})
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")
    assert f"activities/{a.id}" in resp.headers["Location"]
    # htmx (a session that ended in an open page): the whole page goes to the login
    resp = client.post_form(f"/volunteers/activities/{a.id}/cancel", {}, htmx=True)
    assert resp.status_code == 204 and resp.headers["HX-Redirect"].startswith("/login?next=")
    assert _signups(a) == []


def test_post_without_csrf_token_is_refused(client, world):
    a = world.activity()
    _login(client, world.resident())
    resp = client.c.post(f"/volunteers/activities/{a.id}/signup", data={})
    assert resp.status_code == 400
    assert _signups(a) == []


# ---- check-in, hours and points --------------------------------------------------------------


def _started_activity_with(world, n=2, **kw):
    a = world.activity(starts_in=timedelta(hours=3), **kw)
    people = [world.resident(f"志愿者{i}") for i in range(n)]
    for p in people:
        world.sign_up(p, a)
    a.starts_at = now_utc() - timedelta(hours=1)
    a.ends_at = a.starts_at + timedelta(hours=2)
    db.session.commit()
    return a, people


def test_coordinator_checks_people_in_with_htmx(client, world):
    a, (p1, p2) = _started_activity_with(world, hours=Decimal("2.50"))
    _login(client, world.coordinator)
    roster = client.get(f"/volunteers/activities/{a.id}/roster?lang=en")
    assert roster.status_code == 200
    assert "志愿者0" in text_of(roster)
    s1, s2 = _signups(a)
    resp = client.post_form(
        f"/volunteers/signups/{s1.id}/attendance?lang=en", {"mark": "attended"}, htmx=True
    )
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<html" not in body and f'id="signup-{s1.id}"' in body
    assert "Attended" in text_of(resp) and "Hours: 2.5 · points: 2.5" in text_of(resp)
    resp = client.post_form(f"/volunteers/signups/{s2.id}/attendance", {"mark": "no_show"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/roster")
    s1, s2 = _signups(a)
    assert (s1.attendance, s1.hours, s1.points) == ("attended", Decimal("2.50"), Decimal("2.50"))
    assert (s2.attendance, s2.hours, s2.points) == ("no_show", Decimal("0.00"), Decimal("0.00"))
    events = _events("volunteer.attendance")
    assert {e.detail["mark"] for e in events} == {"attended", "no_show"}
    assert all(e.actor_id == world.coordinator.id for e in events)


def test_the_secretary_may_check_in_too_and_correct_a_mark(client, world):
    a, (p1,) = _started_activity_with(world, n=1)
    _login(client, world.secretary)
    (s,) = _signups(a)
    client.post_form(f"/volunteers/signups/{s.id}/attendance", {"mark": "no_show"})
    client.post_form(f"/volunteers/signups/{s.id}/attendance", {"mark": "attended"})
    (s,) = _signups(a)
    assert s.attendance == "attended" and s.hours == Decimal("2.00")
    assert [e.detail.get("previous") for e in _events("volunteer.attendance")] == [
        None,
        "no_show",
    ]


def test_check_in_is_refused_before_it_opens(client, world):
    a = world.activity(starts_in=timedelta(days=2))
    world.sign_up(world.resident(), a)
    _login(client, world.coordinator)
    (s,) = _signups(a)
    roster = text_of(client.get(f"/volunteers/activities/{a.id}/roster?lang=en"))
    assert "Check-in opens one hour before the start" in roster
    resp = client.post_form(f"/volunteers/signups/{s.id}/attendance?lang=en", {"mark": "attended"})
    assert resp.status_code == 409
    assert "Check-in opens one hour before the start." in text_of(resp)
    assert _signups(a)[0].attendance is None


def test_waiting_people_cannot_be_checked_in(client, world):
    a = world.activity(capacity=1, starts_in=timedelta(hours=3))
    world.sign_up(world.resident(), a)
    world.sign_up(world.resident(), a)
    a.starts_at = now_utc() - timedelta(minutes=10)
    db.session.commit()
    _login(client, world.coordinator)
    waiting = _signups(a)[1]
    resp = client.post_form(
        f"/volunteers/signups/{waiting.id}/attendance?lang=en", {"mark": "attended"}, htmx=True
    )
    assert "Only people with a confirmed place can be checked in." in text_of(resp)
    assert _signups(a)[1].attendance is None


def test_check_in_needs_the_team_coordinator_or_secretary(client, world, make_user, make_grant):
    a, (p1,) = _started_activity_with(world, n=1)
    (s,) = _signups(a)
    other_team = world.make_team("小巷管家", coordinator=world.resident("别的协调员"))
    other_secretary = make_user()
    make_grant(other_secretary, "secretary", world._make_compound().community)
    for user in (p1, other_team.coordinator, other_secretary):
        _login(client, user)
        assert client.get(f"/volunteers/activities/{a.id}/roster").status_code == 403
        resp = client.post_form(f"/volunteers/signups/{s.id}/attendance", {"mark": "attended"})
        assert resp.status_code == 403
    assert _signups(a)[0].attendance is None


def test_my_volunteering_shows_history_hours_and_points(client, world):
    a, (p1,) = _started_activity_with(world, n=1, points_per_hour=Decimal("2"))
    (s,) = _signups(a)
    from portal.volunteers import service

    service.mark_attendance(world.coordinator, s.id, "attended", now_utc())
    db.session.commit()
    upcoming = world.activity(title="下周活动", starts_in=timedelta(days=7))
    world.sign_up(p1, upcoming)
    _login(client, p1)
    text = text_of(client.get("/account/volunteering?lang=en"))
    assert "Activities attended 1" in text
    assert "Hours of service 2" in text and "Volunteer points 4" in text
    assert "下周活动" in text and "楼道清理" in text


def test_team_page_shows_totals_and_upcoming(client, world):
    a, people = _started_activity_with(world, n=2)
    from portal.volunteers import service

    for s in _signups(a):
        service.mark_attendance(world.coordinator, s.id, "attended", now_utc())
    db.session.commit()
    world.activity(title="下次活动", starts_in=timedelta(days=3))
    text = text_of(client.get(f"/volunteers/teams/{world.team.id}?lang=en"))
    assert "Activities held 1" in text and "People who served 2" in text
    assert "Hours of service 4" in text and "Points earned 4" in text
    assert "下次活动" in text and "楼道清理" in text


# ---- teams and coordinators ------------------------------------------------------------------


def test_secretary_creates_a_team_with_a_coordinator(client, world):
    coordinator = world.resident("赵大妈", phone="13800138000")
    _login(client, world.secretary)
    form = client.get(f"/communities/{world.community.code}/volunteers/teams/new")
    assert form.status_code == 200
    resp = client.post_form(
        f"/communities/{world.community.code}/volunteers/teams/new",
        {
            "name": "小巷管家",
            "description": "巡查小巷",
            "compound": "0",
            "coordinator_phone": "138 0013 8000",
        },
    )
    assert resp.status_code == 302
    team = db.session.scalar(select(Team).where(Team.name == "小巷管家"))
    assert team.coordinator_id == coordinator.id and team.compound_id is None
    assert [e.object_id for e in _events("volunteer.team_created")] == [team.id]
    (ev,) = _events("volunteer.coordinator_appointed")
    assert ev.actor_id == world.secretary.id and ev.detail["user"] == coordinator.id


def test_team_names_are_unique_in_a_community(client, world):
    _login(client, world.secretary)
    resp = client.post_form(
        f"/communities/{world.community.code}/volunteers/teams/new?lang=en",
        {"name": "红管家", "compound": "0"},
    )
    assert resp.status_code == 422
    assert "already has a team with this name" in text_of(resp)


@pytest.mark.parametrize(
    "phone, message",
    [
        ("13912345678", "No account uses this mobile number"),
        ("pending", "is not a verified resident of this community"),
        ("123", "Enter an 11-digit mainland mobile number"),
    ],
)
def test_a_coordinator_must_be_a_verified_resident(client, world, phone, message):
    if phone == "pending":
        phone = world.resident("未核实", status="pending", phone="13700009999").phone
    _login(client, world.secretary)
    before = world.team.coordinator_id
    resp = client.post_form(
        f"/volunteers/teams/{world.team.id}/coordinator?lang=en", {"phone": phone}
    )
    assert resp.status_code == 422
    assert message in text_of(resp)
    db.session.expire_all()
    assert db.session.get(Team, world.team.id).coordinator_id == before
    assert _events("volunteer.coordinator_appointed") == []


def test_secretary_appoints_a_new_coordinator(client, world):
    newcomer = world.resident("孙阿姨", phone="13700001111")
    _login(client, world.secretary)
    resp = client.post_form(
        f"/volunteers/teams/{world.team.id}/coordinator", {"phone": newcomer.phone}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Team, world.team.id).coordinator_id == newcomer.id
    (ev,) = _events("volunteer.coordinator_appointed")
    assert ev.detail == {"user": newcomer.id, "previous": world.coordinator.id}


def test_only_the_secretary_creates_teams_and_appoints(client, world, make_user, make_grant):
    other_secretary = make_user()
    make_grant(other_secretary, "secretary", world._make_compound().community)
    for user in (world.coordinator, world.resident(), other_secretary):
        _login(client, user)
        url = f"/communities/{world.community.code}/volunteers/teams/new"
        assert client.get(url).status_code == 403
        assert client.post_form(url, {"name": "X", "compound": "0"}).status_code == 403
        resp = client.post_form(
            f"/volunteers/teams/{world.team.id}/coordinator", {"phone": user.phone}
        )
        assert resp.status_code == 403
    assert db.session.scalar(select(func.count(Team.id))) == 1


# ---- activities: create and edit -------------------------------------------------------------


def _activity_form(**over):
    data = {
        "title": "垃圾分类宣传",
        "place": "小区广场",
        "starts_at": "2031-03-05T09:00",
        "ends_at": "2031-03-05T11:30",
        "capacity": "3",
        "signup_open": "y",
        "hours": "",
        "points_per_hour": "",
        "description": "",
    }
    data.update(over)
    return data


def test_coordinator_publishes_an_activity_in_beijing_time(client, world):
    _login(client, world.coordinator)
    url = f"/volunteers/teams/{world.team.id}/activities/new"
    assert client.get(url).status_code == 200
    resp = client.post_form(url, _activity_form())
    assert resp.status_code == 302
    a = db.session.scalar(select(Activity).where(Activity.title == "垃圾分类宣传"))
    assert a.starts_at.isoformat() == "2031-03-05T01:00:00+00:00"
    assert a.ends_at.isoformat() == "2031-03-05T03:30:00+00:00"
    assert a.hours == Decimal("2.50") and a.points_per_hour == Decimal("1.00")
    assert a.signup_open and a.capacity == 3
    (ev,) = _events("volunteer.activity_created")
    assert ev.actor_id == world.coordinator.id


@pytest.mark.parametrize(
    "over, message",
    [
        ({"starts_at": "2001-03-05T09:00"}, "The start must be in the future."),
        ({"ends_at": "2031-03-05T08:00"}, "The end must be after the start."),
        ({"capacity": "0"}, "Places"),
        ({"starts_at": ""}, "Enter a date and time."),
    ],
)
def test_invalid_activities_are_refused_with_field_errors(client, world, over, message):
    _login(client, world.coordinator)
    resp = client.post_form(
        f"/volunteers/teams/{world.team.id}/activities/new?lang=en", _activity_form(**over)
    )
    assert resp.status_code == 422
    assert message in text_of(resp)
    assert db.session.scalar(select(func.count(Activity.id))) == 0


def test_raising_the_capacity_promotes_the_waiting_list(client, world):
    a = world.activity(capacity=1, starts_at=now_utc() + timedelta(days=3))
    people = [world.resident() for _ in range(3)]
    for p in people:
        world.sign_up(p, a)
    _login(client, world.coordinator)
    edit = client.get(f"/volunteers/activities/{a.id}/edit")
    assert edit.status_code == 200
    local = a.starts_at + timedelta(hours=8)
    resp = client.post_form(
        f"/volunteers/activities/{a.id}/edit",
        _activity_form(
            title=a.title,
            starts_at=local.strftime("%Y-%m-%dT%H:%M"),
            ends_at=(local + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            capacity="2",
        ),
    )
    assert resp.status_code == 302
    statuses = [s.status for s in _signups(a)]
    assert statuses == ["confirmed", "confirmed", "waitlisted"]
    fresh = _reload(a)
    assert (fresh.confirmed_count, fresh.waitlist_count, fresh.revision) == (2, 1, 1)
    (ev,) = _events("volunteer.activity_updated")
    assert ev.detail["changed"]["capacity"] == "2"


def test_capacity_cannot_go_below_the_confirmed(client, world):
    a = world.activity(capacity=3, starts_at=now_utc() + timedelta(days=3))
    for _ in range(2):
        world.sign_up(world.resident(), a)
    _login(client, world.coordinator)
    local = a.starts_at + timedelta(hours=8)
    resp = client.post_form(
        f"/volunteers/activities/{a.id}/edit?lang=en",
        _activity_form(
            starts_at=local.strftime("%Y-%m-%dT%H:%M"),
            ends_at=(local + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            capacity="1",
        ),
    )
    assert resp.status_code == 422
    assert "the capacity cannot go below that" in text_of(resp)
    assert _reload(a).capacity == 3


def test_others_cannot_add_or_edit_activities(client, world):
    a = world.activity()
    for user in (world.resident(), world.make_team("X", coordinator=world.resident()).coordinator):
        _login(client, user)
        assert client.get(f"/volunteers/teams/{world.team.id}/activities/new").status_code == 403
        assert client.get(f"/volunteers/activities/{a.id}/edit").status_code == 403
        resp = client.post_form(f"/volunteers/activities/{a.id}/edit", _activity_form())
        assert resp.status_code == 403
    assert _reload(a).title == "楼道清理"


# ---- staff page ------------------------------------------------------------------------------


def test_staff_page_lists_the_communities_in_scope(client, world, make_user, make_grant):
    _login(client, world.secretary)
    text = text_of(client.get("/staff/volunteers?lang=en"))
    assert "向阳社区" in text and "1 team" in text and "New team" in text
    officer = make_user()
    make_grant(officer, "street", world.community.street)
    _login(client, officer)
    text = text_of(client.get("/staff/volunteers?lang=en"))
    assert "向阳社区" in text and "New team" not in text
    _login(client, world.resident())
    assert client.get("/staff/volunteers").status_code == 403


# ---- pages follow the house rules ------------------------------------------------------------

INLINE = re.compile(r"<script(?![^>]*\bsrc=)|\son[a-z]+=|\sstyle=", re.I)


def test_pages_have_no_inline_script_style_or_handlers_and_no_phone_numbers(client, world):
    a, (p1,) = _started_activity_with(world, n=1)
    future = world.activity(title="未来")
    pages = [
        f"/communities/{world.community.code}/volunteers",
        f"/communities/{world.community.code}/volunteers/calendar",
        f"/compounds/{world.compound.code}/volunteers/calendar",
        f"/compounds/{world.compound.code}/volunteers",
        f"/communities/{world.community.code}/volunteers/summary",
        f"/volunteers/teams/{world.team.id}",
        f"/volunteers/activities/{future.id}",
        f"/volunteers/activities/{a.id}",
    ]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert not INLINE.search(html), url
        for person in (world.coordinator, p1, world.secretary):
            assert person.phone not in html, url
            assert person.display_name not in html, url
    _login(client, world.coordinator)
    for url in (
        f"/volunteers/activities/{a.id}/roster",
        "/account/volunteering",
        f"/volunteers/teams/{world.team.id}/activities/new",
        f"/volunteers/activities/{a.id}/edit",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert not INLINE.search(resp.get_data(as_text=True)), url


def test_after_the_event_hours_can_be_corrected_and_are_re_credited(client, world):
    a, (p1, p2) = _started_activity_with(world, n=2)
    a.starts_at = a.starts_at.replace(second=0)
    a.ends_at = a.starts_at + timedelta(hours=2)
    db.session.commit()
    from portal.volunteers import service

    s1, s2 = _signups(a)
    service.mark_attendance(world.coordinator, s1.id, "attended", now_utc())
    service.mark_attendance(world.coordinator, s2.id, "no_show", now_utc())
    db.session.commit()
    _login(client, world.coordinator)
    local = a.starts_at + timedelta(hours=8)
    form = _activity_form(
        title=a.title,
        starts_at=local.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(local + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        capacity=str(a.capacity),
        hours="3",
        points_per_hour="2",
    )
    resp = client.post_form(f"/volunteers/activities/{a.id}/edit", form)
    assert resp.status_code == 302
    s1, s2 = _signups(a)
    assert (s1.hours, s1.points) == (Decimal("3.00"), Decimal("6.00"))
    assert (s2.hours, s2.points) == (Decimal("0.00"), Decimal("0.00"))
    # but the times of an activity that has started stay as they were
    moved = dict(form, starts_at=(local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    resp = client.post_form(f"/volunteers/activities/{a.id}/edit?lang=en", moved)
    assert resp.status_code == 422
    assert "The activity has started: its times can no longer change." in text_of(resp)
    assert _reload(a).starts_at == a.starts_at
