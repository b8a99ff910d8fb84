from flask import Blueprint

bp = Blueprint("places", __name__)

from portal.places import roster_routes, routes  # noqa: E402,F401
