"""``flask election verify ELECTION_ID``: a clean election passes; an edited ballot, an edited
ledger record or a changed published head is caught and named by its ledger position."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from portal.extensions import db
from portal.places.models import Company
from portal.voting import service
from portal.voting.models import Ballot, Election, LedgerEntry

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
D = timedelta(days=1)
OPENS = NOW + 15 * D
CLOSES = OPENS + 7 * D


@pytest.fixture
def election(app, make_compound, make_user, make_claim, make_grant):
    """A closed election with five online ballots (ledger positions 1…5)."""
    compound = make_compound(buildings=2, units_per_building=4)
    units = [u for b in compound.buildings for u in b.units]
    secretary = make_user()
    make_grant(secretary, "secretary", compound.community)
    owners = []
    for u in units[:5]:
        owner = make_user()
        make_claim(owner, u, status="verified")
        owners.append(owner)
    company = Company(name="甲物业公司")
    db.session.add(company)
    db.session.commit()
    e = service.create_election(
        secretary,
        compound,
        title="选聘物业",
        matter="hire",
        rule="civil-code-278",
        opens_at=OPENS,
        closes_at=CLOSES,
    )
    for label in ("甲物业公司", "乙物业公司"):
        service.add_candidate(
            secretary,
            e,
            NOW,
            label=label,
            company=company if label == company.name else None,
            fee_per_m2=Decimal("1.50"),
            service_level="二级",
            commitments="",
        )
    service.announce(secretary, e, NOW)
    db.session.commit()
    for i, (owner, choice) in enumerate(zip(owners, "AABAB", strict=True)):
        service.cast_online(owner, e.id, choice, OPENS + timedelta(hours=i))
        db.session.commit()
    service.close(secretary, e.id, CLOSES)
    db.session.commit()
    return e


def _verify(app, election_id):
    return app.test_cli_runner().invoke(args=["election", "verify", str(election_id)])


def _seq_of(ballot_id: int) -> int:
    return db.session.scalar(select(LedgerEntry.seq).where(LedgerEntry.ballot_id == ballot_id))


def test_a_clean_election_passes(app, election):
    result = _verify(app, election.id)
    assert result.exit_code == 0, result.output
    assert "Ledger: 5 ballots." in result.output
    assert "Hash chain: intact" in result.output
    assert "Published head: matches" in result.output
    assert "Tally: the recorded result matches a recount from the database." in result.output
    assert "All checks passed." in result.output


def test_an_edited_ballot_is_named_by_its_ledger_position(app, election):
    ballot = db.session.scalar(
        select(Ballot)
        .where(Ballot.election_id == election.id, Ballot.choice == "B")
        .order_by(Ballot.id)
    )
    position = _seq_of(ballot.id)
    db.session.execute(update(Ballot).where(Ballot.id == ballot.id).values(choice="A"))
    db.session.commit()
    result = _verify(app, election.id)
    assert result.exit_code == 1, result.output
    assert f"Ballot records: MISMATCH at ledger position(s) {position} " in result.output
    assert "Tally: MISMATCH" in result.output
    assert "Verification FAILED" in result.output


def test_an_edited_ledger_record_breaks_the_chain(app, election):
    entry = db.session.scalar(
        select(LedgerEntry).where(LedgerEntry.election_id == election.id, LedgerEntry.seq == 4)
    )
    record = json.loads(entry.record)
    record["choice"] = "B" if record["choice"] == "A" else "A"
    entry.record = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    db.session.commit()
    result = _verify(app, election.id)
    assert result.exit_code == 1, result.output
    assert "Hash chain: BROKEN at ledger position(s) 4 " in result.output
    assert "Ballot records: MISMATCH at ledger position(s) 4 " in result.output


def test_a_changed_published_head_is_caught(app, election):
    db.session.execute(
        update(Election).where(Election.id == election.id).values(ledger_head="f" * 64)
    )
    db.session.commit()
    result = _verify(app, election.id)
    assert result.exit_code == 1, result.output
    assert "Published head: MISMATCH — published " + "f" * 64 in result.output


def test_a_counted_ballot_outside_the_ledger_is_caught(app, election):
    db.session.add(
        Ballot(
            election_id=election.id,
            voter_key="VFAKE",
            choice="A",
            channel="paper",
            receipt="ZZZZZZZZZZ",
            state="counted",
            cast_at=OPENS,
        )
    )
    db.session.commit()
    result = _verify(app, election.id)
    assert result.exit_code == 1, result.output
    assert "Ballots outside the ledger: 1 ballot" in result.output


def test_an_unknown_election_exits_2(app, election):
    result = _verify(app, 99999)
    assert result.exit_code == 2
    assert "there is no election with id 99999" in result.output
