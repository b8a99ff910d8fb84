"""Masking of personal data for display (PIPL): names as 张*, phones as 138****5678."""

from __future__ import annotations


def mask_name(name: str | None) -> str:
    """Keep the first character, mask the rest: 张三 -> 张*, 欧阳娜娜 -> 欧***."""
    if not name:
        return ""
    name = name.strip()
    if len(name) <= 1:
        return name + "*"
    if name.isascii() and " " in name:  # Latin names: keep the first word's initial
        return name[0] + "." + "*"
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str:
    """138****5678; anything shorter than 7 characters is masked whole."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def phone_last4(phone: str | None) -> str:
    return phone[-4:] if phone and len(phone) >= 4 else ""
