from flask import Blueprint

bp = Blueprint("ratings", __name__)

from portal.ratings import routes  # noqa: E402,F401
