"""Imports every domain's models so that Alembic and ``create_all`` see all tables."""

from portal.accounts.models import Membership, RoleGrant, User  # noqa: F401
from portal.audit import AuditEvent  # noqa: F401
from portal.places.models import (  # noqa: F401
    Building,
    Community,
    Company,
    Compound,
    RosterOwner,
    Street,
    Unit,
)
from portal.voting.models import (  # noqa: F401
    Ballot,
    Contract,
    Election,
    LedgerEntry,
    Objection,
    Option,
    RollEntry,
    RollVersion,
)
