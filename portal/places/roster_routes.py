"""Staff pages for the roster import: upload → preview (counts or every bad line) → confirm.

The uploaded bytes wait in ``instance/uploads/roster-<token>`` between the preview and the
confirmation; the Flask session remembers the token, the compound and the file's sha256. The
confirmation checks the file again and imports it; the stashed file is then deleted.
"""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import HiddenField, SelectField
from wtforms.validators import DataRequired, NumberRange

from portal.extensions import db
from portal.places import bp, roster_service
from portal.places import service as places
from portal.places.roster import COLUMNS, MAX_BYTES, MAX_ROWS, REQUIRED_COLUMNS
from portal.places.roster_labels import FIELD_LABELS, messages

SESSION_KEY = "roster_upload"


class RosterUploadForm(FlaskForm):
    compound = SelectField(
        _l("Compound"),
        coerce=int,
        validate_choice=False,  # the service decides who may import where (403, not 422)
        validators=[NumberRange(min=1, message=_l("Choose the compound of this roster."))],
    )
    file = FileField(
        _l("Roster file"),
        validators=[
            FileRequired(_l("Choose the roster file.")),
            FileAllowed(["csv", "xlsx"], _l("Choose a CSV (.csv) or Excel (.xlsx) file.")),
        ],
    )


class RosterConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


def _folder() -> Path:
    """Where uploads wait for confirmation: ``ROSTER_UPLOAD_FOLDER``, or instance/uploads."""
    folder = current_app.config.get("ROSTER_UPLOAD_FOLDER")
    return Path(folder) if folder else Path(current_app.instance_path) / "uploads"


def _forget_pending() -> None:
    pending = session.pop(SESSION_KEY, None)
    if pending:
        roster_service.discard_stash(_folder(), pending.get("token", ""))


def _compound_choices(compounds) -> list[tuple[int, str]]:
    return [(0, _("Choose a compound"))] + [
        (c.id, f"{c.community.name} · {c.name}") for c in compounds
    ]


def _upload_page(form: RosterUploadForm, compounds, status: int = 200):
    return render_template(
        "places/roster_upload.html",
        form=form,
        compounds=compounds,
        columns=COLUMNS,
        required=REQUIRED_COLUMNS,
        field_labels=FIELD_LABELS,
        max_rows=MAX_ROWS,
        max_mb=MAX_BYTES // 2**20,
    ), status


def _preview_page(compound, result, confirm=None, status: int = 200):
    return render_template(
        "places/roster_preview.html",
        compound=compound,
        result=result,
        error_messages=messages(result.errors),
        confirm=confirm,
    ), status


@bp.route("/staff/roster", methods=["GET", "POST"])
@login_required
def roster_upload():
    actor = current_user._get_current_object()
    compounds = roster_service.importable_compounds(actor)
    if not compounds:
        abort(403)
    form = RosterUploadForm()
    form.compound.choices = _compound_choices(compounds)
    if len(compounds) == 1 and not form.is_submitted():
        form.compound.data = compounds[0].id
    if not form.validate_on_submit():
        return _upload_page(form, compounds, 422 if form.errors else 200)

    compound = places.get_compound_by_id(form.compound.data)
    upload = form.file.data
    filename = (upload.filename or "")[-100:]
    data = upload.read()
    result = roster_service.preview(actor, compound, data, filename)
    if not result.ok:
        return _preview_page(compound, result, status=422)

    _forget_pending()
    token, sha256 = roster_service.stash_upload(_folder(), data)
    session[SESSION_KEY] = {
        "token": token,
        "compound_id": compound.id,
        "sha256": sha256,
        "filename": filename,
    }
    return _preview_page(compound, result, confirm=RosterConfirmForm(token=token))


@bp.post("/staff/roster/confirm")
@login_required
def roster_confirm():
    actor = current_user._get_current_object()
    form = RosterConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    pending = session.get(SESSION_KEY) or {}
    data = None
    if pending.get("token") == form.token.data:
        data = roster_service.load_stash(_folder(), pending["token"], pending.get("sha256", ""))
    if data is None:
        flash(
            _(
                "This upload is no longer waiting: it was imported or has expired. "
                "Upload the file again."
            ),
            "error",
        )
        return redirect(url_for("places.roster_upload"))

    compound = places.get_compound_by_id(pending["compound_id"])
    try:
        result = roster_service.import_roster(actor, compound, data, pending.get("filename", ""))
    except roster_service.RosterInvalid as exc:
        db.session.rollback()
        _forget_pending()
        result = roster_service.ImportResult(filename=pending.get("filename", ""))
        result.errors = exc.errors
        return _preview_page(compound, result, status=422)
    db.session.commit()
    _forget_pending()
    flash(
        _(
            "The roster of %(compound)s has been imported: %(created)d units added, "
            "%(updated)d updated, %(unchanged)d unchanged.",
            compound=compound.name,
            created=result.units_created,
            updated=result.units_updated,
            unchanged=result.units_unchanged,
        ),
        "success",
    )
    return redirect(url_for("places.compound", code=compound.code))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    """Only the roster upload takes a request body in this blueprint: say what the limit is."""
    too_large = _(
        "The file is larger than %(mb)d MB. Split the roster into several files, for "
        "example one per building.",
        mb=MAX_BYTES // 2**20,
    )
    actor = current_user._get_current_object()
    compounds = roster_service.importable_compounds(actor) if actor.is_authenticated else []
    if not compounds:
        return render_template(
            "errors/error.html", status=413, title=_("File too large"), message=too_large
        ), 413
    form = RosterUploadForm(formdata=None)
    form.compound.choices = _compound_choices(compounds)
    form.file.errors = [too_large]
    return _upload_page(form, compounds, 413)
