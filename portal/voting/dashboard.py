"""Read-only queries and view helpers for the staff pages of elections and the street dashboard.

Nothing here changes data (every change goes through ``service``). Each helper loads one kind
of data for a whole page in one query, so the pages run a constant number of SQL statements
however many compounds, elections or ballots they show.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from portal import security
from portal.accounts.models import User
from portal.extensions import db
from portal.paging import paginate
from portal.places.models import Community, Compound, Street
from portal.voting import labels, tally, workflow
from portal.voting.models import Ballot, Contract, Election, Objection, RollEntry

SHANGHAI = ZoneInfo("Asia/Shanghai")
RENEWAL_MONTHS = 6
UNDER_WAY = ("announced", "closed")  # voting announced/open/ended, or counted but not certified
ACTIVE = ("draft", "announced", "closed", "certified")  # not yet ended by a signed contract
DONE = ("closed", "certified", "signed")  # the tally is recorded


# ---- time ------------------------------------------------------------------------------------


def local_today(now: datetime) -> date:
    """The calendar day in Asia/Shanghai (contracts run by local days)."""
    return now.astimezone(SHANGHAI).date()


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's last day (31 Aug + 6 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def renewal_cutoff(now: datetime) -> date:
    return add_months(local_today(now), RENEWAL_MONTHS)


def local_to_utc(day: date, at) -> datetime:
    """A date and a wall-clock time in Asia/Shanghai as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=SHANGHAI).astimezone(UTC)


def utc_to_local(value: datetime | None):
    """(date, time) in Asia/Shanghai of an aware datetime, or (None, None)."""
    if value is None:
        return None, None
    local = value.astimezone(SHANGHAI)
    return local.date(), local.time().replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Deadline:
    """The next date in an election's legal calendar, as staff need to see it.

    kind: draft (``at`` = the earliest lawful opening if announced now), opens, closes,
    result_due, certified (``at`` = end of the challenge window), signed.
    """

    kind: str
    at: datetime | None
    late: bool = False


def deadline(election: Election, now: datetime, cal: workflow.Calendar) -> Deadline:
    phase = workflow.phase(election.status, election.opens_at, election.closes_at, now)
    if phase == "draft":
        return Deadline("draft", now + timedelta(days=cal.notice_days))
    if phase == "announced":
        return Deadline("opens", election.opens_at)
    if phase == "open":
        return Deadline("closes", election.closes_at)
    if phase in ("ended", "closed"):
        due = workflow.result_due(election.closes_at, cal)
        return Deadline("result_due", due, workflow.result_late(election.closes_at, None, now, cal))
    if phase == "certified":
        late = bool(
            election.closes_at
            and election.certified_at
            and workflow.result_late(election.closes_at, election.certified_at, now, cal)
        )
        until = (
            workflow.challenge_until(election.certified_at, cal) if election.certified_at else None
        )
        return Deadline("certified", until, late)
    return Deadline("signed", None)


# ---- who runs what ---------------------------------------------------------------------------


def _runnable_condition(actor):
    """A WHERE clause on Compound for the compounds ``actor`` may run elections in."""
    if security.is_admin(actor):
        return None
    communities = security.role_ids(actor, "secretary")
    compounds = security.role_ids(actor, "committee")
    if not communities and not compounds:
        return false()
    return or_(Compound.community_id.in_(communities), Compound.id.in_(compounds))


def runnable_compounds(actor) -> list[Compound]:
    """The compounds whose elections ``actor`` runs (service.may_run), with their community."""
    stmt = (
        select(Compound)
        .join(Community, Community.id == Compound.community_id)
        .options(contains_eager(Compound.community))
        .order_by(Community.name, Compound.name, Compound.id)
    )
    cond = _runnable_condition(actor)
    if cond is not None:
        stmt = stmt.where(cond)
    return list(db.session.scalars(stmt))


def desk_elections(actor, page: int, per_page: int):
    """The elections of every compound ``actor`` may run, newest first, one page."""
    stmt = (
        select(Election)
        .join(Compound, Compound.id == Election.compound_id)
        .join(Community, Community.id == Compound.community_id)
        .options(contains_eager(Election.compound).contains_eager(Compound.community))
        .order_by(Election.created_at.desc(), Election.id.desc())
    )
    cond = _runnable_condition(actor)
    if cond is not None:
        stmt = stmt.where(cond)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def may_sign(actor, election: Election) -> bool:
    """As service.sign_contract decides: the community secretary, or the site admin."""
    return security.is_admin(actor) or election.compound.community_id in security.role_ids(
        actor, "secretary"
    )


# ---- contracts and renewal reminders ---------------------------------------------------------


def contracts_by_compound(compound_ids) -> dict[int, list[Contract]]:
    """Every contract of these compounds with its company, in one query."""
    ids = list(compound_ids)
    out: dict[int, list[Contract]] = defaultdict(list)
    if not ids:
        return out
    for c in db.session.scalars(
        select(Contract)
        .where(Contract.compound_id.in_(ids))
        .options(joinedload(Contract.company))
        .order_by(Contract.compound_id, Contract.ends_on.desc(), Contract.id.desc())
    ):
        out[c.compound_id].append(c)
    return out


def current_of(contracts: list[Contract], today: date) -> Contract | None:
    """As service.current_contract: the started contract that ends last."""
    return next((c for c in contracts if c.starts_on <= today), None)


def has_successor(contracts: list[Contract], today: date) -> bool:
    """A contract signed to start later (the renewal is already done)."""
    return any(c.starts_on > today for c in contracts)


@dataclass(frozen=True)
class Renewal:
    compound: Compound
    contract: Contract
    ended: bool
    election: Election | None  # an election of the compound already under way


def renewal_reminders(actor, now: datetime) -> list[Renewal]:
    """For a secretary or committee member: each of their compounds whose current contract
    ends within six months (or has ended) with no successor signed. Three queries."""
    communities = security.role_ids(actor, "secretary")
    committee = security.role_ids(actor, "committee")
    if not communities and not committee:
        return []
    compounds = list(
        db.session.scalars(
            select(Compound)
            .join(Community, Community.id == Compound.community_id)
            .options(contains_eager(Compound.community))
            .where(or_(Compound.community_id.in_(communities), Compound.id.in_(committee)))
            .order_by(Community.name, Compound.name)
        )
    )
    today, cutoff = local_today(now), renewal_cutoff(now)
    contracts = contracts_by_compound(c.id for c in compounds)
    due = []
    for compound in compounds:
        mine = contracts.get(compound.id, [])
        current = current_of(mine, today)
        if current is None or current.ends_on > cutoff or has_successor(mine, today):
            continue
        due.append((compound, current))
    if not due:
        return []
    active: dict[int, Election] = {}
    for e in db.session.scalars(
        select(Election)
        .where(Election.compound_id.in_([c.id for c, _ in due]), Election.status.in_(ACTIVE))
        .order_by(Election.created_at.desc(), Election.id.desc())
    ):
        active.setdefault(e.compound_id, e)
    return [
        Renewal(compound, contract, contract.ends_on < today, active.get(compound.id))
        for compound, contract in sorted(due, key=lambda pair: pair[1].ends_on)
    ]


# ---- the control room --------------------------------------------------------------------


def objections(election: Election) -> list[Objection]:
    """The roll objections with the resident and the unit's building (for its label)."""
    from portal.places.models import Unit

    return list(
        db.session.scalars(
            select(Objection)
            .where(Objection.election_id == election.id)
            .options(
                joinedload(Objection.user),
                joinedload(Objection.unit).joinedload(Unit.building),
            )
            .order_by(Objection.created_at, Objection.id)
        )
    )


def contract_of(election: Election) -> Contract | None:
    return db.session.scalar(
        select(Contract)
        .where(Contract.election_id == election.id)
        .options(joinedload(Contract.company))
        .order_by(Contract.id.desc())
    )


@dataclass
class OptionRow:
    key: str
    label: str
    owners: int
    area_m2: Decimal
    owners_share: Fraction
    area_share: Fraction
    meets_approval: bool
    winner: bool


@dataclass
class ResultView:
    """The tally recorded at closing (election.result), with the shares staff read."""

    rule: str
    electorate_owners: int
    electorate_area: Decimal
    owners: int
    area_m2: Decimal
    owners_turnout: Fraction
    area_turnout: Fraction
    quorum_met: bool
    options: list[OptionRow]
    abstain_owners: int
    abstain_area: Decimal
    outcome: str
    winner_label: str | None
    errors: list[dict] = field(default_factory=list)


def _cents(text) -> int:
    return int(Decimal(str(text)).scaleb(2))


def result_view(election: Election) -> ResultView | None:
    data = election.result
    if not data:
        return None
    rule = data["rule"]
    part_owners = data["participation"]["owners"]
    part_cents = _cents(data["participation"]["area_m2"])
    counted = {o["key"]: o for o in data["options"]}
    rows = []
    for option in election.options:
        o = counted.get(option.key, {"owners": 0, "area_m2": "0.00"})
        cents = _cents(o["area_m2"])
        rows.append(
            OptionRow(
                key=option.key,
                label=labels.option_label(option),
                owners=o["owners"],
                area_m2=Decimal(o["area_m2"]),
                owners_share=tally.ratio(o["owners"], part_owners),
                area_share=tally.ratio(cents, part_cents),
                meets_approval=tally.approval_reached(
                    rule, o["owners"], cents, part_owners, part_cents
                ),
                winner=data.get("winner") == option.key,
            )
        )
    winner = next((r.label for r in rows if r.winner), None)
    return ResultView(
        rule=rule,
        electorate_owners=data["electorate"]["owners"],
        electorate_area=Decimal(data["electorate"]["area_m2"]),
        owners=part_owners,
        area_m2=Decimal(data["participation"]["area_m2"]),
        owners_turnout=tally.ratio(part_owners, data["electorate"]["owners"]),
        area_turnout=tally.ratio(part_cents, _cents(data["electorate"]["area_m2"])),
        quorum_met=data["participation"]["quorum_met"],
        options=rows,
        abstain_owners=data["abstain"]["owners"],
        abstain_area=Decimal(data["abstain"]["area_m2"]),
        outcome=data["outcome"],
        winner_label=winner,
        errors=list(data.get("errors") or []),
    )


# ---- paper ballots -----------------------------------------------------------------------------


def _natural(text: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def roll_buildings(election: Election) -> list[str]:
    names = db.session.scalars(
        select(RollEntry.building_name)
        .where(RollEntry.election_id == election.id, RollEntry.excluded.is_(False))
        .distinct()
    )
    return sorted(names, key=_natural)


def building_units(election: Election, building: str, page: int, per_page: int):
    """One page of a building's roll units, each with the state of its owner's ballot
    (None, "pending" or "counted") — never the choice."""
    stmt = (
        select(RollEntry, Ballot.state)
        .outerjoin(
            Ballot,
            and_(
                Ballot.election_id == RollEntry.election_id, Ballot.voter_key == RollEntry.voter_key
            ),
        )
        .where(
            RollEntry.election_id == election.id,
            RollEntry.building_name == building,
            RollEntry.excluded.is_(False),
        )
        .order_by(func.length(RollEntry.unit_label), RollEntry.unit_label)
    )
    total = db.session.scalar(
        select(func.count(RollEntry.id)).where(
            RollEntry.election_id == election.id,
            RollEntry.building_name == building,
            RollEntry.excluded.is_(False),
        )
    )
    page = max(1, page)
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return SimplePage(rows, page, per_page, total or 0)


def roll_entry(election: Election, unit_id: int) -> RollEntry | None:
    return db.session.scalar(
        select(RollEntry).where(
            RollEntry.election_id == election.id,
            RollEntry.unit_id == unit_id,
            RollEntry.excluded.is_(False),
        )
    )


def roll_entry_by_room(election: Election, building: str, room: str) -> RollEntry | None:
    return db.session.scalar(
        select(RollEntry).where(
            RollEntry.election_id == election.id,
            RollEntry.building_name == building,
            RollEntry.unit_label == f"{building} {room.strip()}",
            RollEntry.excluded.is_(False),
        )
    )


@dataclass
class SimplePage:
    """The few attributes of a Flask-SQLAlchemy Pagination that the pager macro reads."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


@dataclass
class PendingRow:
    ballot: Ballot
    units: list[str]
    entered_by: User | None


def pending_page(election: Election, page: int, per_page: int):
    """The paper and proxy ballots waiting for a second person, oldest first, one page,
    with their units and who entered them (three queries)."""
    stmt = (
        select(Ballot)
        .where(Ballot.election_id == election.id, Ballot.state == "pending")
        .order_by(Ballot.cast_at, Ballot.id)
    )
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    pagination.rows = pending_rows(election, pagination.items)
    return pagination


def pending_rows(election: Election, ballots: list[Ballot]) -> list[PendingRow]:
    if not ballots:
        return []
    keys = {b.voter_key for b in ballots}
    units: dict[str, list[str]] = defaultdict(list)
    for key, label in db.session.execute(
        select(RollEntry.voter_key, RollEntry.unit_label)
        .where(RollEntry.election_id == election.id, RollEntry.voter_key.in_(keys))
        .order_by(RollEntry.unit_label)
    ):
        units[key].append(label)
    user_ids = {b.entered_by_id for b in ballots if b.entered_by_id}
    users = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    return [
        PendingRow(b, sorted(units.get(b.voter_key, []), key=_natural), users.get(b.entered_by_id))
        for b in ballots
    ]


# ---- the street dashboard --------------------------------------------------------------------


def officer_streets(actor) -> list[Street]:
    """The streets ``actor`` oversees (every street for the site admin)."""
    stmt = select(Street).order_by(Street.name, Street.id)
    if not security.is_admin(actor):
        ids = security.role_ids(actor, "street")
        if not ids:
            return []
        stmt = stmt.where(Street.id.in_(ids))
    return list(db.session.scalars(stmt))


def street_communities(street: Street) -> list[Community]:
    return list(
        db.session.scalars(
            select(Community).where(Community.street_id == street.id).order_by(Community.name)
        )
    )


@dataclass(frozen=True)
class LiveTurnout:
    owners: int
    electorate_owners: int
    area_m2: Decimal
    electorate_area: Decimal

    @property
    def owners_ratio(self) -> Fraction:
        return tally.ratio(self.owners, self.electorate_owners)

    @property
    def area_ratio(self) -> Fraction:
        return tally.ratio(int(self.area_m2 * 100), int(self.electorate_area * 100))

    @property
    def quorum_met(self) -> bool:
        return self.owners * 3 >= self.electorate_owners * 2 and int(self.area_m2 * 100) * 3 >= (
            int(self.electorate_area * 100) * 2
        )


def live_turnouts(election_ids) -> dict[int, LiveTurnout]:
    """Participation (never choices) of several elections in one grouped query: the owners and
    area on each roll, and of them the owners and area with a counted ballot (one ballot per
    voter key at most, so the outer join repeats no roll row)."""
    ids = list(election_ids)
    if not ids:
        return {}
    cent = Decimal("0.01")
    voted_key = case((Ballot.id.is_not(None), RollEntry.voter_key))
    voted_area = case((Ballot.id.is_not(None), RollEntry.area_m2))
    electorate, voted = {}, {}
    for eid, owners, area, v_owners, v_area in db.session.execute(
        select(
            RollEntry.election_id,
            func.count(func.distinct(RollEntry.voter_key)),
            func.sum(RollEntry.area_m2),
            func.count(func.distinct(voted_key)),
            func.sum(voted_area),
        )
        .outerjoin(
            Ballot,
            and_(
                Ballot.election_id == RollEntry.election_id,
                Ballot.voter_key == RollEntry.voter_key,
                Ballot.state == "counted",
            ),
        )
        .where(RollEntry.election_id.in_(ids), RollEntry.excluded.is_(False))
        .group_by(RollEntry.election_id)
    ):
        electorate[eid] = (owners, Decimal(area or 0).quantize(cent))
        if v_owners:
            voted[eid] = (v_owners, Decimal(v_area or 0).quantize(cent))
    zero = (0, Decimal("0.00"))
    return {
        eid: LiveTurnout(
            voted.get(eid, zero)[0],
            electorate.get(eid, zero)[0],
            voted.get(eid, zero)[1],
            electorate.get(eid, zero)[1],
        )
        for eid in ids
    }


@dataclass
class StreetRow:
    compound: Compound
    contract: Contract | None
    contract_ending: bool
    contract_ended: bool
    under_way: list[Election]
    latest: Election | None  # the latest counted election
    late: bool


@dataclass(frozen=True)
class StreetFilters:
    community: str = ""
    under_way: bool = False
    ending: bool = False
    late: bool = False

    @property
    def active(self) -> bool:
        return bool(self.community or self.under_way or self.ending or self.late)


def _late_certified_compounds(street: Street, now: datetime, cal: workflow.Calendar) -> set[int]:
    """Compounds whose latest certified result was announced after its due time."""
    latest: dict[int, tuple] = {}
    for compound_id, closes_at, certified_at in db.session.execute(
        select(Election.compound_id, Election.closes_at, Election.certified_at)
        .join(Compound, Compound.id == Election.compound_id)
        .join(Community, Community.id == Compound.community_id)
        .where(
            Community.street_id == street.id,
            Election.status.in_(("certified", "signed")),
            Election.certified_at.is_not(None),
            Election.closes_at.is_not(None),
        )
        .order_by(Election.certified_at.desc())
    ):
        latest.setdefault(compound_id, (closes_at, certified_at))
    return {
        cid
        for cid, (closes_at, certified_at) in latest.items()
        if workflow.result_late(closes_at, certified_at, now, cal)
    }


def street_page(
    street: Street,
    filters: StreetFilters,
    page: int,
    per_page: int,
    now: datetime,
    cal: workflow.Calendar,
):
    """One page of the street's compounds, filtered, with their contract, elections under way
    (and live turnout), latest result and late flag. A constant number of queries."""
    today, cutoff = local_today(now), renewal_cutoff(now)
    overdue_before = now - timedelta(days=cal.result_days)
    stmt = (
        select(Compound)
        .join(Community, Community.id == Compound.community_id)
        .options(contains_eager(Compound.community))
        .where(Community.street_id == street.id)
        .order_by(Community.name, Compound.name, Compound.id)
    )
    if filters.community:
        stmt = stmt.where(Community.code == filters.community)
    if filters.under_way:
        stmt = stmt.where(
            Compound.id.in_(select(Election.compound_id).where(Election.status.in_(UNDER_WAY)))
        )
    if filters.ending:
        current_end = (
            select(Contract.compound_id)
            .where(Contract.starts_on <= today)
            .group_by(Contract.compound_id)
            .having(func.max(Contract.ends_on) <= cutoff)
        )
        successor = select(Contract.compound_id).where(Contract.starts_on > today)
        stmt = stmt.where(Compound.id.in_(current_end), Compound.id.not_in(successor))
    if filters.late:
        overdue = select(Election.compound_id).where(
            Election.status.in_(UNDER_WAY), Election.closes_at < overdue_before
        )
        late_certified = _late_certified_compounds(street, now, cal)
        stmt = stmt.where(or_(Compound.id.in_(overdue), Compound.id.in_(late_certified)))
    pagination = paginate(stmt, page, per_page)
    compounds = pagination.items
    ids = [c.id for c in compounds]

    contracts = contracts_by_compound(ids)
    elections: dict[int, list[Election]] = defaultdict(list)
    if ids:
        for e in db.session.scalars(
            select(Election)
            .where(Election.compound_id.in_(ids), Election.status != "draft")
            .options(joinedload(Election.options))
            .order_by(Election.created_at.desc(), Election.id.desc())
        ).unique():
            elections[e.compound_id].append(e)
    live_ids = [e.id for es in elections.values() for e in es if e.status in UNDER_WAY]
    turnouts = live_turnouts(live_ids)

    rows = []
    for compound in compounds:
        mine = contracts.get(compound.id, [])
        current = current_of(mine, today)
        succeeded = has_successor(mine, today)
        es = elections.get(compound.id, [])
        under_way = [e for e in es if e.status in UNDER_WAY]
        counted = [e for e in es if e.status in DONE and e.result is not None]
        latest = max(
            counted,
            key=lambda e: e.closed_at or datetime.min.replace(tzinfo=UTC),
            default=None,
        )
        late = any(
            e.closes_at is not None and e.closes_at < overdue_before for e in under_way
        ) or bool(
            latest is not None
            and latest.certified_at is not None
            and latest.closes_at is not None
            and workflow.result_late(latest.closes_at, latest.certified_at, now, cal)
        )
        rows.append(
            StreetRow(
                compound=compound,
                contract=current,
                contract_ending=bool(current and current.ends_on <= cutoff and not succeeded),
                contract_ended=bool(current and current.ends_on < today and not succeeded),
                under_way=under_way,
                latest=latest,
                late=late,
            )
        )
    pagination.rows = rows
    pagination.turnouts = turnouts
    return pagination


def companies() -> list:
    """Every property company, by name (the candidate and contract selects)."""
    from portal.places.models import Company

    return list(db.session.scalars(select(Company).order_by(Company.name, Company.id)))
