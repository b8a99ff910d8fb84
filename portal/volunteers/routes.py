"""Volunteer pages: teams, activities, sign-up and waiting list, check-in, calendar (.ics),
the volunteer's own record and the community's monthly summary (see the service for rules)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, get_day_names
from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.errors import DomainError, NotFound, PermissionDenied
from portal.extensions import db
from portal.htmx import is_htmx, render_page_or_fragment
from portal.i18n import fmt_datetime
from portal.models_base import utcnow
from portal.places import service as places
from portal.places import tabs
from portal.volunteers import bp, rules, service
from portal.volunteers.forms import ActivityForm, CoordinatorForm, TeamForm
from portal.volunteers.labels import ATTENDANCE_LABELS, SEAT_LABELS, SIGNUP_STATUS_LABELS

TAB_UPCOMING = 10
TEAM_UPCOMING = 50


def _labels() -> dict:
    return {
        "seat_labels": SEAT_LABELS,
        "status_labels": SIGNUP_STATUS_LABELS,
        "attendance_labels": ATTENDANCE_LABELS,
    }


def _viewer():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


# ---- template filters ------------------------------------------------------------------------


@bp.app_template_filter("hours")
def _fmt_hours(value) -> str:
    """1.5 -> "1.5", 2.00 -> "2" (hours and points)."""
    return format_decimal(Decimal(value or 0), format="#,##0.##")


@bp.app_template_filter("timespan")
def _timespan(activity) -> str:
    """Start and end in local time; the end's date is left out when it is the same day."""
    tz = service.local_tz()
    same_day = rules.local_date(activity.starts_at, tz) == rules.local_date(activity.ends_at, tz)
    end = fmt_datetime(activity.ends_at, "HH:mm") if same_day else fmt_datetime(activity.ends_at)
    return f"{fmt_datetime(activity.starts_at)}–{end}"


@bp.app_template_filter("seat_state")
def _seat_state(activity, now: datetime) -> str:
    seats = rules.Seats(
        activity.capacity, activity.confirmed_count, activity.starts_at, activity.signup_open
    )
    return rules.seat_state(seats, activity.waitlist_count, now)


# ---- the compound hub's tab ------------------------------------------------------------------


@tabs.register("volunteers")
def load_tab(compound, viewer, args) -> dict:
    now = utcnow()
    upcoming = service.upcoming(now, 1, TAB_UPCOMING, compound=compound)
    return {
        "now": now,
        "vol_teams": service.teams_in(compound=compound),
        "vol_upcoming": upcoming,
        "vol_mine": service.my_signups(viewer, [a.id for a in upcoming.items]),
        **_labels(),
    }


# ---- public pages ----------------------------------------------------------------------------


@bp.get("/communities/<code>/volunteers")
def community(code: str):
    community = places.get_community(code)
    viewer = _viewer()
    now = utcnow()
    pagination = service.upcoming(
        now, _page(), current_app.config["PAGE_SIZE"], community=community
    )
    return render_template(
        "volunteers/community.html",
        community=community,
        teams=service.teams_in(community=community),
        pagination=pagination,
        mine=service.my_signups(viewer, [a.id for a in pagination.items]),
        now=now,
        can_administer=service.can_administer(viewer, community.id),
        **_labels(),
    )


def _month_name(ym: tuple[int, int], current: tuple[int, int], locale) -> str:
    """The neighbouring month, with its year only when the year changes."""
    skeleton = "MMM" if ym[0] == current[0] else "yMMM"
    return format_skeleton(skeleton, datetime(ym[0], ym[1], 1, 12), locale=locale)


def _month_context(scope: dict) -> dict:
    tz = service.local_tz()
    now = utcnow()
    ym = rules.parse_month(request.args.get("month")) or rules.local_month(now, tz)
    month = service.month_of(*ym, **scope)
    locale = get_locale()
    first = datetime(ym[0], ym[1], 1, 12)
    day_names = get_day_names("abbreviated", locale=locale)
    viewer = _viewer()
    prev_ym = rules.shift_month(*ym, -1)
    next_ym = rules.shift_month(*ym, 1)
    return {
        "month": month,
        "month_title": format_skeleton("yMMMM", first, locale=locale),
        "prev_title": _month_name(prev_ym, ym, locale),
        "next_title": _month_name(next_ym, ym, locale),
        "weekdays": [day_names[i] for i in range(7)],
        "day_title": lambda d: format_skeleton(
            "MMMEd", datetime(d.year, d.month, d.day, 12), locale=locale
        ),
        "today": rules.local_date(now, tz),
        "now": now,
        "mine": service.my_signups(viewer, [a.id for a in month.activities]),
        **_labels(),
    }


@bp.get("/communities/<code>/volunteers/calendar")
def community_calendar(code: str):
    community = places.get_community(code)
    ctx = _month_context({"community": community})
    return render_page_or_fragment(
        "volunteers/calendar.html",
        "volunteers/_month.html",
        community=community,
        compound=None,
        endpoint="volunteers.community_calendar",
        code=code,
        **ctx,
    )


@bp.get("/compounds/<code>/volunteers/calendar")
def compound_calendar(code: str):
    compound = places.get_compound(code)
    ctx = _month_context({"compound": compound})
    return render_page_or_fragment(
        "volunteers/calendar.html",
        "volunteers/_month.html",
        community=compound.community,
        compound=compound,
        endpoint="volunteers.compound_calendar",
        code=code,
        **ctx,
    )


@bp.get("/communities/<code>/volunteers/summary")
def summary(code: str):
    community = places.get_community(code)
    now = utcnow()
    data = service.monthly_summary(community, now)
    locale = get_locale()
    month_titles = {
        ym: format_skeleton("yMMM", datetime(ym[0], ym[1], 1, 12), locale=locale)
        for ym in data.months
    }
    return render_template(
        "volunteers/summary.html",
        community=community,
        summary=data,
        month_titles=month_titles,
    )


def _team_context(team, page: int = 1, coordinator_form=None) -> dict:
    viewer = _viewer()
    now = utcnow()
    upcoming = service.upcoming(now, 1, TEAM_UPCOMING, team=team)
    return {
        "team": team,
        "totals": service.team_totals(team, now),
        "upcoming": upcoming,
        "past": service.past_of_team(team, now, page, current_app.config["PAGE_SIZE"]),
        "mine": service.my_signups(viewer, [a.id for a in upcoming.items]),
        "now": now,
        "can_manage": service.can_manage(viewer, team),
        "can_administer": service.can_administer(viewer, team.community_id),
        "coordinator_form": coordinator_form or CoordinatorForm(),
        **_labels(),
    }


@bp.get("/volunteers/teams/<int:team_id>")
def team(team_id: int):
    team = service.get_team(team_id)
    return render_template("volunteers/team.html", **_team_context(team, _page()))


def _activity_context(activity, **extra) -> dict:
    viewer = _viewer()
    mine = service.signup_of(viewer, activity)
    return {
        "activity": activity,
        "team": activity.team,
        "my_signup": mine,
        "position": service.position_of(mine),
        "eligible": (
            None if viewer is None else service.is_resident_of(viewer, activity.team.community_id)
        ),
        "can_manage": service.can_manage(viewer, activity.team),
        "now": utcnow(),
        "notice": None,
        "error": None,
        **_labels(),
        **extra,
    }


@bp.get("/volunteers/activities/<int:activity_id>")
def activity(activity_id: int):
    activity = service.get_activity(activity_id)
    return render_template("volunteers/activity.html", **_activity_context(activity))


@bp.get("/volunteers/activities/<int:activity_id>.ics")
def activity_ics(activity_id: int):
    activity = service.get_activity(activity_id)
    url = url_for("volunteers.activity", activity_id=activity.id, _external=True)
    resp = make_response(service.ics(activity, url))
    resp.headers["Content-Type"] = "text/calendar; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="activity-{activity.id}.ics"'
    return resp


# ---- sign-up and cancel ----------------------------------------------------------------------


def _after_signup_move(activity_id: int, notice: str | None, error: DomainError | None):
    """htmx: the sign-up box alone (200, so that it is swapped in, with the message);
    without JS: back to the activity page, or the page with the refusal and its status."""
    if isinstance(error, NotFound):
        raise error
    db.session.expire_all()
    if is_htmx():
        activity = service.get_activity(activity_id)
        ctx = _activity_context(activity, notice=notice, error=error.message if error else None)
        resp = make_response(render_template("volunteers/_signup_box.html", **ctx))
        resp.vary.add("HX-Request")
        return resp
    if error is None:
        flash(notice, "success")
        return redirect(url_for("volunteers.activity", activity_id=activity_id))
    activity = service.get_activity(activity_id)
    return render_template(
        "volunteers/activity.html", **_activity_context(activity, error=error.message)
    ), error.status


def _login_first(activity_id: int):
    """Not logged in (or the session ended): to the login page, and back here after.
    htmx is told to load the page whole rather than swap the login form into the box."""
    target = url_for("accounts.login", next=url_for("volunteers.activity", activity_id=activity_id))
    if is_htmx():
        resp = make_response("", 204)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)


@bp.post("/volunteers/activities/<int:activity_id>/signup")
def signup(activity_id: int):
    if not current_user.is_authenticated:
        return _login_first(activity_id)
    user = current_user._get_current_object()
    try:
        s = service.with_retry(service.signup, user, activity_id, utcnow())
    except DomainError as e:
        return _after_signup_move(activity_id, None, e)
    if s.status == rules.CONFIRMED:
        notice = _("You are signed up. Your place is confirmed.")
    else:
        notice = _(
            "The activity is full, so you are on the waiting list (number %(n)s). If someone "
            "cancels, you move up automatically; your page “My volunteering” will show it.",
            n=service.position_of(s),
        )
    return _after_signup_move(activity_id, notice, None)


@bp.post("/volunteers/activities/<int:activity_id>/cancel")
def cancel(activity_id: int):
    if not current_user.is_authenticated:
        return _login_first(activity_id)
    user = current_user._get_current_object()
    try:
        service.with_retry(service.cancel, user, activity_id, utcnow())
    except DomainError as e:
        return _after_signup_move(activity_id, None, e)
    return _after_signup_move(activity_id, _("Your sign-up has been cancelled."), None)


@bp.get("/account/volunteering")
@login_required
def mine():
    user = current_user._get_current_object()
    now = utcnow()
    data = service.my_volunteering(user, now, _page(), current_app.config["PAGE_SIZE"])
    return render_template("volunteers/mine.html", data=data, now=now, **_labels())


# ---- staff and coordinators ------------------------------------------------------------------


@bp.get("/staff/volunteers")
@login_required
def staff():
    user = current_user._get_current_object()
    communities, managed = service.staff_communities(user)
    return render_template(
        "volunteers/staff.html",
        communities=communities,
        managed=managed,
        counts=service.team_counts(c.id for c in communities),
    )


@bp.route("/communities/<code>/volunteers/teams/new", methods=["GET", "POST"])
@login_required
def new_team(code: str):
    community = places.get_community(code)
    actor = current_user._get_current_object()
    if not service.can_administer(actor, community.id):
        raise PermissionDenied(_("Only the community's secretary can create its teams."))
    form = TeamForm()
    form.compound.choices = [(0, _("The whole community"))] + [
        (c.id, c.name) for c in community.compounds
    ]
    if form.validate_on_submit():
        try:
            team = service.create_team(
                actor,
                community,
                form.name.data,
                form.description.data or "",
                form.compound.data or None,
                form.coordinator_phone.data or None,
                utcnow(),
            )
        except PermissionDenied:
            raise
        except DomainError as e:
            db.session.rollback()
            target = form.coordinator_phone if isinstance(e, service.NotACoordinator) else form.name
            target.errors.append(e.message)
        else:
            db.session.commit()
            flash(_("The team “%(name)s” has been created.", name=team.name), "success")
            return redirect(url_for("volunteers.team", team_id=team.id))
    return render_template("volunteers/team_form.html", form=form, community=community), (
        422 if form.errors else 200
    )


@bp.post("/volunteers/teams/<int:team_id>/coordinator")
@login_required
def appoint(team_id: int):
    team = service.get_team(team_id)
    actor = current_user._get_current_object()
    if not service.can_administer(actor, team.community_id):
        raise PermissionDenied(_("Only the community's secretary appoints coordinators."))
    form = CoordinatorForm()
    if form.validate_on_submit():
        try:
            service.appoint_coordinator(actor, team, form.phone.data, utcnow())
        except DomainError as e:
            db.session.rollback()
            form.phone.errors.append(e.message)
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s now coordinates the team.",
                    name=team.coordinator.display_name,
                ),
                "success",
            )
            return redirect(url_for("volunteers.team", team_id=team.id))
    team = service.get_team(team_id)
    return render_template(
        "volunteers/team.html", **_team_context(team, coordinator_form=form)
    ), 422


def _to_utc(local_naive: datetime) -> datetime:
    return local_naive.replace(tzinfo=service.local_tz()).astimezone(ZoneInfo("UTC"))


def _to_local(moment: datetime) -> datetime:
    return moment.astimezone(service.local_tz()).replace(tzinfo=None)


def _activity_data(form: ActivityForm) -> dict:
    return {
        "title": form.title.data,
        "description": form.description.data or "",
        "place": form.place.data,
        "starts_at": _to_utc(form.starts_at.data),
        "ends_at": _to_utc(form.ends_at.data),
        "capacity": form.capacity.data,
        "signup_open": form.signup_open.data,
        "hours": form.hours.data,
        "points_per_hour": form.points_per_hour.data,
    }


def _plan_errors(form: ActivityForm, e: DomainError) -> None:
    problems = getattr(e, "problems", None) or [("title", e.message)]
    for field_name, message in problems:
        getattr(form, field_name).errors.append(message)


@bp.route("/volunteers/teams/<int:team_id>/activities/new", methods=["GET", "POST"])
@login_required
def new_activity(team_id: int):
    team = service.get_team(team_id)
    actor = current_user._get_current_object()
    if not service.can_manage(actor, team):
        raise PermissionDenied(
            _("Only the team's coordinator or the community can add activities.")
        )
    form = ActivityForm()
    if form.validate_on_submit():
        try:
            activity = service.create_activity(actor, team, utcnow(), **_activity_data(form))
        except PermissionDenied:
            raise
        except DomainError as e:
            db.session.rollback()
            _plan_errors(form, e)
        else:
            db.session.commit()
            flash(_("The activity has been published."), "success")
            return redirect(url_for("volunteers.activity", activity_id=activity.id))
    return render_template("volunteers/activity_form.html", form=form, team=team, activity=None), (
        422 if form.errors else 200
    )


@bp.route("/volunteers/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def edit_activity(activity_id: int):
    activity = service.get_activity(activity_id)
    actor = current_user._get_current_object()
    if not service.can_manage(actor, activity.team):
        raise PermissionDenied(
            _("Only the team's coordinator or the community can edit activities.")
        )
    form = ActivityForm(obj=activity if request.method == "GET" else None)
    if request.method == "GET":
        form.starts_at.data = _to_local(activity.starts_at)
        form.ends_at.data = _to_local(activity.ends_at)
    if form.validate_on_submit():
        try:
            service.with_retry(
                service.update_activity, actor, activity.id, utcnow(), **_activity_data(form)
            )
        except (PermissionDenied, NotFound):
            raise
        except DomainError as e:
            _plan_errors(form, e)
        else:
            flash(_("The activity has been saved."), "success")
            return redirect(url_for("volunteers.activity", activity_id=activity_id))
        activity = service.get_activity(activity_id)
    return render_template(
        "volunteers/activity_form.html", form=form, team=activity.team, activity=activity
    ), (422 if form.errors else 200)


def _roster_context(actor, activity, **extra) -> dict:
    now = utcnow()
    return {
        "activity": activity,
        "signups": service.roster(actor, activity),
        "now": now,
        "checkin_open": activity.starts_at - rules.CHECKIN_OPENS_BEFORE
        <= now
        <= activity.ends_at + rules.CHECKIN_CLOSES_AFTER,
        "row_errors": {},
        **_labels(),
        **extra,
    }


@bp.get("/volunteers/activities/<int:activity_id>/roster")
@login_required
def roster(activity_id: int):
    activity = service.get_activity(activity_id)
    actor = current_user._get_current_object()
    return render_template("volunteers/roster.html", **_roster_context(actor, activity))


@bp.post("/volunteers/signups/<int:signup_id>/attendance")
@login_required
def attendance(signup_id: int):
    actor = current_user._get_current_object()
    s = service.get_signup_for_checkin(actor, signup_id)  # 404 / 403 first
    activity_id = s.activity_id
    error = None
    try:
        service.with_retry(
            service.mark_attendance, actor, signup_id, request.form.get("mark", ""), utcnow()
        )
    except (PermissionDenied, NotFound):
        raise
    except DomainError as e:
        error = e
    db.session.expire_all()
    activity = service.get_activity(activity_id)
    if is_htmx():
        ctx = _roster_context(actor, activity)
        s = next(x for x in ctx["signups"] if x.id == signup_id)
        resp = make_response(
            render_template(
                "volunteers/_roster_row.html",
                s=s,
                row_error=error.message if error else None,
                **ctx,
            )
        )
        resp.vary.add("HX-Request")
        return resp
    if error is None:
        s = service.get_signup_for_checkin(actor, signup_id)
        flash(
            _(
                "%(name)s: %(mark)s.",
                name=s.user.display_name,
                mark=ATTENDANCE_LABELS[s.attendance],
            ),
            "success",
        )
        return redirect(url_for("volunteers.roster", activity_id=activity_id))
    ctx = _roster_context(actor, activity, row_errors={signup_id: error.message})
    return render_template("volunteers/roster.html", **ctx), error.status
