from flask import Blueprint

bp = Blueprint("notices", __name__)


@bp.record_once
def _register_uploads(state) -> None:
    """Serve attachments (``uploads.file``) even before ``create_app`` lists that blueprint."""
    from portal.uploads import bp as uploads_bp

    if "uploads" not in state.app.blueprints:
        state.app.register_blueprint(uploads_bp)


from portal.notices import routes  # noqa: E402,F401
