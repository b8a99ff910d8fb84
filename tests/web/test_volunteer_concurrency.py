"""One sign-up per person, and never more confirmed than places, under simultaneous requests
(run on PostgreSQL with TEST_DATABASE_URL; on SQLite the writers queue)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.errors import DomainError
from portal.extensions import db
from portal.volunteers import service
from portal.volunteers.models import Activity, Signup
from tests.web.test_volunteers_world import World, now_utc


@pytest.fixture
def world(make_compound, make_user, make_claim, make_grant, make_community) -> World:
    return World(make_compound, make_user, make_claim, make_grant, make_community)


def _fire(app, calls):
    """Run every call at the same moment, each in its own app context and db session."""
    barrier = threading.Barrier(len(calls))
    outcomes = []
    lock = threading.Lock()

    def run(fn):
        with app.app_context():
            barrier.wait()
            try:
                service.with_retry(fn)
                result = "ok"
            except service.AlreadySignedUp:
                result = "already"
            except DomainError as e:
                result = f"domain:{type(e).__name__}:{e.message}"
            except Exception as e:  # noqa: BLE001 - any server error fails the test
                result = f"error:{type(e).__name__}:{e}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _sign_up(user_id: int, activity_id: int):
    def attempt():
        return service.signup(db.session.get(User, user_id), activity_id, now_utc())

    return attempt


def _cancel(user_id: int, activity_id: int):
    def attempt():
        return service.cancel(db.session.get(User, user_id), activity_id, now_utc())

    return attempt


def _state(activity_id: int):
    db.session.expire_all()
    activity = db.session.get(Activity, activity_id)
    rows = list(
        db.session.scalars(
            select(Signup).where(Signup.activity_id == activity_id).order_by(Signup.seq)
        )
    )
    return activity, rows


def test_same_person_eight_times_at_once_one_sign_up(app, world):
    a = world.activity(capacity=5)
    user = world.resident()
    outcomes = _fire(app, [_sign_up(user.id, a.id)] * 8)
    assert sorted(outcomes) == ["already"] * 7 + ["ok"], outcomes
    activity, rows = _state(a.id)
    assert len(rows) == 1 and rows[0].status == "confirmed"
    assert activity.confirmed_count == 1 and activity.last_seq == 1
    assert db.session.scalar(select(func.count(Signup.id))) == 1


def test_twelve_people_for_the_last_three_places(app, world):
    a = world.activity(capacity=4)
    world.sign_up(world.resident(), a)  # one place already taken
    people = [world.resident() for _ in range(12)]
    outcomes = _fire(app, [_sign_up(p.id, a.id) for p in people])
    assert outcomes == ["ok"] * 12, outcomes
    activity, rows = _state(a.id)
    confirmed = [r for r in rows if r.status == "confirmed"]
    waiting = [r for r in rows if r.status == "waitlisted"]
    assert len(confirmed) == 4 and len(waiting) == 9
    assert (activity.confirmed_count, activity.waitlist_count) == (4, 9)
    # the waiting list is in the order the places ran out: every seq once, after the confirmed
    seqs = [r.seq for r in rows]
    assert sorted(seqs) == list(range(1, 14))
    assert max(r.seq for r in confirmed) < min(r.seq for r in waiting)


def test_cancels_and_sign_ups_at_once_never_exceed_capacity(app, world):
    a = world.activity(capacity=3)
    confirmed = [world.resident() for _ in range(3)]
    waiting = [world.resident() for _ in range(3)]
    for p in confirmed + waiting:
        world.sign_up(p, a)
    newcomers = [world.resident() for _ in range(4)]
    calls = [_cancel(p.id, a.id) for p in confirmed[:2]] + [_sign_up(p.id, a.id) for p in newcomers]
    outcomes = _fire(app, calls)
    assert outcomes == ["ok"] * 6, outcomes
    activity, rows = _state(a.id)
    status = {r.user_id: r.status for r in rows}
    assert sum(1 for s in status.values() if s == "confirmed") == 3 == activity.confirmed_count
    # the two freed places went to the first two who were waiting, not to newcomers
    assert status[waiting[0].id] == "confirmed" and status[waiting[1].id] == "confirmed"
    assert status[waiting[2].id] == "waitlisted"
    assert all(status[p.id] == "waitlisted" for p in newcomers)
    assert activity.waitlist_count == 5


def test_eight_simultaneous_http_sign_ups_by_one_person(app, world):
    """Through the whole stack: no server error, exactly one row."""
    a = world.activity(capacity=5)
    user = world.resident()
    db.session.commit()
    clients = []
    for _ in range(8):
        c = app.test_client()
        with c.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        html = c.get(f"/volunteers/activities/{a.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        clients.append((c, token))
    barrier = threading.Barrier(len(clients))
    statuses = []
    lock = threading.Lock()

    def run(c, token):
        barrier.wait()
        resp = c.post(
            f"/volunteers/activities/{a.id}/signup",
            data={"csrf_token": token},
            headers={"HX-Request": "true"},
        )
        with lock:
            statuses.append((resp.status_code, resp.get_data(as_text=True)))

    threads = [threading.Thread(target=run, args=ct) for ct in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(statuses) == 8
    assert all(code == 200 for code, _ in statuses), [code for code, _ in statuses]
    bodies = [body for _, body in statuses]
    assert sum("signup-box" in b for b in bodies) == 8
    activity, rows = _state(a.id)
    assert len(rows) == 1 and activity.confirmed_count == 1


def test_the_start_is_a_hard_line_under_concurrency(app, world):
    a = world.activity(capacity=5, starts_in=timedelta(seconds=-1))
    people = [world.resident() for _ in range(8)]
    outcomes = _fire(app, [_sign_up(p.id, a.id) for p in people])
    assert all(o.startswith("domain:InvalidTransition") for o in outcomes), outcomes
    activity, rows = _state(a.id)
    assert rows == [] and activity.confirmed_count == 0 and activity.last_seq == 0
