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
    _fast_template_gettext(app)
    _lazy_form_tokens()
    _cached_form_translations()
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

    def _error_page(status: int, title: str, message: str, reference: str | None = None):
        return render_template(
            "errors/error.html", status=status, title=title, message=message, reference=reference
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
            reference=g.get("request_id"),
        )

    @app.teardown_request
    def _rollback_on_error(exc):
        if exc is not None:
            from portal.extensions import db

            db.session.rollback()


def _fast_template_gettext(app: Flask) -> None:
    """Templates translate through the request's catalog, looked up once per request.

    Flask-Babel's own template callables find the locale and the catalog again for every
    message (a few context lookups each); a busy page has 100-500 messages. The catalog of the
    request is the same for all of them, so it is kept on ``g`` (a request that changes the
    language redirects before rendering anything)."""
    from flask import has_app_context
    from flask_babel import get_translations

    def catalog():
        if not has_app_context():
            return get_translations()
        cached = g.get("_catalog")
        if cached is None:
            cached = g._catalog = get_translations()
        return cached

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
    )


class _LazyToken:
    """A form's CSRF token, made when the form is rendered rather than when it is built.

    WTForms asks for the token as soon as a form object exists; views build the forms a page
    might show before knowing which ones it will (a visitor sees none). Made eagerly, the token
    starts a session and a cookie for every visitor, and no public page could be cached."""

    __slots__ = ("_make", "_value")

    def __init__(self, make):
        self._make = make
        self._value = None

    def __str__(self) -> str:
        if self._value is None:
            self._value = self._make()
        return self._value

    def __html__(self) -> str:
        return str(self)


def _lazy_form_tokens() -> None:
    from flask_wtf import FlaskForm
    from flask_wtf.csrf import _FlaskFormCSRF

    class LazyFlaskFormCSRF(_FlaskFormCSRF):
        def generate_csrf_token(self, csrf_token_field):
            return _LazyToken(lambda: _FlaskFormCSRF.generate_csrf_token(self, csrf_token_field))

    FlaskForm.Meta.csrf_class = LazyFlaskFormCSRF


def _cached_form_translations() -> None:
    """WTForms' own messages ("Not a valid choice.") in the request's language, from a catalog
    each worker loads once per language. Flask-WTF reads that catalog from disk again in every
    request that validates a form (a vote, a comment, a login)."""
    from babel import support
    from flask_babel import get_locale
    from flask_wtf import FlaskForm
    from wtforms.i18n import messages_path

    catalogs: dict[str, support.Translations] = {}

    class Translations:
        def _catalog(self):
            locale = str(get_locale())
            catalog = catalogs.get(locale)
            if catalog is None:
                catalog = catalogs[locale] = support.Translations.load(
                    messages_path(), [locale], domain="wtforms"
                )
            return catalog

        def gettext(self, string):
            return self._catalog().ugettext(string)

        def ngettext(self, singular, plural, n):
            return self._catalog().ungettext(singular, plural, n)

    translations = Translations()
    FlaskForm.Meta.get_translations = lambda self, form: translations
