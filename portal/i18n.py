"""Locale choice, catalog compilation and locale-aware formatting helpers."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, g, has_request_context, request
from flask_babel import format_datetime, format_decimal, get_locale
from flask_login import current_user

LANG_COOKIE = "lang"


def normalise_lang(value: str | None) -> str | None:
    if not value:
        return None
    v = value.strip().replace("-", "_")
    langs = current_app.config["LANGUAGES"]
    if v in langs:
        return v
    low = v.lower()
    if low.startswith("zh"):
        return "zh_Hans_CN"
    if low.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    """?lang= for this request, then the user's preference, then the cookie, then zh."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    override = normalise_lang(request.args.get("lang"))
    if override:
        g.lang_override = override
        return override
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    cookie = normalise_lang(request.cookies.get(LANG_COOKIE))
    if cookie:
        return cookie
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def compile_catalogs(source: Path, target: Path) -> list[str]:
    """Compile every ``.po`` under ``source`` into ``target`` when the ``.mo`` is stale."""
    done = []
    for po_path in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        locale = po_path.parent.parent.name
        mo_path = target / locale / "LC_MESSAGES" / "messages.mo"
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        # a private temporary name: several workers may compile at the same time
        fd, tmp_name = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as fh:
            write_mo(fh, catalog)
        os.replace(tmp_name, mo_path)
        done.append(locale)
    return done


def current_lang() -> str:
    return str(get_locale() or "zh_Hans_CN")


def fmt_datetime(value: datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if current_lang().startswith("zh"):
        fmt = {"medium": "yyyy-MM-dd HH:mm", "short": "MM-dd HH:mm", "date": "yyyy-MM-dd"}.get(
            fmt, fmt
        )
    else:
        fmt = {"medium": "d MMM yyyy HH:mm", "short": "d MMM HH:mm", "date": "d MMM yyyy"}.get(
            fmt, fmt
        )
    return format_datetime(value, fmt)


def fmt_area(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.00")


def fmt_number(value) -> str:
    return format_decimal(value or 0, format="#,##0")
