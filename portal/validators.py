"""Pure validators shared by forms and imports (no Flask)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()]")


def normalise_mobile(raw: str | None) -> str | None:
    """Return the 11-digit mainland mobile number, or None when ``raw`` is not one.

    Accepts spaces, dashes and a +86 / 86 / 0086 prefix: "+86 138-0013-8000" -> "13800138000".
    """
    if raw is None:
        return None
    s = _SEPARATORS.sub("", str(raw).strip())
    for prefix in ("+86", "0086", "86"):
        if s.startswith(prefix) and len(s) == len(prefix) + 11:
            s = s[len(prefix) :]
            break
    return s if _MOBILE.match(s) else None


def parse_area(raw) -> Decimal | None:
    """An exclusive area: a positive number with at most two decimals, else None."""
    if raw is None:
        return None
    if isinstance(raw, float):
        raw = repr(raw)
    s = str(raw).strip().replace(",", "")
    if not s:
        return None
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0:
        return None
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        return None
    if value >= Decimal("10000000000"):
        return None
    return value.quantize(Decimal("0.01"))
