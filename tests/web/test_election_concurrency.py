"""One ballot per owner under simultaneous requests (run on PostgreSQL with TEST_DATABASE_URL)."""

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from portal.errors import DomainError
from portal.extensions import db
from portal.voting import service
from portal.voting.models import Ballot, LedgerEntry

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OPENS = NOW + timedelta(days=15)


def _setup(make_compound, make_user, make_claim, make_grant, n_units):
    compound = make_compound(buildings=1, units_per_building=n_units)
    secretary = make_user()
    make_grant(secretary, "secretary", compound.community)
    owners = []
    for u in compound.buildings[0].units:
        user = make_user()
        make_claim(user, u, status="verified")
        owners.append(user)
    e = service.create_election(
        secretary,
        compound,
        title="续聘",
        matter="renew",
        rule="civil-code-278",
        opens_at=OPENS,
        closes_at=OPENS + timedelta(days=7),
    )
    service.announce(secretary, e, NOW)
    db.session.commit()
    return e, owners


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
            except service.AlreadyVoted:
                result = "already"
            except DomainError as e:
                result = f"domain:{type(e).__name__}"
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


def test_same_owner_eight_times_at_once(app, make_compound, make_user, make_claim, make_grant):
    e, owners = _setup(make_compound, make_user, make_claim, make_grant, 2)
    voter_id, election_id = owners[0].id, e.id

    def attempt():
        from portal.accounts.models import User

        user = db.session.get(User, voter_id)
        service.cast_online(user, election_id, "yes", OPENS)

    outcomes = _fire(app, [attempt] * 8)
    assert sorted(outcomes) == ["already"] * 7 + ["ok"], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Ballot.id))) == 1
    assert db.session.scalar(select(func.count(LedgerEntry.id))) == 1


def test_many_owners_at_once_none_lost(app, make_compound, make_user, make_claim, make_grant):
    e, owners = _setup(make_compound, make_user, make_claim, make_grant, 12)
    election_id = e.id

    def attempt_for(uid):
        def attempt():
            from portal.accounts.models import User

            service.cast_online(db.session.get(User, uid), election_id, "yes", OPENS)

        return attempt

    # every owner votes, and the first three try twice more
    calls = [attempt_for(u.id) for u in owners] + [attempt_for(u.id) for u in owners[:3]] * 2
    outcomes = _fire(app, calls)
    assert outcomes.count("ok") == 12 and outcomes.count("already") == 6, outcomes
    db.session.expire_all()
    election = service.get_election(election_id)
    assert election.ballot_count == 12
    v = service.verify(election)
    assert v.ok and v.ballots == 12
