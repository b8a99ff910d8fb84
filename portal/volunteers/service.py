"""Volunteers: every change goes through here (the acting user is passed in, never read).

Who may do what
    - the community secretary (or the site administrator) creates the community's teams and
      appoints each team's coordinator, a verified resident of the community;
    - the coordinator of a team, or the secretary, creates and edits the team's activities and
      checks people in;
    - a verified resident of the team's community (any compound of it, any relation to the
      unit) signs up and cancels;
    - everyone may read teams, activities, the calendar and the monthly summary (names masked).

Sign-up, cancel and capacity changes lock the activity row first (``_lock``), so that the
counters, the waiting-list order and the capacity hold under simultaneous requests; the unique
(activity, person) constraint has the last word on "one sign-up per person per activity".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit, security
from portal.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from portal.extensions import db
from portal.locking import lock_row, with_retry  # noqa: F401  (with_retry: routes)
from portal.places.models import Building, Community, Compound, Unit
from portal.validators import normalise_mobile
from portal.volunteers import rules
from portal.volunteers.labels import PLAN_PROBLEMS, REFUSALS
from portal.volunteers.models import Activity, Signup, Team

UID_DOMAIN = "red-property-portal"


class AlreadySignedUp(Conflict):
    pass


class NotACoordinator(ValidationFailed):
    """The mobile number given for a coordinator is no verified resident's."""


class PlanInvalid(ValidationFailed):
    """The activity's details break a rule; ``problems`` are (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(problems[0][1] if problems else "")
        self.problems = problems


def local_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")


def _refused(r: rules.Refused) -> DomainError:
    message = str(REFUSALS.get(r.code, r.code))
    if r.code == "already":
        return AlreadySignedUp(message)
    if r.code == "unknown_mark":
        return ValidationFailed(message)
    if r.code == "not_signed_up":
        return Conflict(message)
    return InvalidTransition(message)


def can_administer(user, community_id: int) -> bool:
    """Create teams and appoint coordinators: the community's secretary or the admin."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return security.is_admin(user) or community_id in security.role_ids(user, "secretary")


def can_manage(user, team: Team) -> bool:
    """Run the team's activities and check people in: its coordinator, secretary or admin."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return team.coordinator_id == user.id or can_administer(user, team.community_id)


def is_resident_of(user, community_id: int) -> bool:
    """A verified claim on a unit in any compound of the community."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    from portal.accounts.models import Membership

    return (
        db.session.scalar(
            select(Membership.id)
            .join(Unit, Unit.id == Membership.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .join(Compound, Compound.id == Building.compound_id)
            .where(
                Membership.user_id == user.id,
                Membership.status == "verified",
                Compound.community_id == community_id,
            )
            .limit(1)
        )
        is not None
    )


# ---- reads ---------------------------------------------------------------------------------


def _team_options():
    return (
        joinedload(Team.community).joinedload(Community.street),
        joinedload(Team.compound),
        joinedload(Team.coordinator),
    )


def get_team(team_id: int) -> Team:
    team = db.session.scalar(select(Team).where(Team.id == team_id).options(*_team_options()))
    if team is None:
        raise NotFound()
    return team


def get_activity(activity_id: int) -> Activity:
    activity = db.session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(
            joinedload(Activity.team).joinedload(Team.community).joinedload(Community.street),
            joinedload(Activity.team).joinedload(Team.compound),
            joinedload(Activity.team).joinedload(Team.coordinator),
        )
    )
    if activity is None:
        raise NotFound()
    return activity


def _scope(compound: Compound | None = None, community: Community | None = None):
    """Teams whose activities a compound's residents (or a community) see."""
    if compound is not None:
        return or_(
            Team.compound_id == compound.id,
            and_(Team.compound_id.is_(None), Team.community_id == compound.community_id),
        )
    return Team.community_id == community.id


def teams_in(compound: Compound | None = None, community: Community | None = None) -> list[Team]:
    return list(
        db.session.scalars(
            select(Team)
            .where(_scope(compound, community))
            .options(joinedload(Team.compound), joinedload(Team.coordinator))
            .order_by(Team.name, Team.id)
        )
    )


def _activity_list(stmt):
    return stmt.options(
        joinedload(Activity.team).joinedload(Team.compound),
    ).order_by(Activity.starts_at, Activity.id)


def upcoming(
    now: datetime,
    page: int,
    per_page: int,
    *,
    compound: Compound | None = None,
    community: Community | None = None,
    team: Team | None = None,
) -> Pagination:
    """Activities not yet over (in progress included), soonest first."""
    stmt = select(Activity).join(Team, Team.id == Activity.team_id).where(Activity.ends_at > now)
    if team is not None:
        stmt = stmt.where(Activity.team_id == team.id)
    else:
        stmt = stmt.where(_scope(compound, community))
    return db.paginate(
        _activity_list(stmt), page=page, per_page=per_page, max_per_page=100, error_out=False
    )


def past_of_team(team: Team, now: datetime, page: int, per_page: int) -> Pagination:
    stmt = (
        select(Activity)
        .where(Activity.team_id == team.id, Activity.ends_at <= now)
        .options(joinedload(Activity.team).joinedload(Team.compound))
        .order_by(Activity.starts_at.desc(), Activity.id.desc())
    )
    return db.paginate(stmt, page=page, per_page=per_page, max_per_page=100, error_out=False)


@dataclass
class Month:
    year: int
    month: int
    weeks: list
    by_day: dict
    activities: list

    @property
    def key(self) -> str:
        return rules.month_key(self.year, self.month)

    @property
    def prev_key(self) -> str:
        return rules.month_key(*rules.shift_month(self.year, self.month, -1))

    @property
    def next_key(self) -> str:
        return rules.month_key(*rules.shift_month(self.year, self.month, 1))


def month_of(
    year: int,
    month: int,
    *,
    compound: Compound | None = None,
    community: Community | None = None,
) -> Month:
    """The month's activities by local day, and the grid of weeks (Monday first)."""
    tz = local_tz()
    start, end = rules.month_bounds(year, month, tz)
    stmt = (
        select(Activity)
        .join(Team, Team.id == Activity.team_id)
        .where(_scope(compound, community), Activity.starts_at >= start, Activity.starts_at < end)
    )
    activities = list(db.session.scalars(_activity_list(stmt)).unique())
    by_day: dict = {}
    for a in activities:
        by_day.setdefault(rules.local_date(a.starts_at, tz), []).append(a)
    return Month(year, month, rules.month_weeks(year, month), by_day, activities)


def my_signups(user, activity_ids) -> dict[int, Signup]:
    """The viewer's sign-ups among ``activity_ids`` (one query; empty for visitors)."""
    ids = list(activity_ids)
    if not ids or user is None or not getattr(user, "is_authenticated", False):
        return {}
    return {
        s.activity_id: s
        for s in db.session.scalars(
            select(Signup).where(Signup.user_id == user.id, Signup.activity_id.in_(ids))
        )
    }


def signup_of(user, activity: Activity) -> Signup | None:
    return my_signups(user, [activity.id]).get(activity.id)


def position_of(signup: Signup | None) -> int | None:
    if signup is None or signup.status != rules.WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count(Signup.id)).where(
            Signup.activity_id == signup.activity_id,
            Signup.status == rules.WAITLISTED,
            Signup.seq < signup.seq,
        )
    )
    return (ahead or 0) + 1


def _positions(signups: list[Signup]) -> dict[int, int]:
    """Waiting-list positions of several sign-ups (one query)."""
    waiting = [s for s in signups if s.status == rules.WAITLISTED]
    if not waiting:
        return {}
    rows = db.session.execute(
        select(Signup.activity_id, Signup.seq).where(
            Signup.activity_id.in_({s.activity_id for s in waiting}),
            Signup.status == rules.WAITLISTED,
        )
    ).all()
    seqs: dict[int, list[int]] = {}
    for activity_id, seq in rows:
        seqs.setdefault(activity_id, []).append(seq)
    return {s.id: rules.waitlist_position(s.seq, seqs.get(s.activity_id, [])) for s in waiting}


@dataclass
class Totals:
    activities: int = 0
    volunteers: int = 0
    attendances: int = 0
    hours: Decimal = Decimal("0")
    points: Decimal = Decimal("0")


def team_totals(team: Team, now: datetime) -> Totals:
    held = db.session.scalar(
        select(func.count(Activity.id)).where(
            Activity.team_id == team.id, Activity.starts_at <= now
        )
    )
    volunteers, attendances, hours, points = db.session.execute(
        select(
            func.count(func.distinct(Signup.user_id)),
            func.count(Signup.id),
            func.coalesce(func.sum(Signup.hours), 0),
            func.coalesce(func.sum(Signup.points), 0),
        )
        .join(Activity, Activity.id == Signup.activity_id)
        .where(Activity.team_id == team.id, Signup.attendance == rules.ATTENDED)
    ).one()
    return Totals(held or 0, volunteers, attendances, Decimal(hours), Decimal(points))


@dataclass
class MyVolunteering:
    totals: Totals
    coming: list
    positions: dict
    history: Pagination
    coordinated: list


def my_volunteering(user, now: datetime, page: int, per_page: int) -> MyVolunteering:
    opts = (joinedload(Signup.activity).joinedload(Activity.team).joinedload(Team.compound),)
    coming = list(
        db.session.scalars(
            select(Signup)
            .join(Activity, Activity.id == Signup.activity_id)
            .where(Signup.user_id == user.id, Activity.ends_at > now)
            .options(*opts)
            .order_by(Activity.starts_at, Activity.id)
        ).unique()
    )
    history = db.paginate(
        select(Signup)
        .join(Activity, Activity.id == Signup.activity_id)
        .where(
            Signup.user_id == user.id,
            Activity.ends_at <= now,
            Signup.status != rules.CANCELLED,
        )
        .options(*opts)
        .order_by(Activity.starts_at.desc(), Activity.id.desc()),
        page=page,
        per_page=per_page,
        max_per_page=100,
        error_out=False,
    )
    count, hours, points = db.session.execute(
        select(
            func.count(Signup.id),
            func.coalesce(func.sum(Signup.hours), 0),
            func.coalesce(func.sum(Signup.points), 0),
        ).where(Signup.user_id == user.id, Signup.attendance == rules.ATTENDED)
    ).one()
    coordinated = list(
        db.session.scalars(
            select(Team)
            .where(Team.coordinator_id == user.id)
            .options(joinedload(Team.community))
            .order_by(Team.name)
        )
    )
    return MyVolunteering(
        totals=Totals(
            activities=count, attendances=count, hours=Decimal(hours), points=Decimal(points)
        ),
        coming=coming,
        positions=_positions(coming),
        history=history,
        coordinated=coordinated,
    )


def roster(actor, activity: Activity) -> list[Signup]:
    """Everyone on the activity's list: confirmed, then waiting (in order), then cancelled."""
    if not can_manage(actor, activity.team):
        raise PermissionDenied(_("Only the team's coordinator or the community can see this list."))
    order = {rules.CONFIRMED: 0, rules.WAITLISTED: 1, rules.CANCELLED: 2}
    signups = list(
        db.session.scalars(
            select(Signup)
            .where(Signup.activity_id == activity.id)
            .options(joinedload(Signup.user))
            .order_by(Signup.seq)
        )
    )
    return sorted(signups, key=lambda s: (order[s.status], s.seq))


def get_signup_for_checkin(actor, signup_id: int) -> Signup:
    signup = db.session.scalar(
        select(Signup)
        .where(Signup.id == signup_id)
        .options(joinedload(Signup.user), joinedload(Signup.activity).joinedload(Activity.team))
    )
    if signup is None:
        raise NotFound()
    if not can_manage(actor, signup.activity.team):
        raise PermissionDenied(
            _("Only the team's coordinator or the community can check people in.")
        )
    return signup


@dataclass
class Summary:
    months: list
    teams: list
    cells: dict
    community_cells: dict


def monthly_summary(community: Community, now: datetime, n: int = 12) -> Summary:
    """Per team and month (the last ``n`` local months): activities held, volunteers, hours."""
    tz = local_tz()
    months = rules.last_months(now, tz, n)
    start = rules.month_bounds(*months[-1], tz)[0]
    end = rules.month_bounds(*months[0], tz)[1]
    end = min(end, now)
    teams = teams_in(community=community)
    activities = db.session.execute(
        select(Activity.id, Activity.team_id, Activity.starts_at)
        .join(Team, Team.id == Activity.team_id)
        .where(
            Team.community_id == community.id,
            Activity.starts_at >= start,
            Activity.starts_at <= end,
        )
    ).all()
    attended = db.session.execute(
        select(Signup.activity_id, Signup.user_id, Signup.hours)
        .join(Activity, Activity.id == Signup.activity_id)
        .join(Team, Team.id == Activity.team_id)
        .where(
            Team.community_id == community.id,
            Activity.starts_at >= start,
            Activity.starts_at <= end,
            Signup.attendance == rules.ATTENDED,
        )
    ).all()
    cells = rules.monthly_summary(activities, attended, months, tz)
    whole = rules.monthly_summary([(a, 0, s) for a, _t, s in activities], attended, months, tz)
    return Summary(
        months=months,
        teams=teams,
        cells=cells,
        community_cells={ym: cell for (_t, ym), cell in whole.items()},
    )


def staff_communities(user) -> tuple[list[Community], set[int]]:
    """Communities the staff member sees here, and those among them they administer."""
    if security.is_admin(user):
        stmt = select(Community)
    else:
        secretary = security.role_ids(user, "secretary")
        streets = security.role_ids(user, "street")
        if not secretary and not streets:
            raise PermissionDenied(_("Only community and street staff can see this page."))
        stmt = select(Community).where(
            or_(Community.id.in_(secretary), Community.street_id.in_(streets))
        )
    communities = list(
        db.session.scalars(
            stmt.options(joinedload(Community.street)).order_by(Community.name, Community.id)
        )
    )
    admin = security.is_admin(user)
    managed = {c.id for c in communities if admin or c.id in security.role_ids(user, "secretary")}
    return communities, managed


def team_counts(community_ids) -> dict[int, tuple[int, int]]:
    """community id -> (teams, teams without a coordinator)."""
    ids = list(community_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            Team.community_id,
            func.count(Team.id),
            func.count(Team.id) - func.count(Team.coordinator_id),
        )
        .where(Team.community_id.in_(ids))
        .group_by(Team.community_id)
    ).all()
    return {cid: (n, missing) for cid, n, missing in rows}


# ---- teams and coordinators ----------------------------------------------------------------


def _resident_by_phone(phone: str, community_id: int):
    from portal.accounts.models import User

    number = normalise_mobile(phone)
    user = db.session.scalar(select(User).where(User.phone == number)) if number else None
    if user is None:
        raise NotACoordinator(
            _("No account uses this mobile number. Ask the person to register first.")
        )
    if not is_resident_of(user, community_id):
        raise NotACoordinator(
            _(
                "%(name)s is not a verified resident of this community. A coordinator must "
                "have a verified claim on a unit here.",
                name=user.display_name,
            )
        )
    return user


def create_team(
    actor,
    community: Community,
    name: str,
    description: str = "",
    compound_id: int | None = None,
    coordinator_phone: str | None = None,
    now: datetime | None = None,
) -> Team:
    if not can_administer(actor, community.id):
        raise PermissionDenied(_("Only the community's secretary can create its teams."))
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the team a name."))
    if compound_id:
        compound = db.session.get(Compound, compound_id)
        if compound is None or compound.community_id != community.id:
            raise ValidationFailed(_("Choose a compound of this community."))
    exists = db.session.scalar(
        select(Team.id).where(Team.community_id == community.id, Team.name == name)
    )
    if exists is not None:
        raise Conflict(_("This community already has a team with this name."))
    coordinator = _resident_by_phone(coordinator_phone, community.id) if coordinator_phone else None
    team = Team(
        community_id=community.id,
        compound_id=compound_id or None,
        name=name,
        description=(description or "").strip(),
        created_by_id=actor.id,
    )
    if coordinator is not None:
        team.coordinator_id = coordinator.id
        team.coordinator_since = now or datetime.now(UTC)
    db.session.add(team)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(_("This community already has a team with this name.")) from exc
    audit.record(
        "volunteer.team_created",
        actor,
        team,
        community=community.id,
        compound=compound_id or None,
        name=name,
    )
    if coordinator is not None:
        audit.record(
            "volunteer.coordinator_appointed", actor, team, user=coordinator.id, previous=None
        )
    return team


def appoint_coordinator(actor, team: Team, phone: str, now: datetime) -> Team:
    if not can_administer(actor, team.community_id):
        raise PermissionDenied(_("Only the community's secretary appoints coordinators."))
    user = _resident_by_phone(phone, team.community_id)
    previous = team.coordinator_id
    if previous == user.id:
        raise Conflict(_("%(name)s already coordinates this team.", name=user.display_name))
    team.coordinator_id = user.id
    team.coordinator_since = now
    team.coordinator = user
    audit.record("volunteer.coordinator_appointed", actor, team, user=user.id, previous=previous)
    return team


# ---- activities ------------------------------------------------------------------------------


def _plan_error(problems: list[tuple[str, str]]) -> PlanInvalid:
    return PlanInvalid([(f, str(PLAN_PROBLEMS[code])) for f, code in problems])


def create_activity(actor, team: Team, now: datetime, **data) -> Activity:
    """``data``: title, description, place, starts_at, ends_at (aware), capacity,
    signup_open, hours (None: end - start), points_per_hour (None: 1)."""
    if not can_manage(actor, team):
        raise PermissionDenied(
            _("Only the team's coordinator or the community can add activities.")
        )
    plan = rules.Plan(
        data["starts_at"],
        data["ends_at"],
        data["capacity"],
        data.get("hours"),
        data.get("points_per_hour"),
    )
    problems = rules.plan_problems(plan, now)
    if problems:
        raise _plan_error(problems)
    hours = data.get("hours")
    if hours is None:
        hours = rules.default_hours(plan.starts_at, plan.ends_at)
    pph = data.get("points_per_hour")
    activity = Activity(
        team_id=team.id,
        title=data["title"],
        description=data.get("description") or "",
        place=data.get("place") or "",
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        capacity=plan.capacity,
        signup_open=bool(data.get("signup_open", True)),
        hours=hours,
        points_per_hour=rules.DEFAULT_POINTS_PER_HOUR if pph is None else pph,
        confirmed_count=0,
        waitlist_count=0,
        last_seq=0,
        revision=0,
        created_at=now,
        updated_at=now,
        created_by_id=actor.id,
    )
    db.session.add(activity)
    db.session.flush()
    audit.record(
        "volunteer.activity_created",
        actor,
        activity,
        team=team.id,
        starts_at=plan.starts_at.isoformat(),
        capacity=plan.capacity,
    )
    return activity


def _lock(activity_id: int) -> Activity:
    """The activity row, locked for this transaction (serialises sign-ups and promotions)."""
    return lock_row(Activity, activity_id, Activity.last_seq, (joinedload(Activity.team),))


def _promote(activity: Activity, now: datetime) -> list[Signup]:
    if activity.waitlist_count <= 0 or activity.confirmed_count >= activity.capacity:
        return []
    waiting = list(
        db.session.scalars(
            select(Signup).where(
                Signup.activity_id == activity.id, Signup.status == rules.WAITLISTED
            )
        )
    )
    ids = rules.promotions(
        activity.capacity, activity.confirmed_count, [(s.seq, s.id) for s in waiting]
    )
    by_id = {s.id: s for s in waiting}
    promoted = []
    for sid in ids:
        s = by_id[sid]
        s.status = rules.CONFIRMED
        s.promoted_at = now
        activity.confirmed_count += 1
        activity.waitlist_count -= 1
        promoted.append(s)
        audit.record("volunteer.promoted", None, s, activity=activity.id, user=s.user_id, seq=s.seq)
    return promoted


def update_activity(actor, activity_id: int, now: datetime, **data) -> Activity:
    activity = _lock(activity_id)
    if not can_manage(actor, activity.team):
        raise PermissionDenied(
            _("Only the team's coordinator or the community can edit activities.")
        )
    before = rules.Plan(activity.starts_at, activity.ends_at, activity.capacity)
    plan = rules.Plan(
        data["starts_at"],
        data["ends_at"],
        data["capacity"],
        data.get("hours"),
        data.get("points_per_hour"),
    )
    problems = rules.plan_problems(plan, now, before=before, confirmed=activity.confirmed_count)
    if problems:
        raise _plan_error(problems)
    hours = data.get("hours")
    if hours is None:
        hours = rules.default_hours(plan.starts_at, plan.ends_at)
    pph = data.get("points_per_hour")
    pph = rules.DEFAULT_POINTS_PER_HOUR if pph is None else pph
    changed = {}
    new_values = {
        "title": data["title"],
        "description": data.get("description") or "",
        "place": data.get("place") or "",
        "starts_at": plan.starts_at,
        "ends_at": plan.ends_at,
        "capacity": plan.capacity,
        "signup_open": bool(data.get("signup_open")),
        "hours": Decimal(hours).quantize(rules.CENT),
        "points_per_hour": Decimal(pph).quantize(rules.CENT),
    }
    for key, value in new_values.items():
        old = getattr(activity, key)
        if isinstance(old, Decimal):
            old = old.quantize(rules.CENT)
        if old != value:
            changed[key] = str(value) if not isinstance(value, datetime) else value.isoformat()
            setattr(activity, key, value)
    if not changed:
        return activity
    activity.revision += 1
    activity.updated_at = now
    promoted = _promote(activity, now)
    if "hours" in changed or "points_per_hour" in changed:
        credited_hours, credited_points = rules.credit(
            rules.ATTENDED, activity.hours, activity.points_per_hour
        )
        db.session.execute(
            update(Signup)
            .where(Signup.activity_id == activity.id, Signup.attendance == rules.ATTENDED)
            .values(hours=credited_hours, points=credited_points)
            .execution_options(synchronize_session=False)
        )
    audit.record(
        "volunteer.activity_updated",
        actor,
        activity,
        changed=changed,
        promoted=[s.id for s in promoted] or None,
    )
    return activity


# ---- sign-up, cancel, check-in --------------------------------------------------------------


def signup(user, activity_id: int, now: datetime) -> Signup:
    """Confirm a place, or queue on the waiting list when full; refusals change nothing."""
    activity = _lock(activity_id)
    if not is_resident_of(user, activity.team.community_id):
        raise PermissionDenied(
            _(
                "Only verified residents of this community can sign up. Claim your unit first; "
                "the community will verify it."
            )
        )
    existing = db.session.scalar(
        select(Signup).where(Signup.activity_id == activity.id, Signup.user_id == user.id)
    )
    seats = rules.Seats(
        activity.capacity, activity.confirmed_count, activity.starts_at, activity.signup_open
    )
    try:
        outcome = rules.signup_outcome(seats, now, existing.status if existing else None)
    except rules.Refused as r:
        raise _refused(r) from None
    activity.last_seq += 1
    fields = {
        "status": outcome,
        "seq": activity.last_seq,
        "signed_up_at": now,
        "cancelled_at": None,
        "promoted_at": None,
        "attendance": None,
        "hours": None,
        "points": None,
        "checked_in_at": None,
        "checked_in_by_id": None,
    }
    if existing is not None:  # signed up before and cancelled: back of the line
        for key, value in fields.items():
            setattr(existing, key, value)
        signup_row = existing
    else:
        signup_row = Signup(activity_id=activity.id, user_id=user.id, **fields)
        db.session.add(signup_row)
    if outcome == rules.CONFIRMED:
        activity.confirmed_count += 1
    else:
        activity.waitlist_count += 1
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise AlreadySignedUp(str(REFUSALS["already"])) from exc
    audit.record("volunteer.signed_up", user, signup_row, activity=activity.id, status=outcome)
    return signup_row


def cancel(user, activity_id: int, now: datetime) -> tuple[Signup, list[Signup]]:
    """Cancel the person's place or waiting-list entry; the first in line moves up."""
    activity = _lock(activity_id)
    existing = db.session.scalar(
        select(Signup).where(Signup.activity_id == activity.id, Signup.user_id == user.id)
    )
    try:
        rules.check_cancel(existing.status if existing else None, activity.starts_at, now)
    except rules.Refused as r:
        raise _refused(r) from None
    was = existing.status
    existing.status = rules.CANCELLED
    existing.cancelled_at = now
    if was == rules.CONFIRMED:
        activity.confirmed_count -= 1
    else:
        activity.waitlist_count -= 1
    promoted = _promote(activity, now)
    audit.record(
        "volunteer.cancelled",
        user,
        existing,
        activity=activity.id,
        was=was,
        promoted=[s.user_id for s in promoted] or None,
    )
    return existing, promoted


def mark_attendance(actor, signup_id: int, mark: str, now: datetime) -> Signup:
    signup_row = get_signup_for_checkin(actor, signup_id)
    activity = signup_row.activity
    try:
        rules.check_attendance(mark, signup_row.status, activity.starts_at, activity.ends_at, now)
    except rules.Refused as r:
        raise _refused(r) from None
    previous = signup_row.attendance
    hours, points = rules.credit(mark, activity.hours, activity.points_per_hour)
    signup_row.attendance = mark
    signup_row.hours = hours
    signup_row.points = points
    signup_row.checked_in_at = now
    signup_row.checked_in_by_id = actor.id
    audit.record(
        "volunteer.attendance",
        actor,
        signup_row,
        activity=activity.id,
        user=signup_row.user_id,
        mark=mark,
        previous=previous,
        hours=str(hours),
    )
    return signup_row


# ---- iCalendar -------------------------------------------------------------------------------


def ics(activity: Activity, url: str) -> bytes:
    """The activity as an iCalendar file (RFC 5545): times in UTC, a stable UID, and a
    SEQUENCE that grows with every edit so that a phone updates its copy."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Red property portal//Volunteers//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"volunteer-activity-{activity.id}@{UID_DOMAIN}")
    event.add("dtstamp", activity.updated_at.astimezone(UTC))
    event.add("dtstart", activity.starts_at.astimezone(UTC))
    event.add("dtend", activity.ends_at.astimezone(UTC))
    event.add("sequence", activity.revision)
    event.add("summary", activity.title)
    if activity.place:
        event.add("location", activity.place)
    parts = [activity.team.name]
    if activity.description:
        parts.append(activity.description)
    parts.append(_("Sign up or cancel: %(url)s", url=url))
    event.add("description", "\n\n".join(parts))
    event.add("url", url)
    cal.add_component(event)
    return cal.to_ical()
