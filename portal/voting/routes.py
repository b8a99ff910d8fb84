"""Election pages (see the service for every rule)."""

from portal.voting import bp  # noqa: F401
