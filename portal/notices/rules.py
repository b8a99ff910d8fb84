"""The rules of notices that need no database and no Flask: when a notice is shown, the
fingerprint printed on paper, and search patterns. Times are UTC-aware datetimes passed in."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime

CATEGORIES = ("announcement", "election", "fees", "maintenance", "outage", "event", "other")
SCOPES = ("street", "community", "compound")
STATES = ("scheduled", "current", "archived", "withdrawn")
FINGERPRINT_LENGTH = 12
CANONICAL_VERSION = "notice-v1"
_HEX = re.compile(r"^[0-9a-f]+$")
_CODE_NOISE = re.compile(r"[\s\-_:·.]")


def is_current(publish_at: datetime, expires_at: datetime | None, now: datetime) -> bool:
    """Shown in the current list: published (``publish_at <= now``) and not yet expired."""
    return publish_at <= now and (expires_at is None or now < expires_at)


def state(
    publish_at: datetime,
    expires_at: datetime | None,
    withdrawn_at: datetime | None,
    now: datetime,
) -> str:
    """scheduled (not yet public) → current → archived (expired, still reachable by link);
    withdrawn at any time, which wins."""
    if withdrawn_at is not None:
        return "withdrawn"
    if now < publish_at:
        return "scheduled"
    if expires_at is not None and expires_at <= now:
        return "archived"
    return "current"


def is_public(publish_at: datetime, withdrawn_at: datetime | None, now: datetime) -> bool:
    """Anyone may read it (current or archived)."""
    return withdrawn_at is None and publish_at <= now


def utc_seconds(value: datetime) -> datetime:
    """A datetime in UTC without microseconds: what is stored and fingerprinted."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).replace(microsecond=0)


def canonical_text(
    *,
    title: str,
    body: str,
    scope: str,
    publish_at: datetime,
    attachment_hashes: Iterable[str],
) -> str:
    """The exact text the fingerprint is taken of: JSON with sorted keys and no spaces; line
    ends normalised to ``\\n``; the publish time in UTC to the second (``2026-05-01T02:00:00Z``);
    the attachments' sha256 sorted."""
    doc = {
        "v": CANONICAL_VERSION,
        "title": normalise_text(title),
        "body": normalise_text(body),
        "scope": scope,
        "published": utc_seconds(publish_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "attachments": sorted(h.lower() for h in attachment_hashes),
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def fingerprint(
    *,
    title: str,
    body: str,
    scope: str,
    publish_at: datetime,
    attachment_hashes: Iterable[str],
) -> str:
    """The first 12 hex digits of the SHA-256 of ``canonical_text``."""
    text = canonical_text(
        title=title,
        body=body,
        scope=scope,
        publish_at=publish_at,
        attachment_hashes=attachment_hashes,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def group(code: str) -> str:
    """``a1b2c3d4e5f6`` → ``a1b2 c3d4 e5f6``: easier to read aloud and compare on paper."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(text: str | None) -> str | None:
    """What a person typed from the paper (spaces, dashes, capitals) → 12 hex digits, or None."""
    if not text:
        return None
    code = _CODE_NOISE.sub("", text.strip().lower())
    if len(code) != FINGERPRINT_LENGTH or not _HEX.match(code):
        return None
    return code


def normalise_text(text: str | None) -> str:
    """Line ends as ``\\n``, no trailing spaces on lines, no blank lines at either end."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def like_pattern(query: str) -> str:
    """``%query%`` for LIKE/ILIKE with ``\\`` as escape: ``%`` and ``_`` typed are literal."""
    q = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{q}%"


def excerpt(body: str, length: int = 90) -> str:
    """The start of the body on one line, cut at ``length`` characters with an ellipsis."""
    flat = " ".join((body or "").split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"
