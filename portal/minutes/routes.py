"""Routes of the minutes domain."""

from portal.minutes import bp  # noqa: F401
