"""Template helpers and translated error pages."""

from __future__ import annotations

from flask import Flask, g, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal import HTMX_VERSION
from portal.errors import DomainError
from portal.i18n import current_lang, fmt_area, fmt_datetime, fmt_number
from portal.privacy import mask_name, mask_phone


def init_web(app: Flask) -> None:
    app.jinja_env.filters.update(
        dt=fmt_datetime,
        area=fmt_area,
        number=fmt_number,
        mask_name=mask_name,
        mask_phone=mask_phone,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        from portal import security
        from portal.htmx import is_htmx

        return {
            "HTMX_FILE": f"vendor/htmx-{HTMX_VERSION}.min.js",
            "current_lang": current_lang,
            "large_text": g.get("large_text", False),
            "is_htmx": is_htmx,
            "sec": security,
        }

    def _error_page(status: int, title: str, message: str):
        return render_template(
            "errors/error.html", status=status, title=title, message=message
        ), status

    @app.errorhandler(CSRFError)
    def _csrf(e):
        return _error_page(
            400,
            _("The form expired"),
            _(
                "This form was open too long or came from elsewhere. Go back, reload the page "
                "and try again."
            ),
        )

    @app.errorhandler(DomainError)
    def _domain(e: DomainError):
        titles = {
            403: _("Not allowed"),
            404: _("Not found"),
            409: _("This cannot be done now"),
        }
        return _error_page(e.status, titles.get(e.status, _("Request not accepted")), e.message)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        code = e.code or 500
        pages = {
            400: (_("Bad request"), _("The request could not be understood.")),
            403: (
                _("Not allowed"),
                _("Your account does not have the right to see this page."),
            ),
            404: (
                _("Page not found"),
                _(
                    "The page does not exist or has moved. Check the address, or start again "
                    "from the home page."
                ),
            ),
            405: (_("Not allowed"), _("This address cannot be used this way.")),
            413: (_("File too large"), _("The file is larger than the portal accepts.")),
            429: (
                _("Too many attempts"),
                _(
                    "There were too many attempts in a short time. For your safety, please "
                    "wait 15 minutes and try again."
                ),
            ),
        }
        title, message = pages.get(
            code, (_("Something went wrong"), _("Please try again in a moment."))
        )
        resp = app.make_response(_error_page(code, title, message))
        if code == 429:
            resp.headers.setdefault("Retry-After", "900")
        return resp

    @app.errorhandler(500)
    def _server_error(e):
        return _error_page(
            500,
            _("Something went wrong"),
            _("The portal hit an error. It has been recorded; please try again in a moment."),
        )

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            from portal.extensions import db

            db.session.rollback()
