"""Safe storage and serving of uploaded documents (PDF, JPEG, PNG).

The blueprint serves attachments at ``/files/<id>``. Until ``create_app`` lists it, the notices
blueprint registers it (see ``portal/notices/__init__``); registering it a second time is a
no-op, so adding it to ``create_app`` in any order is safe.
"""

from flask import Blueprint


class _RegisteredOnce(Blueprint):
    def register(self, app, options):
        if app.blueprints.get(self.name) is self:
            return
        super().register(app, options)


bp = _RegisteredOnce("uploads", __name__)

from portal.uploads import routes  # noqa: E402,F401
