"""The volunteer calendar (list and month grid), .ics downloads, the monthly summary, and
constant query counts per page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from portal.extensions import db
from portal.volunteers import rules, service
from tests.conftest import text_of
from tests.web.test_volunteers_world import World, now_utc


@pytest.fixture
def world(make_compound, make_user, make_claim, make_grant, make_community) -> World:
    return World(make_compound, make_user, make_claim, make_grant, make_community)


def _login(client, user):
    with client.c.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True


# ---- month view ------------------------------------------------------------------------------


def test_month_grid_is_a_table_with_real_prev_next_links(client, world):
    # 17:30 UTC on 4 March is 01:30 on 5 March in Beijing: the activity is on the 5th
    world.activity(title="早起巡逻", starts_at=datetime(2031, 3, 4, 17, 30, tzinfo=UTC))
    world.activity(title="四月活动", starts_at=datetime(2031, 4, 2, 2, 0, tzinfo=UTC))
    url = f"/communities/{world.community.code}/volunteers/calendar?month=2031-03&lang=en"
    resp = client.get(url)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<table" in html and html.count('<th scope="col">') == 7
    assert "March 2031" in text_of(resp)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S)
    fifth = [c for c in cells if re.search(r'vol-cal-day">5<', c)]
    assert len(fifth) == 1 and "早起巡逻" in fifth[0]
    assert "四月活动" not in html
    code = world.community.code
    assert f'href="/communities/{code}/volunteers/calendar?month=2031-02"' in html
    assert f'href="/communities/{code}/volunteers/calendar?month=2031-04"' in html
    assert 'hx-push-url="true"' in html
    nxt = client.get(f"/communities/{code}/volunteers/calendar?month=2031-04&lang=en")
    assert "四月活动" in text_of(nxt) and "April 2031" in text_of(nxt)


def test_month_fragment_for_htmx_and_page_otherwise(client, world):
    world.activity(title="三月活动", starts_at=datetime(2031, 3, 10, 2, 0, tzinfo=UTC))
    url = f"/compounds/{world.compound.code}/volunteers/calendar?month=2031-03"
    frag = client.hx_get(url)
    body = frag.get_data(as_text=True)
    assert "<html" not in body and "<table" in body and "三月活动" in body
    assert "HX-Request" in frag.headers.get("Vary", "")
    page = client.get(url)
    assert "<html" in page.get_data(as_text=True)
    assert "HX-Request" in page.headers.get("Vary", "")


def test_a_bad_month_falls_back_to_the_current_one(client, world):
    local = now_utc().astimezone(ZoneInfo("Asia/Shanghai"))
    ny, nm = rules.shift_month(local.year, local.month, 1)
    for bad in ("2031-13", "x", "1999-01"):
        resp = client.get(f"/communities/{world.community.code}/volunteers/calendar?month={bad}")
        assert resp.status_code == 200
        assert f"month={ny:04d}-{nm:02d}" in resp.get_data(as_text=True)


def test_compound_calendar_leaves_out_other_compounds_teams(client, world):
    other = world._make_compound(community=world.community, name="光明小区")
    team = world.make_team("光明义诊", compound=other)
    when = datetime(2031, 3, 10, 2, 0, tzinfo=UTC)
    world.activity(title="和平活动", starts_at=when)
    world.activity(title="光明活动", starts_at=when, team=team)
    mine = text_of(
        client.get(f"/compounds/{world.compound.code}/volunteers/calendar?month=2031-03")
    )
    assert "和平活动" in mine and "光明活动" not in mine
    whole = text_of(
        client.get(f"/communities/{world.community.code}/volunteers/calendar?month=2031-03")
    )
    assert "和平活动" in whole and "光明活动" in whole


# ---- iCalendar ---------------------------------------------------------------------------------


def test_each_activity_downloads_as_an_ics_that_parses_back(client, world):
    start = datetime(2031, 3, 5, 1, 0, tzinfo=UTC)
    a = world.activity(
        title="义诊 & 量血压",
        place="社区服务站, 2楼",
        description="带上医保卡；\n老人优先",
        starts_at=start,
        length=timedelta(hours=2, minutes=30),
    )
    resp = client.get(f"/volunteers/activities/{a.id}.ics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert f'filename="activity-{a.id}.ics"' in resp.headers["Content-Disposition"]
    raw = resp.get_data()
    assert b"\r\n" in raw and b"DTSTART:20310305T010000Z" in raw
    cal = Calendar.from_ical(raw)
    assert str(cal["VERSION"]) == "2.0" and cal.get("PRODID")
    events = cal.walk("VEVENT")
    assert len(events) == 1
    ev = events[0]
    assert str(ev["SUMMARY"]) == "义诊 & 量血压"
    assert str(ev["LOCATION"]) == "社区服务站, 2楼"
    assert "带上医保卡；\n老人优先" in str(ev["DESCRIPTION"])
    assert "红管家" in str(ev["DESCRIPTION"])
    assert ev.decoded("DTSTART") == start
    assert ev.decoded("DTEND") == start + timedelta(hours=2, minutes=30)
    assert str(ev["URL"]).endswith(f"/volunteers/activities/{a.id}")
    assert str(ev["URL"]).startswith("http")
    assert ev.get("DTSTAMP") is not None
    uid = str(ev["UID"])
    again = Calendar.from_ical(client.get(f"/volunteers/activities/{a.id}.ics").get_data())
    assert str(again.walk("VEVENT")[0]["UID"]) == uid  # stable
    other = world.activity()
    third = Calendar.from_ical(client.get(f"/volunteers/activities/{other.id}.ics").get_data())
    assert str(third.walk("VEVENT")[0]["UID"]) != uid


def test_ics_sequence_grows_when_the_activity_is_edited(client, world):
    a = world.activity(starts_at=now_utc() + timedelta(days=3))
    first = Calendar.from_ical(client.get(f"/volunteers/activities/{a.id}.ics").get_data())
    service.update_activity(
        world.coordinator,
        a.id,
        now_utc(),
        title="改名了",
        place=a.place,
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        capacity=a.capacity,
        signup_open=True,
    )
    db.session.commit()
    second = Calendar.from_ical(client.get(f"/volunteers/activities/{a.id}.ics").get_data())
    e1, e2 = first.walk("VEVENT")[0], second.walk("VEVENT")[0]
    assert str(e1["UID"]) == str(e2["UID"])
    assert int(e2["SEQUENCE"]) == int(e1["SEQUENCE"]) + 1
    assert str(e2["SUMMARY"]) == "改名了"


# ---- monthly summary -------------------------------------------------------------------------


def test_monthly_summary_per_team_for_the_last_twelve_months(client, world):
    now = now_utc()
    other = world.make_team("环境巡查队")
    a = world.activity(starts_in=timedelta(hours=3), length=timedelta(hours=2))
    b = world.activity(starts_in=timedelta(hours=4), length=timedelta(hours=1), team=other)
    old = world.activity(starts_in=timedelta(hours=5))
    people = [world.resident() for _ in range(3)]
    for p in people:
        world.sign_up(p, a)
    world.sign_up(people[0], b)
    world.sign_up(people[0], old)
    for act in (a, b):
        act.starts_at = now - timedelta(hours=3)
        act.ends_at = act.starts_at + timedelta(hours=2 if act is a else 1)
    old.starts_at = now - timedelta(days=400)
    old.ends_at = old.starts_at + timedelta(hours=2)
    db.session.commit()
    from sqlalchemy import select

    from portal.volunteers.models import Signup

    for s in db.session.scalars(select(Signup).order_by(Signup.id)):
        mark = "no_show" if s.user_id == people[2].id else "attended"
        if s.activity_id == old.id:
            s.attendance, s.hours = "attended", Decimal("2")
            continue
        service.mark_attendance(world.secretary, s.id, mark, now)
    db.session.commit()

    resp = client.get(f"/communities/{world.community.code}/volunteers/summary?lang=en")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    rows = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip()
        for r in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)
    ]
    data_rows = rows[1:]
    assert "红管家 1 2 4" in data_rows  # 2 people attended, 1 no-show, 2 hours each
    assert "环境巡查队 1 1 1" in data_rows
    assert "All teams 2 2 5" in data_rows  # one person in both teams counts once
    # twelve months, newest first; the activity of 400 days ago is left out
    assert html.count('scope="rowgroup"') == 12
    assert data_rows.count("No activities") == 11


# ---- query counts -----------------------------------------------------------------------------


def _grow(world, n_activities: int, n_people: int):
    people = [world.resident() for _ in range(n_people)]
    for i in range(n_activities):
        team = (
            world.team
            if i % 2
            else world.make_team(f"队{n_activities}-{i}", compound=world.compound)
        )
        a = world.activity(
            title=f"活动{i}",
            starts_in=timedelta(days=1 + i % 20, hours=i),
            capacity=2,
            team=team,
        )
        for p in people:
            world.sign_up(p, a)
    return people


@pytest.mark.parametrize(
    "page",
    [
        "community",
        "tab",
        "calendar",
        "compound_calendar",
        "team",
        "activity",
        "mine",
        "roster",
        "summary",
        "staff",
    ],
)
def test_query_count_does_not_grow_with_data(client, world, count_queries, page):
    def url_for(page):
        from sqlalchemy import select

        from portal.volunteers.models import Activity

        first = db.session.scalar(select(Activity).order_by(Activity.id.desc()))
        local = (now_utc() + timedelta(days=5)).astimezone(service.local_tz())
        month = f"{local.year:04d}-{local.month:02d}"
        return {
            "community": f"/communities/{world.community.code}/volunteers",
            "tab": f"/compounds/{world.compound.code}/volunteers",
            "calendar": f"/communities/{world.community.code}/volunteers/calendar?month={month}",
            "compound_calendar": f"/compounds/{world.compound.code}/volunteers/calendar",
            "team": f"/volunteers/teams/{world.team.id}",
            "activity": f"/volunteers/activities/{first.id}",
            "mine": "/account/volunteering",
            "roster": f"/volunteers/activities/{first.id}/roster",
            "summary": f"/communities/{world.community.code}/volunteers/summary",
            "staff": "/staff/volunteers",
        }[page]

    viewer = {"roster": world.secretary, "staff": world.secretary}.get(page)
    counts = []
    for n_activities, n_people in ((2, 3), (12, 6)):
        people = _grow(world, n_activities, n_people)
        _login(client, viewer or people[-1])
        assert client.get(url_for(page)).status_code == 200
        with count_queries() as q:
            assert client.get(url_for(page)).status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1], (page, counts)
