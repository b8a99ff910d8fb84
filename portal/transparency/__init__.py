from flask import Blueprint

bp = Blueprint("transparency", __name__)

from portal.transparency import routes  # noqa: E402,F401
