"""Minutes: every change goes through here (the acting user is passed in, never read).

A committee member of the compound (or the community secretary, for a joint meeting) drafts a
record of the meeting and submits it; a second committee member, not the author, confirms it
and it is published, or returns it with a note. A published record is final: a correction is a
new revision with a reason, confirmed the same way, and the earlier versions stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal import audit, security
from portal.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from portal.extensions import db
from portal.minutes import rules
from portal.minutes.models import Decision, Minutes, MinutesRevision
from portal.notices import paging
from portal.notices.paging import Page
from portal.notices.rules import like_pattern, normalise_text
from portal.places.models import Community, Compound
from portal.uploads import service as uploads

OWNER_TYPE = "minutes_revision"
PLACE_MAX = 200
TEXT_MAX = 20_000


class RecordProblems(ValidationFailed):
    """Refusals that belong to form fields: (field, index of the decision or None, message)."""

    def __init__(self, problems: list[tuple[str, int | None, str]]):
        super().__init__(problems[0][2] if problems else "")
        self.problems = problems


def _messages() -> dict[str, str]:
    return {
        "kind_unknown": _("Choose the kind of meeting."),
        "attendees_none": _("Give the number of people present (at least 1)."),
        "names_exceed_count": _("More names are listed than people were present."),
        "names_too_many": _("List at most %(n)d names.", n=rules.MAX_NAMES),
        "decisions_too_many": _("Record at most %(n)d decisions.", n=rules.MAX_DECISIONS),
        "decision_text_missing": _("Write what was decided."),
        "votes_negative": _("Votes cannot be negative."),
        "votes_exceed_attendees": _(
            "More votes than people present: at a committee or joint meeting only those "
            "present vote."
        ),
    }


# ---- permissions ------------------------------------------------------------------------------


def _authenticated(actor) -> bool:
    return actor is not None and bool(getattr(actor, "is_authenticated", False))


def is_member(actor, compound_id: int) -> bool:
    return _authenticated(actor) and compound_id in security.role_ids(actor, "committee")


def is_secretary(actor, compound: Compound) -> bool:
    return _authenticated(actor) and compound.community_id in security.role_ids(actor, "secretary")


def can_record(actor, compound: Compound, kind: str | None = None) -> bool:
    member, secretary = is_member(actor, compound.id), is_secretary(actor, compound)
    if kind is None:
        return member or secretary
    return rules.may_record(kind, member, secretary)


def kinds_for(actor, compound: Compound) -> list[str]:
    return [k for k in rules.KINDS if can_record(actor, compound, k)]


def is_staff_of(actor, minutes: Minutes, kind: str | None = None) -> bool:
    """Sees drafts and full names: the compound's committee, the site admin, and the community
    secretary for joint meetings."""
    if not _authenticated(actor):
        return False
    if security.is_admin(actor) or is_member(actor, minutes.compound_id):
        return True
    kind = kind or _latest(minutes).kind
    return kind == "joint" and is_secretary(actor, minutes.compound)


def can_confirm(actor, revision: MinutesRevision) -> bool:
    return (
        revision.status == "submitted"
        and _authenticated(actor)
        and rules.may_confirm(
            revision.author_id, actor.id, is_member(actor, revision.minutes.compound_id)
        )
    )


def can_edit(actor, revision: MinutesRevision) -> bool:
    return revision.status == "draft" and _authenticated(actor) and revision.author_id == actor.id


def can_correct(actor, minutes: Minutes) -> bool:
    current = minutes.published
    return (
        current is not None
        and minutes.open_revision is None
        and can_record(actor, minutes.compound, current.kind)
    )


def _latest(minutes: Minutes) -> MinutesRevision:
    return minutes.revisions[-1]


def _changed_meanwhile() -> str:
    return _("These minutes were changed meanwhile. Reload the page.")


def _move(revision: MinutesRevision, action: str, **values) -> None:
    """Change the revision's state as one compare-and-set ``UPDATE … WHERE status = <what the
    actor saw>``: of two members confirming at once, one wins and the other is told."""
    new_state = _step(revision, action)
    try:
        result = db.session.execute(
            update(MinutesRevision)
            .where(MinutesRevision.id == revision.id, MinutesRevision.status == revision.status)
            .values(status=new_state, **values)
            .execution_options(synchronize_session=False)
        )
    except OperationalError as exc:  # SQLite: another writer won; our snapshot is stale
        if "locked" not in str(exc).lower():
            raise
        db.session.rollback()
        raise InvalidTransition(_changed_meanwhile()) from exc
    if result.rowcount != 1:
        raise InvalidTransition(_changed_meanwhile())
    db.session.expire(revision)


def _step(revision: MinutesRevision, action: str) -> str:
    try:
        return rules.next_state(revision.status, action)
    except rules.TransitionRefused:
        raise InvalidTransition(_("This cannot be done at this stage of the minutes.")) from None


# ---- checks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """What a form gives for a meeting."""

    kind: str
    meeting_date: date
    place: str
    attendees_count: int
    attendee_names: str
    agenda: str
    decisions: list[rules.DecisionInput]


def _check(actor, compound: Compound, record: Record, now: datetime) -> Record:
    names = rules.parse_names(record.attendee_names)
    problems = [
        (p.field, p.index, _messages()[p.code])
        for p in rules.check_record(record.kind, record.attendees_count, names, record.decisions)
    ]
    if record.kind in rules.KINDS and not can_record(actor, compound, record.kind):
        problems.append(("kind", None, _("The community secretary records joint meetings only.")))
    today = _local_today(now)
    if record.meeting_date is None:
        problems.append(("meeting_date", None, _("Give the date of the meeting.")))
    elif record.meeting_date > today:
        problems.append(("meeting_date", None, _("The meeting cannot be in the future.")))
    place = " ".join((record.place or "").split())
    if len(place) > PLACE_MAX:
        problems.append(("place", None, _("The place is too long.")))
    agenda = normalise_text(record.agenda)
    if len(agenda) > TEXT_MAX:
        problems.append(("agenda", None, _("The text is too long.")))
    if problems:
        raise RecordProblems(problems)
    return Record(
        kind=record.kind,
        meeting_date=record.meeting_date,
        place=place,
        attendees_count=record.attendees_count,
        attendee_names="\n".join(names),
        agenda=agenda,
        decisions=[
            rules.DecisionInput(
                normalise_text(d.text), d.votes_for, d.votes_against, d.votes_abstain
            )
            for d in record.decisions
            if not d.blank
        ],
    )


def _local_today(now: datetime) -> date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def _prepare(files) -> list:
    try:
        return uploads.prepare_all(files)
    except ValidationFailed as e:
        raise RecordProblems([("attachments", None, e.message)]) from e


def _fill(revision: MinutesRevision, record: Record) -> None:
    revision.kind = record.kind
    revision.meeting_date = record.meeting_date
    revision.place = record.place
    revision.attendees_count = record.attendees_count
    revision.attendee_names = record.attendee_names
    revision.agenda = record.agenda
    revision.decisions = [
        Decision(
            position=i,
            text=d.text,
            votes_for=d.votes_for,
            votes_against=d.votes_against,
            votes_abstain=d.votes_abstain,
        )
        for i, d in enumerate(record.decisions)
    ]


# ---- changes ------------------------------------------------------------------------------------


def create(actor, compound: Compound, record: Record, files=(), *, now: datetime) -> Minutes:
    """Draft the minutes of a meeting (revision 1)."""
    if not can_record(actor, compound):
        raise PermissionDenied(_("Only the owners' committee records minutes of this compound."))
    record = _check(actor, compound, record, now)
    prepared = _prepare(files)
    minutes = Minutes(compound_id=compound.id, created_by_id=actor.id, created_at=now)
    db.session.add(minutes)
    db.session.flush()
    revision = MinutesRevision(
        minutes_id=minutes.id,
        number=1,
        status="draft",
        author_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    _fill(revision, record)
    db.session.add(revision)
    db.session.flush()
    uploads.attach_all(actor, prepared, OWNER_TYPE, revision.id)
    audit.record(
        "minutes.drafted",
        actor,
        minutes,
        revision=revision.number,
        kind=record.kind,
        decisions=len(record.decisions),
    )
    return minutes


def update_draft(
    actor, revision: MinutesRevision, record: Record, files=(), *, now: datetime
) -> None:
    if not can_edit(actor, revision):
        raise PermissionDenied(_("Only the author edits a draft."))
    _step(revision, "edit")
    record = _check(actor, revision.minutes.compound, record, now)
    prepared = _prepare(files)
    existing = uploads.attachments_of(OWNER_TYPE, [revision.id])[revision.id]
    _fill(revision, record)
    revision.updated_at = now
    start = max((a.position for a in existing), default=-1) + 1
    uploads.attach_all(actor, prepared, OWNER_TYPE, revision.id, start=start)
    audit.record(
        "minutes.edited",
        actor,
        revision.minutes,
        revision=revision.number,
        decisions=len(record.decisions),
        added=len(prepared) or None,
    )


def remove_attachment(actor, revision: MinutesRevision, attachment_id: int) -> None:
    if not can_edit(actor, revision):
        raise PermissionDenied(_("Only the author edits a draft."))
    target = next(
        (
            a
            for a in uploads.attachments_of(OWNER_TYPE, [revision.id])[revision.id]
            if a.id == attachment_id
        ),
        None,
    )
    if target is None:
        raise NotFound()
    uploads.remove(actor, target)
    audit.record(
        "minutes.edited", actor, revision.minutes, revision=revision.number, removed=attachment_id
    )


def submit(actor, revision: MinutesRevision, *, now: datetime) -> None:
    """The author asks a second committee member to confirm."""
    if not _authenticated(actor) or revision.author_id != actor.id:
        raise PermissionDenied(_("Only the author submits a draft."))
    _move(revision, "submit", submitted_at=now, return_note="")
    audit.record("minutes.submitted", actor, revision.minutes, revision=revision.number)


def return_to_author(actor, revision: MinutesRevision, note: str, *, now: datetime) -> None:
    if not can_confirm(actor, revision):
        raise PermissionDenied(
            _("Another member of the owners' committee (not the author) reviews the minutes.")
        )
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_("Tell the author what to correct."))
    _move(revision, "return", return_note=note[:1000], updated_at=now)
    audit.record(
        "minutes.returned", actor, revision.minutes, revision=revision.number, note=note[:200]
    )


def confirm(actor, revision: MinutesRevision, *, now: datetime) -> None:
    """A second committee member confirms: the revision is published and becomes current."""
    if not can_confirm(actor, revision):
        if _authenticated(actor) and revision.author_id == actor.id:
            raise PermissionDenied(
                _("You wrote these minutes: another committee member must confirm them.")
            )
        raise PermissionDenied(
            _("Another member of the owners' committee (not the author) confirms the minutes.")
        )
    _move(revision, "confirm", confirmed_by_id=actor.id, confirmed_at=now)
    revision.minutes.published_number = revision.number
    audit.record(
        "minutes.published",
        actor,
        revision.minutes,
        revision=revision.number,
        author=revision.author_id,
    )


def start_correction(actor, minutes: Minutes, reason: str, *, now: datetime) -> MinutesRevision:
    """A new draft revision, copied from the published one, with the reason for correcting."""
    current = minutes.published
    if current is None:
        raise InvalidTransition(_("Only published minutes are corrected."))
    if not can_record(actor, minutes.compound, current.kind):
        raise PermissionDenied(_("Only the owners' committee records minutes of this compound."))
    if minutes.open_revision is not None:
        raise InvalidTransition(_("A correction of these minutes is already under way."))
    reason = (reason or "").strip()
    if not reason:
        raise RecordProblems([("reason", None, _("Say what is corrected and why."))])
    revision = MinutesRevision(
        minutes_id=minutes.id,
        number=current.number + 1,
        status="draft",
        kind=current.kind,
        meeting_date=current.meeting_date,
        place=current.place,
        attendees_count=current.attendees_count,
        attendee_names=current.attendee_names,
        agenda=current.agenda,
        reason=reason[:1000],
        author_id=actor.id,
        created_at=now,
        updated_at=now,
        decisions=[
            Decision(
                position=d.position,
                text=d.text,
                votes_for=d.votes_for,
                votes_against=d.votes_against,
                votes_abstain=d.votes_abstain,
            )
            for d in current.decisions
        ],
    )
    db.session.add(revision)
    try:
        db.session.flush()  # unique (minutes, number): two corrections at once, one wins
    except IntegrityError as exc:
        db.session.rollback()
        raise InvalidTransition(_("A correction of these minutes is already under way.")) from exc
    uploads.copy_to(actor, current.attachments, OWNER_TYPE, revision.id)
    audit.record(
        "minutes.correction_started",
        actor,
        minutes,
        revision=revision.number,
        reason=reason[:200],
    )
    return revision


# ---- reading ---------------------------------------------------------------------------------


def get_minutes(minutes_id: int) -> Minutes:
    minutes = db.session.scalar(
        select(Minutes)
        .where(Minutes.id == minutes_id)
        .options(
            joinedload(Minutes.compound)
            .joinedload(Compound.community)
            .joinedload(Community.street),
            selectinload(Minutes.revisions).selectinload(MinutesRevision.decisions),
            selectinload(Minutes.revisions).selectinload(MinutesRevision.attachments),
            selectinload(Minutes.revisions).joinedload(MinutesRevision.author),
            selectinload(Minutes.revisions).joinedload(MinutesRevision.confirmed_by),
        )
    )
    if minutes is None:
        raise NotFound()
    return minutes


def revision_for(viewer, minutes: Minutes, number: int | None = None) -> MinutesRevision:
    """The revision a viewer reads: by default the published one (staff: the open draft when
    nothing is published yet); by number, any published one, or an open one for staff."""
    staff = is_staff_of(viewer, minutes)
    if number is None:
        if minutes.published is not None:
            return minutes.published
        if staff:
            return _latest(minutes)
        raise NotFound()
    revision = next((r for r in minutes.revisions if r.number == number), None)
    if revision is None or (revision.status != "published" and not staff):
        raise NotFound()
    return revision


def _published_join():
    return and_(
        MinutesRevision.minutes_id == Minutes.id,
        MinutesRevision.number == Minutes.published_number,
    )


def public_list(compound: Compound, *, query: str = "", page: int = 1, per_page: int = 20) -> Page:
    """The compound's published minutes (their current revisions), newest meeting first; the
    search looks in the decisions and the agenda (LIKE: Chinese works on every database).
    One query counts; a second loads the page's rows when there are any."""
    page, per_page = paging.clamp(page, per_page)
    conds = [Minutes.compound_id == compound.id]
    q = (query or "").strip()
    if q:
        pattern = like_pattern(q)
        conds.append(
            or_(
                exists().where(
                    Decision.revision_id == MinutesRevision.id,
                    Decision.text.ilike(pattern, escape="\\"),
                ),
                MinutesRevision.agenda.ilike(pattern, escape="\\"),
            )
        )
    total = db.session.scalar(
        select(func.count(MinutesRevision.id)).join(Minutes, _published_join()).where(*conds)
    )
    result = Page(page=page, per_page=per_page, total=total)
    if result.wanted:
        stmt = (
            select(MinutesRevision)
            .join(Minutes, _published_join())
            .where(*conds)
            .options(
                contains_eager(MinutesRevision.minutes), selectinload(MinutesRevision.decisions)
            )
            .order_by(MinutesRevision.meeting_date.desc(), Minutes.id.desc())
            .limit(per_page)
            .offset(result.offset)
        )
        result.items = list(db.session.scalars(stmt).unique())
    return result


@dataclass
class Desk:
    to_confirm: list[MinutesRevision]
    mine: list[MinutesRevision]
    compounds: list[Compound]
    recent: list[MinutesRevision]


def _recordable_compounds(actor) -> list[Compound]:
    members = security.role_ids(actor, "committee")
    communities = security.role_ids(actor, "secretary")
    if not members and not communities:
        return []
    return list(
        db.session.scalars(
            select(Compound)
            .where(or_(Compound.id.in_(members), Compound.community_id.in_(communities)))
            .options(joinedload(Compound.community))
            .order_by(Compound.name)
        )
    )


def may_use_desk(actor) -> bool:
    return _authenticated(actor) and (
        bool(security.role_ids(actor, "committee")) or bool(security.role_ids(actor, "secretary"))
    )


def desk(actor) -> Desk:
    """What waits for the actor: minutes to confirm, their own drafts, where they can record."""
    if not may_use_desk(actor):
        raise PermissionDenied(_("Only owners' committee members and secretaries record minutes."))
    members = security.role_ids(actor, "committee")
    communities = security.role_ids(actor, "secretary")
    eager = (
        joinedload(MinutesRevision.minutes)
        .joinedload(Minutes.compound)
        .joinedload(Compound.community),
        joinedload(MinutesRevision.author),
    )
    to_confirm = list(
        db.session.scalars(
            select(MinutesRevision)
            .join(Minutes, Minutes.id == MinutesRevision.minutes_id)
            .where(
                MinutesRevision.status == "submitted",
                MinutesRevision.author_id != actor.id,
                Minutes.compound_id.in_(members),
            )
            .options(*eager)
            .order_by(MinutesRevision.submitted_at)
        )
    )
    mine = list(
        db.session.scalars(
            select(MinutesRevision)
            .where(MinutesRevision.author_id == actor.id, MinutesRevision.status != "published")
            .options(*eager)
            .order_by(MinutesRevision.updated_at.desc())
        )
    )
    recent = list(
        db.session.scalars(
            select(MinutesRevision)
            .join(Minutes, _published_join())
            .join(Compound, Compound.id == Minutes.compound_id)
            .where(or_(Compound.id.in_(members), Compound.community_id.in_(communities)))
            .options(*eager)
            .order_by(MinutesRevision.confirmed_at.desc())
            .limit(10)
        )
    )
    return Desk(to_confirm, mine, _recordable_compounds(actor), recent)


@uploads.owner_visibility(OWNER_TYPE)
def _attachment_visible(viewer, owner_id: int, now: datetime) -> bool:
    revision = db.session.get(MinutesRevision, owner_id)
    if revision is None:
        return False
    if revision.status == "published":
        return True
    return is_staff_of(viewer, revision.minutes, revision.kind)
