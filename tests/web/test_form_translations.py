"""WTForms' own messages ("Not a valid integer value.") follow the page's language, from a
catalog each worker loads once per language (Flask-WTF read it from disk in every request that
validated a form)."""

from __future__ import annotations

from babel import support
from flask.globals import _cv_app
from flask_wtf import FlaskForm
from wtforms import IntegerField


class _Form(FlaskForm):
    class Meta:
        csrf = False

    number = IntegerField("n")


def _message(app, lang: str) -> str:
    """The error message of a bad number, in a request of its own (own app context, as each
    request has in production)."""
    token = _cv_app.set(None)
    try:
        with app.test_request_context(f"/?lang={lang}", method="POST", data={"number": "x"}):
            app.preprocess_request()
            form = _Form()
            assert not form.validate()
            return form.number.errors[0]
    finally:
        _cv_app.reset(token)


def test_form_messages_in_each_language_from_a_catalog_loaded_once(app, monkeypatch):
    loads = []
    real = support.Translations.load

    def counting(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(support.Translations, "load", counting)
    first = [_message(app, "zh") for _ in range(3)]
    assert first == ["不是有效的整数。"] * 3
    assert [_message(app, "en") for _ in range(3)] == ["Not a valid integer value."] * 3
    assert _message(app, "zh") == "不是有效的整数。"
    wtforms_loads = [a for a in loads if "wtforms" in str(a[0])]
    assert len(wtforms_loads) <= 2  # once per language, in this worker
