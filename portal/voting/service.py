"""Elections: every change goes through here (the acting user is passed in, never read).

Lifecycle: a draft is announced (the roll is frozen and fingerprinted), voting opens and closes
by the clock, the secretary closes the count (the tally is recorded), certifies the result, and
records the contract signed with the elected company.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.util import identity_key

from portal import audit, security
from portal.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.locking import lock_loaded, lock_row, with_retry  # noqa: F401  (with_retry: routes)
from portal.models_base import utcnow
from portal.places.models import Building, Company, Compound, Unit
from portal.voting import ledger, rollfile, tally, workflow
from portal.voting.models import (
    Ballot,
    Contract,
    Election,
    LedgerEntry,
    Objection,
    Option,
    RollEntry,
    RollVersion,
)

YES_NO = (("yes", "Yes"), ("no", "No"))


class AlreadyVoted(Conflict):
    def __init__(self, message: str, receipt: str):
        super().__init__(message)
        self.receipt = receipt


def calendar() -> workflow.Calendar:
    cfg = current_app.config
    return workflow.Calendar(
        notice_days=cfg.get("ELECTION_NOTICE_DAYS", 15),
        min_window_days=cfg.get("ELECTION_MIN_WINDOW_DAYS", 5),
        max_window_days=cfg.get("ELECTION_MAX_WINDOW_DAYS", 60),
        result_days=cfg.get("ELECTION_RESULT_DAYS", 3),
        challenge_days=cfg.get("ELECTION_CHALLENGE_DAYS", 365),
    )


def phase_of(election: Election, now: datetime) -> str:
    return workflow.phase(election.status, election.opens_at, election.closes_at, now)


# ---- permissions ------------------------------------------------------------


def may_run(actor, compound: Compound) -> bool:
    """The community secretary, the compound's owners' committee, or the site admin."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return (
        security.is_admin(actor)
        or compound.community_id in security.role_ids(actor, "secretary")
        or compound.id in security.role_ids(actor, "committee")
    )


def _require_runner(actor, election_or_compound) -> None:
    compound = (
        election_or_compound.compound
        if isinstance(election_or_compound, Election)
        else election_or_compound
    )
    if not may_run(actor, compound):
        raise PermissionDenied(
            _("Only the community secretary or the owners' committee runs this election.")
        )


def _step(election: Election, action: str, now: datetime) -> str:
    try:
        return workflow.next_state(action, phase_of(election, now))
    except workflow.TransitionRefused as e:
        raise InvalidTransition(
            _("This cannot be done while the election is in this phase.")
        ) from e


# ---- loading ------------------------------------------------------------


def get_election(election_id: int) -> Election:
    """The election with its compound, community and options, in one query."""
    election = (
        db.session.execute(
            select(Election)
            .where(Election.id == election_id)
            .options(
                joinedload(Election.compound).joinedload(Compound.community),
                joinedload(Election.options).joinedload(Option.company),
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if election is None:
        raise NotFound()
    return election


def elections_of(compound: Compound) -> list[Election]:
    return list(
        db.session.scalars(
            select(Election)
            .where(Election.compound_id == compound.id)
            .options(selectinload(Election.options))
            .order_by(Election.created_at.desc(), Election.id.desc())
        )
    )


def visible_to(actor, election: Election) -> bool:
    """Drafts are seen by those who run the election only."""
    return election.status != "draft" or may_run(actor, election.compound)


# ---- drafting ------------------------------------------------------------


def create_election(
    actor,
    compound: Compound,
    *,
    title: str,
    matter: str,
    rule: str,
    description: str = "",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> Election:
    _require_runner(actor, compound)
    if matter not in workflow.MATTERS or rule not in workflow.RULES:
        raise ValidationFailed(_("Choose the matter and the rule of the vote."))
    election = Election(
        compound_id=compound.id,
        title=title.strip(),
        description=(description or "").strip(),
        matter=matter,
        rule=rule,
        opens_at=opens_at,
        closes_at=closes_at,
        created_by_id=actor.id,
        voter_salt=secrets.token_hex(16),
    )
    election.compound = compound
    if matter in ("renew", "dismiss"):
        election.options = [Option(key="yes", label="yes"), Option(key="no", label="no")]
    db.session.add(election)
    db.session.flush()
    audit.record("election.created", actor, election, compound=compound.id, matter=matter)
    return election


def update_draft(
    actor,
    election: Election,
    now: datetime,
    *,
    title: str,
    description: str,
    rule: str,
    opens_at: datetime | None,
    closes_at: datetime | None,
) -> None:
    _require_runner(actor, election)
    _step(election, "edit", now)
    if rule not in workflow.RULES:
        raise ValidationFailed(_("Choose the matter and the rule of the vote."))
    election.title = title.strip()
    election.description = (description or "").strip()
    election.rule = rule
    election.opens_at = opens_at
    election.closes_at = closes_at
    audit.record("election.edited", actor, election)


def add_candidate(
    actor,
    election: Election,
    now: datetime,
    *,
    label: str,
    company: Company | None,
    fee_per_m2: Decimal | None,
    service_level: str | None,
    commitments: str,
    document: str | None = None,
) -> Option:
    _require_runner(actor, election)
    _step(election, "edit", now)
    if election.matter != "hire":
        raise InvalidTransition(_("Only an election to hire a company has candidates."))
    used = {o.key for o in election.options}
    key = next(chr(c) for c in range(ord("A"), ord("Z") + 1) if chr(c) not in used)
    option = Option(
        key=key,
        label=label.strip(),
        company_id=company.id if company else None,
        fee_per_m2=fee_per_m2,
        service_level=service_level,
        commitments=(commitments or "").strip(),
        document=document,
    )
    election.options.append(option)
    db.session.flush()
    audit.record("election.candidate_added", actor, election, key=key, label=option.label)
    return option


def remove_candidate(actor, election: Election, now: datetime, option_id: int) -> None:
    _require_runner(actor, election)
    _step(election, "edit", now)
    option = next((o for o in election.options if o.id == option_id), None)
    if option is None or election.matter != "hire":
        raise NotFound()
    election.options.remove(option)
    audit.record("election.candidate_removed", actor, election, key=option.key)


# ---- the roll ------------------------------------------------------------


def _voter_key(election: Election, basis: str) -> str:
    digest = hmac.new(election.voter_salt.encode(), basis.encode(), hashlib.sha256).hexdigest()
    return "V" + digest[:11].upper()


def _build_roll(election: Election) -> list[RollEntry]:
    """One row per unit of the compound's roster: owners grouped by their roster key, the
    developer's units all under one key, a unit without a named owner as its own owner."""
    rows = db.session.execute(
        select(Unit, Building.name)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == election.compound_id)
        .options(joinedload(Unit.owner))
        .order_by(Building.sort_key, Unit.room)
    ).all()
    entries = []
    for unit, building_name in rows:
        if unit.developer_held:
            basis = "developer"
        elif unit.owner is not None:
            basis = "owner:" + unit.owner.owner_key
        else:
            basis = f"unit:{unit.id}"
        entries.append(
            RollEntry(
                election_id=election.id,
                unit_id=unit.id,
                unit_label=f"{building_name} {unit.room}",
                building_name=building_name,
                voter_key=_voter_key(election, basis),
                area_m2=unit.area_m2,
            )
        )
    return entries


def _roll_records(entries) -> list[tally.RollEntry]:
    return [
        tally.RollEntry(voter_key=e.voter_key, unit=e.unit_label, area_m2=e.area_m2)
        for e in entries
        if not e.excluded
    ]


def _freeze(actor, election: Election, reason: str, excluded_units: set[int]) -> RollVersion:
    for old in db.session.scalars(select(RollEntry).where(RollEntry.election_id == election.id)):
        db.session.delete(old)
    db.session.flush()
    entries = _build_roll(election)
    if not entries:
        raise ValidationFailed(
            _("The compound has no units on its roster yet. Import the roster first.")
        )
    for e in entries:
        e.excluded = e.unit_id in excluded_units
    if all(e.excluded for e in entries):
        raise ValidationFailed(_("The roll cannot be left without any unit."))
    db.session.add_all(entries)
    records = _roll_records(entries)
    electorate = tally.electorate_of(records)
    csv_bytes = rollfile.canonical_roll_csv(records)
    version_no = (
        db.session.scalar(
            select(func.max(RollVersion.version)).where(RollVersion.election_id == election.id)
        )
        or 0
    ) + 1
    version = RollVersion(
        election_id=election.id,
        version=version_no,
        fingerprint=rollfile.roll_fingerprint(records),
        csv=csv_bytes.decode(),
        reason=reason,
        owners=electorate.owners,
        area_m2=electorate.area_m2,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(version)
    election.roll_fingerprint = version.fingerprint
    db.session.flush()
    return version


def announce(actor, election: Election, now: datetime) -> RollVersion:
    _require_runner(actor, election)
    new_state = _step(election, "announce", now)
    if election.matter == "hire" and not election.options:
        raise ValidationFailed(_("Add at least one candidate company before announcing."))
    if election.opens_at is None or election.closes_at is None:
        raise ValidationFailed(_("Set when voting opens and closes before announcing."))
    try:
        workflow.check_schedule(now, election.opens_at, election.closes_at, calendar())
    except workflow.ScheduleError as e:
        raise ValidationFailed(schedule_message(e)) from e
    version = _freeze(actor, election, "", set())
    election.status = new_state
    election.announced_at = now
    election.ledger_head = ledger.GENESIS
    audit.record(
        "election.announced", actor, election, roll=version.fingerprint, owners=version.owners
    )
    _post_notice(election, "announced", now)
    return version


def _post_notice(election: Election, event: str, now: datetime) -> None:
    """Post the election's announcement or certified result on the compound's notices, in
    Chinese (the language of the paper board), linking to the election page."""
    from flask_babel import force_locale

    from portal.notices.service import post_system_notice

    with force_locale("zh_Hans_CN"):
        if event == "announced":
            title = _("Election announced: %(title)s", title=election.title)
            body = _(
                "The owners of %(compound)s will vote on: %(matter)s. Voting opens on "
                "%(opens)s and closes on %(closes)s. The roll of owners and its fingerprint "
                "%(fingerprint)s are published on the election page; objections to the roll "
                "can be raised there until voting opens.",
                compound=election.compound.name,
                matter=_matter_text(election),
                opens=_local(election.opens_at),
                closes=_local(election.closes_at),
                fingerprint=(election.roll_fingerprint or "")[:16],
            )
        else:
            result = election.result or {}
            title = _("Election result certified: %(title)s", title=election.title)
            body = _(
                "The result of the vote on %(matter)s in %(compound)s has been certified "
                "(outcome: %(outcome)s). The full result, the ballots file and the receipt "
                "lookup are on the election page. A decision may be challenged in court "
                "within one year.",
                matter=_matter_text(election),
                compound=election.compound.name,
                outcome=_outcome_text(result),
            )
    post_system_notice(
        scope_type="compound",
        scope_id=election.compound_id,
        category="election",
        title=title,
        body=body,
        link_endpoint="voting.election",
        link_args={"election_id": election.id},
        source=f"election:{election.id}:{event}",
        now=now,
    )


def _local(when: datetime | None) -> str:
    from zoneinfo import ZoneInfo

    if when is None:
        return ""
    return when.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


def _matter_text(election: Election) -> str:
    from portal.voting.labels import MATTER_LABELS

    return str(MATTER_LABELS[election.matter])


def _outcome_text(result: dict) -> str:
    from portal.voting.labels import OUTCOME_LABELS

    text = str(OUTCOME_LABELS.get(result.get("outcome"), result.get("outcome", "")))
    if result.get("winner"):
        text += f" ({result['winner']})"
    return text


def schedule_message(e: workflow.ScheduleError) -> str:
    return {
        "notice_too_short": _(
            "Voting may open no sooner than %(days)d days after the announcement.", **e.params
        ),
        "window_too_short": _("Voting must stay open at least %(days)d days.", **e.params),
        "window_too_long": _("Voting may stay open at most %(days)d days.", **e.params),
    }[e.code]


def roll_versions(election: Election) -> list[RollVersion]:
    return list(
        db.session.scalars(
            select(RollVersion)
            .where(RollVersion.election_id == election.id)
            .order_by(RollVersion.version)
        )
    )


def roll_entries(election: Election) -> list[RollEntry]:
    """The frozen roll, in building and unit order. Read once per GET request: the result page
    shows the turnout and verifies the tally from the same roll."""
    from flask import g, has_request_context, request

    if has_request_context() and request.method == "GET":
        memo = g.setdefault("_roll_entries", {})
        if election.id not in memo:
            memo[election.id] = _roll_entries(election)
        return memo[election.id]
    return _roll_entries(election)


def _roll_entries(election: Election) -> list[RollEntry]:
    return list(
        db.session.scalars(
            select(RollEntry)
            .where(RollEntry.election_id == election.id)
            .order_by(RollEntry.building_name, RollEntry.unit_label)
        )
    )


def object_to_roll(user, election: Election, now: datetime, unit_id: int | None, text: str):
    """A verified resident of the compound objects to an entry during the notice period."""
    _step(election, "object", now)
    if not _verified_units(user, election.compound_id):
        raise PermissionDenied(_("Only verified residents of this compound can object."))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("Say what is wrong with the roll."))
    if unit_id is not None and not db.session.scalar(
        select(RollEntry.id).where(
            RollEntry.election_id == election.id,
            RollEntry.unit_id == unit_id,
            RollEntry.excluded.is_(False),
        )
    ):
        raise ValidationFailed(_("That unit is not on this roll."))
    objection = Objection(election_id=election.id, user_id=user.id, unit_id=unit_id, text=text)
    db.session.add(objection)
    db.session.flush()
    audit.record("roll.objection", user, objection, election=election.id)
    return objection


def objections_of(election: Election) -> list[Objection]:
    return list(
        db.session.scalars(
            select(Objection)
            .where(Objection.election_id == election.id)
            .options(
                joinedload(Objection.user),
                joinedload(Objection.unit).joinedload(Unit.building),
            )
            .order_by(Objection.created_at)
        )
    )


def resolve_objection(
    actor,
    election: Election,
    objection_id: int,
    now: datetime,
    *,
    upheld: bool,
    resolution: str,
    exclude_unit: bool = False,
) -> RollVersion | None:
    """Dismiss, or uphold and re-freeze the roll from the (corrected) roster."""
    _require_runner(actor, election)
    _step(election, "refreeze", now)
    objection = db.session.get(Objection, objection_id)
    if objection is None or objection.election_id != election.id:
        raise NotFound()
    if objection.status != "open":
        raise Conflict(_("This objection has already been resolved."))
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationFailed(_("Write the resolution; the resident will see it."))
    objection.status = "upheld" if upheld else "dismissed"
    objection.resolution = resolution
    objection.resolved_at = now
    objection.resolved_by_id = actor.id
    version = None
    if upheld:
        excluded = {
            e.unit_id
            for e in db.session.scalars(
                select(RollEntry).where(
                    RollEntry.election_id == election.id, RollEntry.excluded.is_(True)
                )
            )
        }
        if exclude_unit and objection.unit_id:
            excluded.add(objection.unit_id)
        version = _freeze(actor, election, resolution, excluded)
    audit.record(
        "roll.objection_" + objection.status,
        actor,
        objection,
        election=election.id,
        roll=version.fingerprint if version else None,
    )
    return version


# ---- casting ------------------------------------------------------------


def _verified_units(user, compound_id: int, relation: str | None = None) -> list[int]:
    from portal.accounts.models import Membership

    stmt = (
        select(Membership.unit_id)
        .join(Unit, Unit.id == Membership.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(
            Membership.user_id == user.id,
            Membership.status == "verified",
            Building.compound_id == compound_id,
        )
    )
    if relation:
        stmt = stmt.where(Membership.relation == relation)
    return list(db.session.scalars(stmt))


def _voter_entry_stmt(user, election: Election):
    """The first roll entry of this election for a unit ``user`` verifiably owns. The roll
    holds only the election's compound, so no join to units and buildings is needed (which
    keeps PostgreSQL's planning, paid on every ballot page, small)."""
    from portal.accounts.models import Membership

    return (
        select(RollEntry)
        .join(
            Membership,
            (Membership.unit_id == RollEntry.unit_id)
            & (Membership.user_id == user.id)
            & (Membership.status == "verified")
            & (Membership.relation == "owner"),
        )
        .where(RollEntry.election_id == election.id, RollEntry.excluded.is_(False))
        .order_by(RollEntry.id)
        .limit(1)
    )


def voter_entry_for(user, election: Election) -> RollEntry | None:
    """The roll entry through which ``user`` votes: a unit they verifiably own (one query)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(_voter_entry_stmt(user, election))


def voter_entry_and_ballot(user, election: Election) -> tuple[RollEntry | None, Ballot | None]:
    """``voter_entry_for`` and the ballot already cast through it, in one query."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    row = db.session.execute(
        _voter_entry_stmt(user, election)
        .add_columns(Ballot)
        .outerjoin(
            Ballot,
            (Ballot.election_id == RollEntry.election_id)
            & (Ballot.voter_key == RollEntry.voter_key),
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


def ballot_of(election: Election, voter_key: str) -> Ballot | None:
    return db.session.scalar(
        select(Ballot).where(Ballot.election_id == election.id, Ballot.voter_key == voter_key)
    )


def _valid_choice(election: Election, choice: str) -> bool:
    return choice == tally.ABSTAIN or any(o.key == choice for o in election.options)


def _append_ledger(election: Election, ballot: Ballot) -> None:
    seq = election.ballot_count + 1
    record = ledger.canonical_ballot_record(
        ballot.voter_key, ballot.choice, ballot.channel, ballot.receipt, ballot.cast_at
    )
    prev = election.ledger_head or ledger.GENESIS
    entry_hash = ledger.chain_hash(prev, record)
    db.session.add(
        LedgerEntry(
            election_id=election.id, seq=seq, ballot_id=ballot.id, record=record, hash=entry_hash
        )
    )
    election.ledger_head = entry_hash
    election.ballot_count = seq


def _new_receipt() -> str:
    return ledger.new_receipt()


def already_voted(existing: Ballot | None) -> AlreadyVoted:
    """The refusal of a second ballot, with the receipt of the one already cast."""
    receipt = ledger.format_receipt(existing.receipt) if existing else ""
    return AlreadyVoted(
        _("This owner has already voted. Receipt: %(receipt)s", receipt=receipt), receipt
    )


def _already(election: Election, voter_key: str) -> AlreadyVoted:
    return already_voted(ballot_of(election, voter_key))


def _insert_ballot(
    election: Election, entry: RollEntry, choice: str, *, checked: bool = False, **fields
) -> Ballot:
    """Add the ballot of ``entry``'s owner; the unique (election, voter_key) has the last word.
    ``checked``: the caller has just found, under the election's lock, that there is none."""
    if not _valid_choice(election, choice):
        raise ValidationFailed(_("Choose one of the options."))
    if not checked and ballot_of(election, entry.voter_key) is not None:
        raise _already(election, entry.voter_key)
    election_id, voter_key = election.id, entry.voter_key
    ballot = Ballot(
        election_id=election_id,
        voter_key=voter_key,
        choice=choice,
        receipt=_new_receipt(),
        **fields,
    )
    db.session.add(ballot)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise _already(get_election(election_id), voter_key) from exc
    return ballot


def _lock(election_id: int) -> Election:
    """The election row, locked for this transaction (serialises the ledger).

    When the request has already loaded an announced election with its options and compound
    (the vote pages do), only the lock is taken and the election's columns are read again: its
    options and compound never change once it is announced (a draft is read in full)."""
    loaded = db.session.identity_map.get(identity_key(Election, election_id))
    if (
        loaded is not None
        and {"options", "compound", "status"} <= loaded.__dict__.keys()
        and loaded.status != "draft"
        and lock_loaded(loaded, Election.ballot_count)
    ):
        return loaded
    return lock_row(
        Election,
        election_id,
        Election.ballot_count,
        (selectinload(Election.options), joinedload(Election.compound)),
    )


def cast_online(user, election_id: int, choice: str, now: datetime) -> Ballot:
    election = _lock(election_id)
    _step(election, "vote", now)
    entry, existing = voter_entry_and_ballot(user, election)
    if entry is None:
        raise PermissionDenied(_("Only verified owners on this election's roll can vote online."))
    if existing is not None:
        raise already_voted(existing)
    ballot = _insert_ballot(
        election,
        entry,
        choice,
        checked=True,
        channel="online",
        state="counted",
        cast_at=now,
        user_id=user.id,
    )
    _append_ledger(election, ballot)
    audit.record("ballot.cast", user, election, channel="online")
    return ballot


def enter_paper(
    actor,
    election_id: int,
    unit_id: int,
    choice: str,
    now: datetime,
    *,
    channel: str = "paper",
    proxy_holder: str | None = None,
    proxy_document: str | None = None,
) -> Ballot:
    """Staff enter a paper (or proxy) ballot; it counts once a second staff member confirms."""
    election = _lock(election_id)
    _require_runner(actor, election)
    _step(election, "vote", now)
    if channel not in ("paper", "proxy"):
        raise ValidationFailed(_("Choose paper or proxy."))
    if channel == "proxy" and not ((proxy_holder or "").strip() and proxy_document):
        raise ValidationFailed(
            _("A proxy vote needs the proxy holder's name and the signed authorisation.")
        )
    entry = db.session.scalar(
        select(RollEntry).where(
            RollEntry.election_id == election.id,
            RollEntry.unit_id == unit_id,
            RollEntry.excluded.is_(False),
        )
    )
    if entry is None:
        raise ValidationFailed(_("That unit is not on this election's roll."))
    ballot = _insert_ballot(
        election,
        entry,
        choice,
        channel=channel,
        state="pending",
        cast_at=now,
        entered_by_id=actor.id,
        proxy_holder=(proxy_holder or "").strip() or None,
        proxy_document=proxy_document,
    )
    audit.record("ballot.entered", actor, ballot, election=election.id, channel=channel)
    return ballot


def pending_paper(election: Election) -> list[Ballot]:
    return list(
        db.session.scalars(
            select(Ballot)
            .where(Ballot.election_id == election.id, Ballot.state == "pending")
            .order_by(Ballot.cast_at)
        )
    )


def confirm_paper(actor, election_id: int, ballot_id: int, now: datetime) -> Ballot:
    election = _lock(election_id)
    _require_runner(actor, election)
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.election_id != election.id:
        raise NotFound()
    if ballot.state != "pending":
        raise Conflict(_("This ballot has already been confirmed."))
    if ballot.entered_by_id == actor.id:
        raise PermissionDenied(
            _("A second staff member must confirm: you entered this ballot yourself.")
        )
    if phase_of(election, now) not in ("open", "ended"):
        raise InvalidTransition(_("This cannot be done while the election is in this phase."))
    ballot.state = "counted"
    ballot.confirmed_by_id = actor.id
    ballot.confirmed_at = now
    _append_ledger(election, ballot)
    audit.record("ballot.confirmed", actor, ballot, election=election.id)
    return ballot


def discard_paper(actor, election_id: int, ballot_id: int, reason: str) -> None:
    """The second staff member finds the entry wrong: it is removed so it can be entered again."""
    election = _lock(election_id)
    _require_runner(actor, election)
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.election_id != election.id:
        raise NotFound()
    if ballot.state != "pending":
        raise Conflict(_("This ballot has already been confirmed."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Say why the entry is wrong."))
    audit.record(
        "ballot.discarded",
        actor,
        ballot,
        election=election.id,
        entered_by=ballot.entered_by_id,
        reason=reason.strip(),
    )
    db.session.delete(ballot)


# ---- counting ------------------------------------------------------------


def counted_ballots(election: Election) -> list[Ballot]:
    return list(
        db.session.scalars(
            select(Ballot)
            .join(LedgerEntry, LedgerEntry.ballot_id == Ballot.id)
            .where(Ballot.election_id == election.id, Ballot.state == "counted")
            .order_by(LedgerEntry.seq)
        )
    )


def compute_tally(election: Election, counted: list[Ballot] | None = None) -> tally.TallyResult:
    """The tally from the database; ``counted``: the counted ballots in ledger order, when the
    caller has loaded them already."""
    records = _roll_records(roll_entries(election))
    ballots = [
        tally.BallotRecord(
            line=None, voter_key=b.voter_key, choice=b.choice, channel=b.channel, receipt=b.receipt
        )
        for b in (counted if counted is not None else counted_ballots(election))
    ]
    return tally.tally(records, ballots, election.rule, [o.key for o in election.options])


@dataclass(frozen=True)
class BuildingTurnout:
    building: str
    units: int
    voted_units: int
    area_m2: Decimal
    voted_area_m2: Decimal


@dataclass(frozen=True)
class Turnout:
    electorate: tally.Totals
    participation: tally.Totals
    shortfall: tally.Totals
    quorum_met: bool
    owners_ratio: Fraction
    area_ratio: Fraction
    buildings: list[BuildingTurnout]
    pending_paper: int


def turnout(election: Election) -> Turnout:
    """Participation only (never the choices): overall, against the quorum, and per building."""
    entries = [e for e in roll_entries(election) if not e.excluded]
    records = _roll_records(entries)
    voted, pending = set(), 0
    for key, state in db.session.execute(
        select(Ballot.voter_key, Ballot.state).where(
            Ballot.election_id == election.id, Ballot.state.in_(("counted", "pending"))
        )
    ):
        if state == "counted":
            voted.add(key)
        else:
            pending += 1
    electorate = tally.electorate_of(records)
    participation = tally.participation_of(records, voted)
    shortfall = tally.quorum_shortfall(election.rule, electorate, participation)
    per = defaultdict(lambda: [0, 0, Decimal("0"), Decimal("0")])
    for e in entries:
        row = per[e.building_name]
        row[0] += 1
        row[2] += e.area_m2
        if e.voter_key in voted:
            row[1] += 1
            row[3] += e.area_m2
    quorum = tally.quorum_reached(
        election.rule,
        participation.owners,
        int(participation.area_m2 * 100),
        electorate.owners,
        int(electorate.area_m2 * 100),
    )
    return Turnout(
        electorate=electorate,
        participation=participation,
        shortfall=shortfall,
        quorum_met=quorum,
        owners_ratio=tally.ratio(participation.owners, electorate.owners),
        area_ratio=tally.ratio(int(participation.area_m2 * 100), int(electorate.area_m2 * 100)),
        buildings=[
            BuildingTurnout(name, *values)
            for name, values in sorted(per.items(), key=lambda kv: _natural(kv[0]))
        ],
        pending_paper=pending,
    )


def _natural(text: str):
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def close(actor, election_id: int, now: datetime) -> tally.TallyResult:
    election = _lock(election_id)
    _require_runner(actor, election)
    new_state = _step(election, "close", now)
    pending = db.session.scalar(
        select(func.count(Ballot.id)).where(
            Ballot.election_id == election.id, Ballot.state == "pending"
        )
    )
    if pending:
        raise InvalidTransition(
            _("Paper ballots are still waiting for confirmation. Confirm or discard them first.")
        )
    result = compute_tally(election)
    election.result = result.to_json_dict()
    election.status = new_state
    election.closed_at = now
    audit.record(
        "election.closed",
        actor,
        election,
        outcome=result.outcome,
        winner=result.winner,
        ledger=election.ledger_head,
    )
    return result


def certify(actor, election_id: int, now: datetime) -> None:
    election = _lock(election_id)
    _require_runner(actor, election)
    election.status = _step(election, "certify", now)
    election.certified_at = now
    election.certified_by_id = actor.id
    late = workflow.result_late(election.closes_at, now, now, calendar())
    audit.record("election.certified", actor, election, late=late or None)
    _post_notice(election, "certified", now)


def result_of(election: Election) -> tally.TallyResult | None:
    """The recorded tally, recomputed from the database (they must agree; see verify)."""
    if election.status not in ("closed", "certified", "signed"):
        return None
    return compute_tally(election)


def lookup_receipt(election: Election, text: str) -> Ballot | None:
    code = ledger.normalise_receipt(text)
    if code is None:
        return None
    return db.session.scalar(
        select(Ballot).where(
            Ballot.election_id == election.id, Ballot.receipt == code, Ballot.state == "counted"
        )
    )


def roll_csv(election: Election) -> bytes:
    return rollfile.canonical_roll_csv(_roll_records(roll_entries(election)))


def ballots_csv(election: Election) -> bytes:
    return rollfile.canonical_ballots_csv(
        [
            tally.BallotRecord(
                line=None,
                voter_key=b.voter_key,
                choice=b.choice,
                channel=b.channel,
                receipt=b.receipt,
            )
            for b in counted_ballots(election)
        ]
    )


# ---- verification ------------------------------------------------------------


@dataclass
class Verification:
    """What ``verify`` found; positions are ledger ``seq`` numbers (the first entry is 1)."""

    chain_breaks: list[int]
    record_mismatches: list[int]
    head_matches: bool
    tally_matches: bool | None
    ballots: int
    unledgered: int = 0  # counted ballots that were never appended to the ledger

    @property
    def ok(self) -> bool:
        return (
            not self.chain_breaks
            and not self.record_mismatches
            and self.head_matches
            and self.tally_matches is not False
            and not self.unledgered
        )


_VERIFIED: dict[tuple, tuple[float, Verification]] = {}
VERIFY_CACHE_SECONDS = 120


def verify_cached(election: Election) -> Verification:
    """``verify`` for the result page: the answer is kept per process for a few minutes while
    nothing was written to the database (the page cache's generation counter, bumped by every
    committed write) and the ledger head, the ballot count and the recorded result stay the same:
    a full recount on every view grows with the ballots. A change made behind the portal's back
    (straight in SQL) shows within ``VERIFY_CACHE_SECONDS``; ``flask election verify`` always
    recomputes."""
    import json
    import time

    from flask import current_app

    pagecache = current_app.extensions.get("pagecache")
    key = (
        pagecache.generation.read() if pagecache is not None else None,
        election.id,
        election.ledger_head,
        election.ballot_count,
        json.dumps(election.result, sort_keys=True, default=str),
    )
    now = time.monotonic()
    hit = _VERIFIED.get(key)
    if hit is not None and now - hit[0] < VERIFY_CACHE_SECONDS:
        return hit[1]
    check = verify(election)
    if len(_VERIFIED) > 256:
        _VERIFIED.clear()
    _VERIFIED[key] = (now, check)
    return check


def verify(election: Election) -> Verification:
    """Recompute the ledger chain and the tally from the database."""
    entries = list(
        db.session.execute(
            select(LedgerEntry, Ballot)
            .join(Ballot, Ballot.id == LedgerEntry.ballot_id)
            .where(LedgerEntry.election_id == election.id)
            .order_by(LedgerEntry.seq)
        )
    )
    breaks = [
        entries[i][0].seq for i in ledger.verify_chain([(le.record, le.hash) for le, _b in entries])
    ]
    mismatches = [
        le.seq
        for le, b in entries
        if le.record
        != ledger.canonical_ballot_record(b.voter_key, b.choice, b.channel, b.receipt, b.cast_at)
    ]
    unledgered = db.session.scalar(
        select(func.count(Ballot.id))
        .outerjoin(LedgerEntry, LedgerEntry.ballot_id == Ballot.id)
        .where(
            Ballot.election_id == election.id,
            Ballot.state == "counted",
            LedgerEntry.id.is_(None),
        )
    )
    head = entries[-1][0].hash if entries else ledger.GENESIS
    tally_ok = None
    if election.result is not None:
        counted = [b for _le, b in entries if b.state == "counted"]  # ledger order
        tally_ok = compute_tally(election, counted).to_json_dict() == election.result
    return Verification(
        chain_breaks=breaks,
        record_mismatches=mismatches,
        head_matches=head == (election.ledger_head or ledger.GENESIS)
        and election.ballot_count == len(entries),
        tally_matches=tally_ok,
        ballots=len(entries),
        unledgered=unledgered,
    )


# ---- the contract ------------------------------------------------------------


def sign_contract(
    actor,
    election_id: int,
    now: datetime,
    *,
    starts_on,
    ends_on,
    fee_per_m2: Decimal,
    service_level: str,
    commitments: str,
    document: str | None = None,
) -> Contract:
    election = _lock(election_id)
    if not (
        security.is_admin(actor)
        or election.compound.community_id in security.role_ids(actor, "secretary")
    ):
        raise PermissionDenied(_("The residents' committee (the community secretary) signs."))
    new_state = _step(election, "sign", now)
    result = election.result or {}
    if result.get("outcome") != "decided" or election.matter == "dismiss":
        raise InvalidTransition(_("There is no elected company to sign a contract with."))
    if election.matter == "renew" and result.get("winner") != "yes":
        raise InvalidTransition(_("The owners did not approve the renewal."))
    if ends_on <= starts_on:
        raise ValidationFailed(_("The contract must end after it starts."))
    company_id = None
    if election.matter == "hire":
        option = next(o for o in election.options if o.key == result["winner"])
        company_id = option.company_id
    else:
        current = current_contract(election.compound)
        company_id = current.company_id if current else None
    if company_id is None:
        raise ValidationFailed(_("The elected option is not linked to a company."))
    contract = Contract(
        compound_id=election.compound_id,
        company_id=company_id,
        election_id=election.id,
        starts_on=starts_on,
        ends_on=ends_on,
        fee_per_m2=fee_per_m2,
        service_level=service_level,
        commitments=(commitments or "").strip(),
        document=document,
        signed_at=now,
        signed_by_id=actor.id,
    )
    db.session.add(contract)
    election.status = new_state
    db.session.flush()
    audit.record("contract.signed", actor, contract, election=election.id, company=company_id)
    return contract


def local_today():
    """Today's date in Asia/Shanghai (contracts run by local calendar days)."""
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()


def current_contract(compound: Compound, today=None) -> Contract | None:
    """The contract in force on ``today`` (local date), if any. Kept for the request: the hub and
    its tabs ask for it more than once."""
    from flask import g, has_request_context

    today = today or local_today()
    memo = g.setdefault("_current_contracts", {}) if has_request_context() else {}
    key = (compound.id, today)
    if key not in memo:
        memo[key] = _current_contract(compound, today)
    return memo[key]


def _current_contract(compound: Compound, today) -> Contract | None:
    return db.session.scalar(
        select(Contract)
        .where(
            Contract.compound_id == compound.id,
            Contract.starts_on <= today,
            Contract.ends_on >= today,
        )
        .options(joinedload(Contract.company))
        .order_by(Contract.ends_on.desc(), Contract.id.desc())
    )
