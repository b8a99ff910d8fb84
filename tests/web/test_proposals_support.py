"""Supports: one per person (checked, and enforced by a unique constraint under concurrent
requests), an htmx counter that updates in place, clear refusals that change nothing."""

# ruff: noqa: F811  (the shared fixtures are imported, then requested by name)

import threading

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal.errors import DomainError
from portal.extensions import db
from portal.proposals import service
from portal.proposals.models import Proposal, Support
from tests.conftest import text_of
from tests.web.test_proposals_fixtures import T0, accepted, clock, make_proposal, world  # noqa: F401


def _count(p):
    db.session.expire_all()
    return (
        db.session.get(Proposal, p.id).support_count,
        db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == p.id)),
    )


def test_support_with_htmx_updates_the_counter_in_place(client, world, login_as, clock, en):
    p = make_proposal(world)
    login_as(user=world.residents[1])
    page = client.get(f"/proposals/{p.id}").get_data(as_text=True)
    assert f'hx-post="/proposals/{p.id}/support"' in page and f'id="support-{p.id}"' in page
    resp = client.post_form(f"/proposals/{p.id}/support?lang=en", htmx=True)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<html" not in html and html.strip().startswith(
        f'<div class="support" id="support-{p.id}"'
    )
    assert "2 supports" in text_of(resp) and "You support this" in text_of(resp)
    assert _count(p) == (2, 2)


def test_support_twice_is_refused_with_a_clear_message_and_no_change(
    client, world, login_as, clock
):
    p = make_proposal(world)
    login_as(user=world.residents[1])
    client.post_form(f"/proposals/{p.id}/support", htmx=True)
    before = _count(p)
    # htmx: the fragment again, with the message (200, so that htmx swaps it in)
    resp = client.post_form(f"/proposals/{p.id}/support?lang=en", htmx=True)
    assert resp.status_code == 200
    assert "You already support this proposal; each person counts once." in text_of(resp)
    assert "2 supports" in text_of(resp)
    # without JavaScript: a 409 page with the same message
    resp = client.post_form(f"/proposals/{p.id}/support?lang=en")
    assert resp.status_code == 409
    assert "You already support this proposal; each person counts once." in text_of(resp)
    assert _count(p) == before == (2, 2)
    # the author's own support was counted at submission
    login_as(user=world.residents[0])
    resp = client.post_form(f"/proposals/{p.id}/support?lang=en")
    assert resp.status_code == 409 and _count(p) == before


def test_support_without_js_redirects_back(client, world, login_as, clock):
    p = make_proposal(world)
    login_as(user=world.residents[1])
    resp = client.post_form(f"/proposals/{p.id}/support")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/proposals/{p.id}")
    assert _count(p) == (2, 2)


def test_only_verified_residents_of_the_compound_support(client, world, login_as, clock):
    p = make_proposal(world)
    for user in (world.stranger, world.outsider, world.company_staff):
        login_as(user=user)
        resp = client.post_form(f"/proposals/{p.id}/support?lang=en")
        assert resp.status_code == 403
    assert "Only verified residents of 和平花园 can support its proposals." in text_of(resp)
    assert _count(p) == (1, 1)
    anonymous = client.c.application.test_client()
    assert anonymous.post(f"/proposals/{p.id}/support").status_code in (302, 400)


def test_no_support_once_feedback_is_given(client, world, login_as, clock):
    p = accepted(world, responsible="community")
    service.respond(world.secretary, p.id, "已处理", T0)
    db.session.commit()
    login_as(user=world.residents[1])
    resp = client.post_form(f"/proposals/{p.id}/support?lang=en")
    assert resp.status_code == 409
    assert "This proposal no longer takes supports; it is: Feedback given." in text_of(resp)
    assert _count(p) == (1, 1)


# ---- concurrency (meant for PostgreSQL: TEST_DATABASE_URL) ------------------------------------


def _fire(app, calls):
    barrier = threading.Barrier(len(calls))
    outcomes, lock = [], threading.Lock()

    def run(fn):
        with app.app_context():
            barrier.wait()
            result = None
            for attempt in range(8):
                try:
                    fn()
                    db.session.commit()
                    result = "ok"
                except service.AlreadySupported:
                    result = "already"
                except DomainError as e:
                    result = f"domain:{type(e).__name__}"
                except OperationalError as e:  # SQLite: the database is busy, try again
                    db.session.rollback()
                    if "locked" in str(e).lower() and attempt < 7:
                        continue
                    result = f"error:{e}"
                except Exception as e:  # noqa: BLE001 - any server error fails the test
                    result = f"error:{type(e).__name__}:{e}"
                break
            db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _attempt(user_id, proposal_id):
    def go():
        from portal.accounts.models import User

        service.support(db.session.get(User, user_id), proposal_id, T0)

    return go


def test_same_person_eight_times_at_once(app, world):
    p = make_proposal(world)
    pid, uid = p.id, world.residents[1].id
    outcomes = _fire(app, [_attempt(uid, pid)] * 8)
    assert sorted(outcomes) == ["already"] * 7 + ["ok"], outcomes
    assert _count(p) == (2, 2)


def test_many_people_at_once_none_lost(app, world):
    p = make_proposal(world)
    pid = p.id
    people = [u.id for u in world.residents[1:]]
    calls = [_attempt(u, pid) for u in people] + [_attempt(u, pid) for u in people[:2]] * 2
    outcomes = _fire(app, calls)
    assert outcomes.count("ok") == 5 and outcomes.count("already") == 4, outcomes
    assert _count(p) == (6, 6)
