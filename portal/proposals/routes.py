"""Routes of the proposals domain."""

from portal.proposals import bp  # noqa: F401
