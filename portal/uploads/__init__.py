"""Safe storage and serving of uploaded documents (PDF, JPEG, PNG) at ``/files/<id>``."""

from flask import Blueprint

bp = Blueprint("uploads", __name__)

from portal.uploads import routes  # noqa: E402,F401
