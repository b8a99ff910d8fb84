"""Routes of the transparency domain."""

from portal.transparency import bp  # noqa: F401
