from flask import Blueprint

bp = Blueprint("minutes", __name__)

from portal.minutes import routes  # noqa: E402,F401
