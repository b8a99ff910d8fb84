"""Money, rates and periods as the current locale shows them (Jinja filters of this domain)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from flask_babel import format_currency, format_decimal

from portal.i18n import current_lang
from portal.transparency import feecore, periods


def money(value) -> str:
    """¥1,234.50 in both languages (Babel's CNY symbol would be "CN¥" in English)."""
    if value is None:
        return ""
    return format_currency(Decimal(value), "CNY", format="¥#,##0.00", currency_digits=False)


def pct(value: Fraction | None) -> str:
    """An exact rate as a percentage with one decimal, rounded half up: 66.7%."""
    shown = feecore.percent(value)
    if shown is None:
        return "—"
    return format_decimal(shown, format="0.0") + "%"


def period_label(value) -> str:
    """A period (or its key) in the current language: 2026年1月 / January 2026."""
    p = value if isinstance(value, periods.Period) else periods.parse_key(str(value))
    if p is None:
        return str(value)
    return p.label(current_lang())


def short_period(p: periods.Period) -> tuple[str, str]:
    """(label, sublabel) under a trend bar: month number or quarter, the year when it starts."""
    from babel.dates import format_skeleton

    if p.kind == "month":
        label = format_skeleton("MMM", p.start, locale=current_lang())
        sub = str(p.year) if p.number == 1 else ""
    elif p.kind == "quarter":
        label = f"Q{p.number}"
        sub = str(p.year) if p.number == 1 else ""
    else:
        label, sub = str(p.year), ""
    return label, sub
