"""``flask bench seed --scale street``: run once for the module, then checked the way the
benchmark uses it — counts as the scale table says, elections that verify, the vote election
open with its voters on the roll, the manifest's pages rendering for visitors and staff, and a
second run refusing."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.accounts.models import Membership, User
from portal.bench.seed import BENCH_PASSWORD, SCALES
from portal.extensions import db
from portal.models_base import utcnow
from portal.notices.models import Notice
from portal.places.labels import HUB_TABS
from portal.places.models import Community, Compound, Street, Unit
from portal.proposals.models import Proposal
from portal.transparency.models import FeeStatement
from portal.volunteers.models import Activity
from portal.voting import service as voting
from portal.voting.models import Ballot, Election, RollEntry
from tests.conftest import PG_URL, IsolatedClient, PortalClient, _base_config, _truncate_all

SCALE = SCALES["street"]


NOW = utcnow().replace(minute=0, second=0, microsecond=0)


def _seed(app, path, *extra):
    args = ["bench", "seed", "--scale", "street", "--now", NOW.isoformat()]
    args += ["--manifest", str(path), *extra]
    return app.test_cli_runner().invoke(args=args)


@pytest.fixture(scope="module")
def seeded(_template_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    if PG_URL:
        url = PG_URL
    else:
        shutil.copy(_template_db, folder / "bench.db")
        url = f"sqlite:///{folder / 'bench.db'}"
    app = create_app(_base_config(url))
    app.test_client_class = IsolatedClient
    path = folder / "manifest.json"
    with app.app_context():
        if PG_URL:
            _truncate_all(app)
        result = _seed(app, path)
        assert result.exit_code == 0, result.output
        manifest = json.loads(path.read_text(encoding="utf-8"))
        yield SimpleNamespace(app=app, manifest=manifest, output=result.output, folder=folder)
        db.session.remove()
        if PG_URL:
            _truncate_all(app)
        db.engine.dispose()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _client(seeded, phone: str | None = None) -> PortalClient:
    client = PortalClient(seeded.app.test_client())
    if phone is not None:
        user = db.session.scalar(select(User).where(User.phone == phone))
        with client.c.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
    return client


def test_counts_match_the_scale_table_and_progress_is_shown(seeded):
    assert _count(Street) == SCALE.streets
    assert _count(Community) == SCALE.streets * SCALE.communities_per_street
    assert _count(Compound) == SCALE.compounds
    assert _count(Unit) == SCALE.units
    assert _count(User) == SCALE.accounts
    assert _count(Proposal) == SCALE.proposals
    assert _count(Election) == SCALE.elections
    assert _count(Ballot) == SCALE.ballots
    assert _count(Notice) == SCALE.notices
    assert _count(Activity) == SCALE.activities
    # every compound publishes 60 months (one of them corrected by a second revision)
    months = db.session.execute(
        select(FeeStatement.compound_id, func.count(func.distinct(FeeStatement.period_key)))
        .where(FeeStatement.status == "published")
        .group_by(FeeStatement.compound_id)
    ).all()
    assert sorted(n for _c, n in months) == [SCALE.fee_months] * SCALE.compounds
    # the compounds' counters agree with their units, as the roster import keeps them
    assert db.session.scalar(select(func.sum(Compound.unit_count))) == SCALE.units
    assert db.session.scalar(select(func.sum(Compound.total_area_m2))) == db.session.scalar(
        select(func.sum(Unit.area_m2))
    )
    counts = seeded.manifest["counts"]
    assert counts["unit"] == SCALE.units and counts["ballot"] == SCALE.ballots
    for phase in ("places:", "accounts:", "fee statements:", "elections:", "proposals:", "done:"):
        assert phase in seeded.output


def test_every_seeded_election_verifies(seeded):
    runner = seeded.app.test_cli_runner()
    elections = list(db.session.scalars(select(Election).order_by(Election.id)))
    assert sum(e.status == "certified" for e in elections) >= 3
    for e in elections:
        result = runner.invoke(args=["election", "verify", str(e.id)])
        assert result.exit_code == 0, result.output
        assert "All checks passed." in result.output
    best = db.session.get(Election, seeded.manifest["election_id"])
    assert best.status == "certified"
    assert best.ballot_count == seeded.manifest["election_ballots"] >= 500
    assert best.compound.code == seeded.manifest["compound_code"]
    assert best.result["participation"]["owners"] == best.ballot_count


def test_the_vote_election_is_open_with_every_voter_on_its_roll_and_no_ballot(seeded):
    m = seeded.manifest
    e = db.session.get(Election, m["vote_election_id"])
    now = utcnow()
    assert e.compound.code == m["vote_compound"]
    assert voting.phase_of(e, now) == "open"
    assert e.closes_at >= now + timedelta(days=7)
    assert e.ballot_count == 0 and _count(Ballot, Ballot.election_id == e.id) == 0
    voters = m["vote_voters"]
    assert len(voters) >= 2100
    phones = dict(db.session.execute(select(User.id, User.phone)).all())
    assert all(phones[uid] == phone for uid, phone in voters)
    # each voter verifiably owns a unit on the frozen roll
    on_roll = set(
        db.session.scalars(
            select(Membership.user_id)
            .join(RollEntry, RollEntry.unit_id == Membership.unit_id)
            .where(
                RollEntry.election_id == e.id,
                RollEntry.excluded.is_(False),
                Membership.status == "verified",
                Membership.relation == "owner",
            )
        )
    )
    assert {uid for uid, _p in voters} <= on_roll
    # and the ballot form is there for them
    client = _client(seeded, voters[0][1])
    page = client.get(f"/elections/{e.id}/vote")
    assert page.status_code == 200
    assert 'name="choice"' in page.get_data(as_text=True)


def test_the_manifest_pages_render_for_a_visitor(seeded):
    client = _client(seeded)
    urls = seeded.manifest["urls"]
    for name, url in urls.items():
        if name == "vote":
            continue
        assert client.get(url).status_code == 200, (name, url)
    code = seeded.manifest["compound_code"]
    for tab, (_label, empty) in HUB_TABS.items():
        page = client.get(f"/compounds/{code}/{tab}")
        assert page.status_code == 200, tab
        if tab != "ratings":  # ratings are not seeded
            assert str(empty) not in page.get_data(as_text=True), tab


def test_staff_pages_and_the_bench_password(seeded):
    m = seeded.manifest
    officer = _client(seeded, m["street_officer_phone"])
    assert officer.get("/staff/street").status_code == 200
    secretary = _client(seeded, m["secretary_phone"])
    assert secretary.get("/staff/claims").status_code == 200
    assert secretary.get(f"/staff/elections/{m['typical_election_id']}").status_code == 200
    visitor = _client(seeded)
    login = visitor.post_form("/login", {"phone": m["resident_phone"], "password": BENCH_PASSWORD})
    assert login.status_code == 302
    assert visitor.get("/account").status_code == 200


def test_a_second_run_refuses_and_changes_nothing(seeded):
    again = _seed(seeded.app, seeded.folder / "again.json")
    assert again.exit_code != 0
    assert "already has places" in again.output and "--reset" in again.output
    assert not (seeded.folder / "again.json").exists()
    assert _count(Unit) == SCALE.units and _count(User) == SCALE.accounts
