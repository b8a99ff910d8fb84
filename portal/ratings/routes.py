"""Routes of the ratings domain."""

from portal.ratings import bp  # noqa: F401
