"""Routes of the notices domain."""

from portal.notices import bp  # noqa: F401
