"""Routes of the volunteers domain."""

from portal.volunteers import bp  # noqa: F401
