"""Downloads of attachments: the right type, never inline HTML or SVG, no sniffing, and only
for viewers the owning record allows (others get 404, as if the file did not exist)."""

from __future__ import annotations

from flask import send_file
from flask_login import current_user

from portal.errors import NotFound
from portal.models_base import utcnow
from portal.uploads import bp, service

# A downloaded file is a document, not a page: nothing in it may run or load anything.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'none'; frame-ancestors 'none'; sandbox"


def _send(attachment_id: int, thumb: bool):
    attachment = service.get_attachment(attachment_id)
    if not service.can_view(current_user, attachment, utcnow()):
        raise NotFound()
    path, mimetype = service.file_of(attachment, thumb=thumb)
    if mimetype != attachment.mimetype and not thumb:
        raise NotFound()
    inline = mimetype.startswith("image/")  # PDFs are downloaded, pictures may be shown
    resp = send_file(
        path,
        mimetype=mimetype,
        as_attachment=not inline,
        download_name=attachment.original_name,
        conditional=True,
        etag=f"{attachment.sha256[:32]}{'-t' if thumb else ''}",
        max_age=0,
    )
    h = resp.headers
    h["X-Content-Type-Options"] = "nosniff"
    h["Content-Security-Policy"] = FILE_CSP
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    h["Cache-Control"] = "private, no-cache"
    return resp


@bp.get("/files/<int:attachment_id>")
def file(attachment_id: int):
    return _send(attachment_id, thumb=False)


@bp.get("/files/<int:attachment_id>/thumb")
def thumb(attachment_id: int):
    return _send(attachment_id, thumb=True)
