"""Uploaded documents: checked by content (not by name), stored under a random name in the
instance folder, never served from ``static/``; the owning record decides who may download them.

Two levels:

* ``store(data, folder)`` / ``open_path(key)``: the bare file store (used directly by the
  election code for proxy forms and contracts).
* ``prepare(data, filename)`` → ``attach(actor, prepared, owner_type, owner_id)``: an
  ``Attachment`` row with sha256, size, type and the uploader's file name; photos lose their
  metadata (EXIF with GPS, XMP, comments) and get a thumbnail. ``can_view(viewer, attachment,
  now)`` asks the owner's visibility rule, registered with ``@owner_visibility("notice")``.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal import audit
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 48-megapixel phone photo is refused; 8000 × 5000 passes
THUMB_BOX = (480, 480)
MAX_FILES = 10
KINDS = {  # magic bytes -> (extension, mimetype)
    b"%PDF-": ("pdf", "application/pdf"),
    b"\xff\xd8\xff": ("jpg", "image/jpeg"),
    b"\x89PNG\r\n\x1a\n": ("png", "image/png"),
}
MIMETYPES = {ext: mime for ext, mime in KINDS.values()}
# Extensions a file name may keep for each kind; any other gets the kind's own added.
NAME_EXTENSIONS = {"pdf": ("pdf",), "jpg": ("jpg", "jpeg"), "png": ("png",)}
ATTACHMENT_FOLDER = "attachments"
THUMB_FOLDER = "thumbs"


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


def store(data: bytes, folder: str, clean: bool = True) -> str:
    """Store a document and return its key ``folder/<random>.<ext>``; refuse other content.

    Photos are stored without their metadata (EXIF with GPS, XMP), re-encoded as
    ``prepare()`` does, unless ``clean=False`` says the caller has done it already."""
    if not data:
        raise ValidationFailed(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_("The file is larger than %(mb)d MB.", mb=MAX_BYTES // 2**20))
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed(_("Only PDF, JPEG and PNG files can be attached."))
    if not folder.isidentifier():
        raise ValueError("bad folder")
    if clean and kind[0] in ("jpg", "png"):
        data = _clean_image(data, kind[0])[0]
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


# ---- checking and cleaning ----------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A checked upload, ready to store: the bytes as they will be served."""

    data: bytes
    ext: str
    mimetype: str
    name: str
    sha256: str
    thumb: bytes | None = None
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)


def clean_filename(name: str | None, ext: str) -> str:
    """The uploader's file name without folders or control characters, ending in an extension
    that matches the content: ``report.pdf`` stays, ``page.html`` (a JPEG) becomes
    ``page.html.jpg``."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().strip(".")
    stem, dot, given = base.rpartition(".")
    if dot and given.lower() in NAME_EXTENSIONS[ext]:
        stem = stem.strip()[:100] or "file"
        return f"{stem}.{given.lower()}"
    return f"{(base[:100].strip() or 'file')}.{ext}"


def _image_problem() -> ValidationFailed:
    return ValidationFailed(
        _("The picture could not be read. Save it again as a JPEG or PNG photo and retry.")
    )


def _clean_image(data: bytes, ext: str) -> tuple[bytes, bytes, int, int]:
    """Re-encode a photo without its metadata (EXIF incl. GPS, XMP, comments), turned upright
    as its EXIF orientation said; return (image, thumbnail, width, height)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    expected = {"jpg": "JPEG", "png": "PNG"}[ext]
    try:
        img = Image.open(io.BytesIO(data))
        if img.format != expected:
            raise _image_problem()
        width, height = img.size
        if width * height > MAX_PIXELS:
            raise ValidationFailed(
                _("The picture is too large (%(mp)d megapixels at most).", mp=MAX_PIXELS // 10**6)
            )
        img.load()
        upright = ImageOps.exif_transpose(img) or img
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _image_problem() from None
    icc = img.info.get("icc_profile")
    clean = upright.copy()
    clean.info = {}  # nothing of the original's metadata travels on
    params: dict = {"icc_profile": icc} if icc else {}
    out = io.BytesIO()
    if ext == "jpg":
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, "JPEG", quality=90, **params)
    else:
        clean.save(out, "PNG", optimize=True, **params)
    thumb_img = clean.copy()
    thumb_img.thumbnail(THUMB_BOX)
    thumb = io.BytesIO()
    if ext == "jpg":
        thumb_img.save(thumb, "JPEG", quality=82)
    else:
        thumb_img.save(thumb, "PNG", optimize=True)
    return out.getvalue(), thumb.getvalue(), clean.width, clean.height


def prepare(data: bytes, filename: str | None) -> Prepared:
    """Check a file by its content and clean it; ValidationFailed with a message otherwise."""
    if not data:
        raise ValidationFailed(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_("The file is larger than %(mb)d MB.", mb=MAX_BYTES // 2**20))
    kind = sniff(data)
    if kind is None:
        raise ValidationFailed(
            _(
                "%(name)s is not a PDF, JPEG or PNG file (the portal looks at the content, "
                "not at the name).",
                name=clean_filename(filename, "pdf")[:-4] or "?",
            )
        )
    ext, mimetype = kind
    thumb = width = height = None
    if ext in ("jpg", "png"):
        data, thumb, width, height = _clean_image(data, ext)
        if len(data) > MAX_BYTES:
            raise ValidationFailed(_("The file is larger than %(mb)d MB.", mb=MAX_BYTES // 2**20))
    return Prepared(
        data=data,
        ext=ext,
        mimetype=mimetype,
        name=clean_filename(filename, ext),
        sha256=hashlib.sha256(data).hexdigest(),
        thumb=thumb,
        width=width,
        height=height,
    )


def prepare_all(files: Iterable[tuple[str | None, bytes]]) -> list[Prepared]:
    """Check every file before any is stored: one bad file refuses the lot."""
    files = [(name, data) for name, data in files if data]
    if len(files) > MAX_FILES:
        raise ValidationFailed(_("Attach at most %(n)d files at a time.", n=MAX_FILES))
    return [prepare(data, name) for name, data in files]


# ---- attachments --------------------------------------------------------------------------


def attach(actor, prepared: Prepared, owner_type: str, owner_id: int, position: int = 0):
    """Store a prepared file and record it as an attachment of (owner_type, owner_id)."""
    from portal.uploads.models import Attachment

    key = store(prepared.data, ATTACHMENT_FOLDER, clean=False)  # cleaned by prepare()
    thumb_key = store(prepared.thumb, THUMB_FOLDER, clean=False) if prepared.thumb else None
    attachment = Attachment(
        owner_type=owner_type,
        owner_id=owner_id,
        position=position,
        key=key,
        thumb_key=thumb_key,
        sha256=prepared.sha256,
        size=prepared.size,
        mimetype=prepared.mimetype,
        original_name=prepared.name,
        width=prepared.width,
        height=prepared.height,
        uploaded_by_id=getattr(actor, "id", None),
    )
    db.session.add(attachment)
    db.session.flush()
    audit.record(
        "upload.stored",
        actor,
        attachment,
        owner=f"{owner_type}:{owner_id}",
        sha256=prepared.sha256,
        size=prepared.size,
        mimetype=prepared.mimetype,
    )
    return attachment


def attach_all(actor, prepared: list[Prepared], owner_type: str, owner_id: int, start: int = 0):
    return [
        attach(actor, p, owner_type, owner_id, position=start + i) for i, p in enumerate(prepared)
    ]


def copy_to(actor, attachments, owner_type: str, owner_id: int):
    """New attachment rows for another record, sharing the (immutable) stored files."""
    from portal.uploads.models import Attachment

    copies = []
    for a in attachments:
        copy = Attachment(
            owner_type=owner_type,
            owner_id=owner_id,
            position=a.position,
            key=a.key,
            thumb_key=a.thumb_key,
            sha256=a.sha256,
            size=a.size,
            mimetype=a.mimetype,
            original_name=a.original_name,
            width=a.width,
            height=a.height,
            uploaded_by_id=a.uploaded_by_id,
        )
        db.session.add(copy)
        copies.append(copy)
    db.session.flush()
    return copies


def remove(actor, attachment) -> None:
    """Detach a file from a record that is not yet public (the caller checks that)."""
    audit.record(
        "upload.removed",
        actor,
        attachment,
        owner=f"{attachment.owner_type}:{attachment.owner_id}",
        sha256=attachment.sha256,
    )
    db.session.delete(attachment)
    db.session.flush()


def attachments_of(owner_type: str, owner_ids: Iterable[int]) -> dict[int, list]:
    """The attachments of several records in one query: owner id -> attachments in order."""
    from portal.uploads.models import Attachment

    ids = sorted(set(owner_ids))
    result: dict[int, list] = {i: [] for i in ids}
    if not ids:
        return result
    rows = db.session.scalars(
        select(Attachment)
        .where(Attachment.owner_type == owner_type, Attachment.owner_id.in_(ids))
        .order_by(Attachment.position, Attachment.id)
    )
    for a in rows:
        result[a.owner_id].append(a)
    return result


def get_attachment(attachment_id: int):
    from portal.uploads.models import Attachment

    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound()
    return attachment


# ---- who may download ------------------------------------------------------------------------

Visibility = Callable[[object, int, datetime], bool]
_VISIBILITY: dict[str, Visibility] = {}


def owner_visibility(owner_type: str):
    """Register the rule deciding who sees the attachments of one kind of record:
    ``@owner_visibility("notice") def visible(viewer, owner_id, now) -> bool``."""

    def wrap(fn: Visibility) -> Visibility:
        _VISIBILITY[owner_type] = fn
        return fn

    return wrap


def can_view(viewer, attachment, now: datetime) -> bool:
    """What the owning record allows; a kind of record with no rule shows its files to no one."""
    rule = _VISIBILITY.get(attachment.owner_type)
    return bool(rule and rule(viewer, attachment.owner_id, now))


def file_of(attachment, thumb: bool = False) -> tuple[Path, str]:
    key = attachment.thumb_key if thumb else attachment.key
    if not key:
        raise NotFound()
    return open_path(key)
