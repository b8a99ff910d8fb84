"""Elections of the property company: roll, ballots, ledger, tally, recount, contracts."""

from flask import Blueprint

bp = Blueprint("voting", __name__)

from portal.voting import routes, routes_public, routes_staff  # noqa: E402,F401
