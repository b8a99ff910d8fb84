"""The little world the volunteer tests share (no tests here): a compound of a community with
its secretary, a team with a coordinator, verified residents, and activities at given times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from portal.extensions import db
from portal.volunteers import rules, service
from portal.volunteers.models import Activity, Team
from tests.factories import first_unit


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class World:
    def __init__(self, make_compound, make_user, make_claim, make_grant, make_community):
        self._make_user = make_user
        self._make_claim = make_claim
        self._make_compound = make_compound
        self.community = make_community(name="向阳社区")
        self.compound = make_compound(
            community=self.community, name="和平花园", buildings=1, units_per_building=4
        )
        self.unit = first_unit(self.compound)
        self.secretary = make_user(name="王书记", phone="13600000001")
        make_grant(self.secretary, "secretary", self.community)
        self.coordinator = self.resident("李协调", phone="13600000002")
        self.team = self.make_team("红管家", compound=self.compound, coordinator=self.coordinator)

    def resident(self, name: str | None = None, status: str = "verified", unit=None, **kw):
        user = self._make_user(name=name, **kw)
        self._make_claim(user, unit or self.unit, status=status)
        return user

    def make_team(self, name: str, compound=None, coordinator=None, community=None) -> Team:
        team = Team(
            community_id=(community or self.community).id,
            compound_id=compound.id if compound else None,
            name=name,
            coordinator_id=coordinator.id if coordinator else None,
        )
        db.session.add(team)
        db.session.commit()
        return team

    def activity(
        self,
        *,
        starts_at: datetime | None = None,
        starts_in: timedelta = timedelta(days=2),
        length: timedelta = timedelta(hours=2),
        capacity: int = 5,
        team: Team | None = None,
        title: str = "楼道清理",
        place: str = "3栋门口",
        signup_open: bool = True,
        hours: Decimal | None = None,
        points_per_hour: Decimal = Decimal("1"),
        description: str = "",
    ) -> Activity:
        start = starts_at or (now_utc() + starts_in)
        end = start + length
        a = Activity(
            team_id=(team or self.team).id,
            title=title,
            place=place,
            description=description,
            starts_at=start,
            ends_at=end,
            capacity=capacity,
            signup_open=signup_open,
            hours=hours if hours is not None else rules.default_hours(start, end),
            points_per_hour=points_per_hour,
            confirmed_count=0,
            waitlist_count=0,
            last_seq=0,
            revision=0,
            created_at=now_utc(),
            updated_at=now_utc(),
        )
        db.session.add(a)
        db.session.commit()
        return a

    def sign_up(self, user, activity, now: datetime | None = None):
        """Sign ``user`` up through the service at ``now`` (default: a minute ago)."""
        s = service.signup(user, activity.id, now or now_utc())
        db.session.commit()
        return s

    def sign_up_before_start(self, user, activity):
        return self.sign_up(user, activity, activity.starts_at - timedelta(hours=1))
