"""Uploaded documents: checked by content (not by name), stored under a random name in the
instance folder, never served from ``static/``; routes decide who may download them."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from portal.errors import NotFound, ValidationFailed

MAX_BYTES = 10 * 1024 * 1024
KINDS = {  # magic bytes -> (extension, mimetype)
    b"%PDF-": ("pdf", "application/pdf"),
    b"\xff\xd8\xff": ("jpg", "image/jpeg"),
    b"\x89PNG\r\n\x1a\n": ("png", "image/png"),
}
MIMETYPES = {ext: mime for ext, mime in KINDS.values()}


def sniff(data: bytes) -> tuple[str, str] | None:
    for magic, kind in KINDS.items():
        if data.startswith(magic):
            return kind
    return None


def _root() -> Path:
    root = Path(
        current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads"
    )
    root.mkdir(parents=True, exist_ok=True)
    return root


def store(data: bytes, folder: str) -> str:
    """Store a document and return its key ``folder/<random>.<ext>``; refuse other content."""
    if not data:
        raise ValidationFailed(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_("The file is larger than %(mb)d MB.", mb=MAX_BYTES // 2**20))
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed(_("Only PDF, JPEG and PNG files can be attached."))
    if not folder.isidentifier():
        raise ValueError("bad folder")
    key = f"{folder}/{secrets.token_urlsafe(16)}.{kind[0]}"
    path = _root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return key


def open_path(key: str) -> tuple[Path, str]:
    """The file and its mimetype for a stored key; NotFound for anything else."""
    folder, _sep, name = (key or "").partition("/")
    stem, _dot, ext = name.partition(".")
    if not folder.isidentifier() or not stem or ext not in MIMETYPES:
        raise NotFound()
    if not all(c.isalnum() or c in "-_" for c in stem):
        raise NotFound()
    path = _root() / folder / name
    if not path.is_file():
        raise NotFound()
    return path, MIMETYPES[ext]
