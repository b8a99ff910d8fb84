"""The election service end to end on the database: lifecycle, roll, casting, ledger, tally."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.errors import InvalidTransition, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.places.models import Company, RosterOwner
from portal.voting import rollfile, service, tally
from portal.voting.models import Ballot, LedgerEntry, RollVersion

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
D = timedelta(days=1)
OPENS = NOW + 15 * D
CLOSES = OPENS + 7 * D


@pytest.fixture
def world(app, make_compound, make_user, make_claim, make_grant):
    """A compound of 2 buildings x 4 units; one owner holds two units; the developer two units."""
    compound = make_compound(buildings=2, units_per_building=4)
    units = [u for b in compound.buildings for u in b.units]
    # owner of units[0] also owns units[1]
    units[1].owner_id = units[0].owner_id
    units[6].developer_held = True
    units[7].developer_held = True
    db.session.commit()
    secretary = make_user(name="书记")
    make_grant(secretary, "secretary", compound.community)
    committee = make_user(name="委员")
    make_grant(committee, "committee", compound)
    owners = []
    for u in units[:6]:
        user = make_user()
        make_claim(user, u, status="verified")
        owners.append(user)
    company_a = Company(name="甲物业公司")
    company_b = Company(name="乙物业公司")
    db.session.add_all([company_a, company_b])
    db.session.commit()
    return {
        "compound": compound,
        "units": units,
        "secretary": secretary,
        "committee": committee,
        "owners": owners,
        "companies": (company_a, company_b),
    }


def _hire(world, rule="civil-code-278"):
    e = service.create_election(
        world["secretary"],
        world["compound"],
        title="选聘物业",
        matter="hire",
        rule=rule,
        opens_at=OPENS,
        closes_at=CLOSES,
    )
    a, b = world["companies"]
    service.add_candidate(
        world["secretary"],
        e,
        NOW,
        label=a.name,
        company=a,
        fee_per_m2=Decimal("1.50"),
        service_level="二级",
        commitments="报修24小时到场",
    )
    service.add_candidate(
        world["secretary"],
        e,
        NOW,
        label=b.name,
        company=b,
        fee_per_m2=Decimal("1.80"),
        service_level="一级",
        commitments="",
    )
    db.session.commit()
    return e


def test_roll_groups_owners_and_developer(world):
    e = _hire(world)
    version = service.announce(world["secretary"], e, NOW)
    db.session.commit()
    # 8 units: units 0+1 one owner, 2..5 one each, 6+7 the developer -> 6 owners
    assert version.owners == 6
    assert version.area_m2 == Decimal("708.00")
    assert version.fingerprint == rollfile.roll_fingerprint(
        rollfile.parse_roll_csv(service.roll_csv(e))
    )
    keys = {en.unit_id: en.voter_key for en in service.roll_entries(e)}
    u = world["units"]
    assert keys[u[0].id] == keys[u[1].id] and keys[u[6].id] == keys[u[7].id]
    assert len(set(keys.values())) == 6
    # keys are pseudonymous: no roster key, name or phone in the published roll
    csv = service.roll_csv(e).decode()
    owner = db.session.get(RosterOwner, u[2].owner_id)
    assert owner.owner_key not in csv and owner.name not in csv and owner.phone not in csv


def test_announce_checks_calendar_and_candidates(world):
    e = service.create_election(
        world["secretary"],
        world["compound"],
        title="x",
        matter="hire",
        rule="civil-code-278",
        opens_at=NOW + 14 * D,
        closes_at=NOW + 20 * D,
    )
    with pytest.raises(ValidationFailed):
        service.announce(world["secretary"], e, NOW)  # no candidate
    service.add_candidate(
        world["secretary"],
        e,
        NOW,
        label="甲",
        company=None,
        fee_per_m2=None,
        service_level=None,
        commitments="",
    )
    with pytest.raises(ValidationFailed):
        service.announce(world["secretary"], e, NOW)  # notice 14 days < 15
    e.opens_at = NOW + 15 * D
    service.announce(world["secretary"], e, NOW)
    assert e.status == "announced"


def test_only_runners_manage(world, make_user, make_community, make_grant):
    outsider = make_user()
    make_grant(outsider, "secretary", make_community())
    with pytest.raises(PermissionDenied):
        service.create_election(
            outsider, world["compound"], title="x", matter="renew", rule="civil-code-278"
        )
    e = service.create_election(
        world["committee"],
        world["compound"],
        title="续聘",
        matter="renew",
        rule="civil-code-278",
        opens_at=OPENS,
        closes_at=CLOSES,
    )
    assert [o.key for o in e.options] == ["yes", "no"]
    with pytest.raises(PermissionDenied):
        service.announce(world["owners"][0], e, NOW)


def test_voting_only_in_window_and_once(world):
    e = _hire(world)
    service.announce(world["secretary"], e, NOW)
    db.session.commit()
    voter = world["owners"][2]
    with pytest.raises(InvalidTransition):
        service.cast_online(voter, e.id, "A", OPENS - timedelta(seconds=1))
    db.session.rollback()
    ballot = service.cast_online(voter, e.id, "A", OPENS)
    db.session.commit()
    assert len(ballot.receipt) == 10
    with pytest.raises(service.AlreadyVoted) as exc:
        service.cast_online(voter, e.id, "B", OPENS + D)
    db.session.rollback()
    assert exc.value.receipt.replace("-", "") == ballot.receipt
    with pytest.raises(InvalidTransition):
        service.cast_online(world["owners"][3], e.id, "A", CLOSES)
    db.session.rollback()


def test_co_owner_of_same_owner_key_cannot_vote_twice(world):
    e = _hire(world)
    service.announce(world["secretary"], e, NOW)
    db.session.commit()
    service.cast_online(world["owners"][0], e.id, "A", OPENS)
    db.session.commit()
    # owners[1] verified on units[1], which belongs to the same roster owner
    with pytest.raises(service.AlreadyVoted):
        service.cast_online(world["owners"][1], e.id, "B", OPENS)
    db.session.rollback()


def test_non_owner_and_off_roll_cannot_vote(world, make_user, make_claim):
    e = _hire(world)
    service.announce(world["secretary"], e, NOW)
    db.session.commit()
    tenant = make_user()
    make_claim(tenant, world["units"][3], relation="tenant", status="verified")
    pending = make_user()
    make_claim(pending, world["units"][4], status="pending")
    for user in (tenant, pending):
        with pytest.raises(PermissionDenied):
            service.cast_online(user, e.id, "A", OPENS)
        db.session.rollback()
    with pytest.raises(ValidationFailed):
        service.cast_online(world["owners"][2], e.id, "Z", OPENS)
    db.session.rollback()


def test_paper_ballot_needs_a_second_person(world):
    e = _hire(world)
    service.announce(world["secretary"], e, NOW)
    db.session.commit()
    unit = world["units"][6]  # the developer's unit
    ballot = service.enter_paper(world["secretary"], e.id, unit.id, "B", OPENS)
    db.session.commit()
    assert ballot.state == "pending"
    assert service.turnout(e).participation.owners == 0
    with pytest.raises(PermissionDenied):
        service.confirm_paper(world["secretary"], e.id, ballot.id, OPENS)
    db.session.rollback()
    service.confirm_paper(world["committee"], e.id, ballot.id, OPENS + D)
    db.session.commit()
    assert service.turnout(e).participation.owners == 1
    # the developer's other unit is the same owner
    with pytest.raises(service.AlreadyVoted):
        service.enter_paper(world["committee"], e.id, world["units"][7].id, "A", OPENS + D)
    db.session.rollback()


def test_proxy_needs_holder_and_document(world):
    e = _hire(world)
    service.announce(world["secretary"], e, NOW)
    db.session.commit()
    with pytest.raises(ValidationFailed):
        service.enter_paper(
            world["secretary"],
            e.id,
            world["units"][2].id,
            "A",
            OPENS,
            channel="proxy",
            proxy_holder="张三",
        )
    db.session.rollback()
    b = service.enter_paper(
        world["secretary"],
        e.id,
        world["units"][2].id,
        "A",
        OPENS,
        channel="proxy",
        proxy_holder="张三",
        proxy_document="proxy/x.pdf",
    )
    assert b.channel == "proxy"


def _full_run(world, choices):
    """choices: owner index -> choice; closes and certifies. Returns the election."""
    e = _hire(world)
    service.announce(world["secretary"], e, NOW)
    db.session.commit()
    for i, choice in choices.items():
        service.cast_online(world["owners"][i], e.id, choice, OPENS + timedelta(hours=i))
        db.session.commit()
    with pytest.raises(InvalidTransition):
        service.close(world["secretary"], e.id, CLOSES - timedelta(seconds=1))
    db.session.rollback()
    service.close(world["secretary"], e.id, CLOSES)
    service.certify(world["secretary"], e.id, CLOSES + D)
    db.session.commit()
    return e


def test_tally_recount_and_verify_agree(world):
    # owners 0 (two units), 2, 3, 4 vote: 4 of 6 owners = exactly 2/3
    e = _full_run(world, {0: "A", 2: "A", 3: "B", 4: "abstain"})
    result = e.result
    assert result["participation"] == {"owners": 4, "area_m2": "442.50", "quorum_met": False}
    # area 5 units x 88.50 = 442.50 < 2/3 of 708.00 (472.00): no quorum by area
    assert result["outcome"] == "no_quorum"
    recount = tally.tally(
        rollfile.parse_roll_csv(service.roll_csv(e)),
        rollfile.parse_ballots_csv(service.ballots_csv(e)),
        e.rule,
    )
    assert recount.to_json_dict() == result
    v = service.verify(e)
    assert v.ok and v.ballots == 4


def test_decided_result_and_contract(world):
    e = _full_run(world, {0: "A", 2: "A", 3: "A", 4: "B", 5: "A"})
    assert e.result["outcome"] == "decided" and e.result["winner"] == "A"
    contract = service.sign_contract(
        world["secretary"],
        e.id,
        CLOSES + 2 * D,
        starts_on=date(2026, 4, 1),
        ends_on=date(2029, 3, 31),
        fee_per_m2=Decimal("1.50"),
        service_level="二级",
        commitments="报修24小时到场",
    )
    db.session.commit()
    assert contract.company_id == world["companies"][0].id
    assert e.status == "signed"
    assert service.current_contract(world["compound"], date(2026, 5, 1)).id == contract.id


def test_committee_cannot_sign(world):
    e = _full_run(world, {0: "A", 2: "A", 3: "A", 4: "B", 5: "A"})
    with pytest.raises(PermissionDenied):
        service.sign_contract(
            world["committee"],
            e.id,
            CLOSES + 2 * D,
            starts_on=date(2026, 4, 1),
            ends_on=date(2029, 3, 31),
            fee_per_m2=Decimal("1.50"),
            service_level="二级",
            commitments="",
        )


def test_verify_catches_an_edited_ballot(world):
    e = _full_run(world, {0: "A", 2: "A", 3: "A", 4: "B", 5: "A"})
    ballot = db.session.scalar(select(Ballot).where(Ballot.choice == "B"))
    ballot.choice = "A"
    db.session.commit()
    v = service.verify(e)
    assert not v.ok and v.record_mismatches and v.tally_matches is False
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.seq == 2))
    entry.record = entry.record.replace('"A"', '"B"')
    db.session.commit()
    assert service.verify(e).chain_breaks == [2]


def test_objection_upheld_refreezes_with_new_fingerprint(world):
    e = _hire(world)
    first = service.announce(world["secretary"], e, NOW)
    db.session.commit()
    resident = world["owners"][2]
    unit = world["units"][2]
    objection = service.object_to_roll(resident, e, NOW + D, unit.id, "面积登记错误")
    db.session.commit()
    # the secretary corrects the roster, then upholds
    unit.area_m2 = Decimal("90.00")
    db.session.commit()
    second = service.resolve_objection(
        world["secretary"], e, objection.id, NOW + 2 * D, upheld=True, resolution="已更正面积"
    )
    db.session.commit()
    assert second.fingerprint != first.fingerprint and second.reason == "已更正面积"
    versions = db.session.scalars(select(RollVersion).order_by(RollVersion.version)).all()
    assert [v.fingerprint for v in versions] == [first.fingerprint, second.fingerprint]
    assert e.roll_fingerprint == second.fingerprint
    # no objections once voting is open
    with pytest.raises(InvalidTransition):
        service.object_to_roll(resident, e, OPENS, unit.id, "x")


def test_turnout_per_building_never_shows_choices(world):
    e = _hire(world)
    service.announce(world["secretary"], e, NOW)
    db.session.commit()
    service.cast_online(world["owners"][0], e.id, "A", OPENS)
    db.session.commit()
    t = service.turnout(e)
    assert t.participation.owners == 1 and t.participation.area_m2 == Decimal("177.00")
    b1 = t.buildings[0]
    assert (b1.units, b1.voted_units) == (4, 2)
    assert t.shortfall.owners == 3  # 4 of 6 needed
    assert not hasattr(t, "options")


def test_compound_page_shows_the_current_contract(world, client):
    from tests.conftest import text_of

    compound = world["compound"]
    assert "No service contract" in text_of(client.get(f"/compounds/{compound.code}?lang=en"))
    e = _full_run(world, {0: "A", 2: "A", 3: "A", 4: "B", 5: "A"})
    today = service.local_today()
    service.sign_contract(
        world["secretary"],
        e.id,
        CLOSES + 2 * D,
        starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=700),
        fee_per_m2=Decimal("1.50"),
        service_level="二级",
        commitments="",
    )
    db.session.commit()
    text = text_of(client.get(f"/compounds/{compound.code}?lang=en"))
    assert "Property company: 甲物业公司" in text and "¥1.50" in text


def test_announcement_and_certified_result_are_posted_as_notices(world):
    from portal.notices.models import Notice

    e = _full_run(world, {0: "A", 2: "A", 3: "A", 4: "B", 5: "A"})
    notices = db.session.scalars(select(Notice).order_by(Notice.id)).all()
    assert [n.category for n in notices] == ["election", "election"]
    assert "选聘物业" in notices[0].title and "选聘物业" in notices[1].title
    assert notices[0].title != notices[1].title
    # certifying twice is refused, and no second notice appears
    with pytest.raises(InvalidTransition):
        service.certify(world["secretary"], e.id, CLOSES + 2 * D)
    db.session.rollback()
    assert len(db.session.scalars(select(Notice)).all()) == 2
