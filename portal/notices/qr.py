"""QR codes as inline SVG markup, drawn on the server (segno): no script, no image request.
(Pure: no Flask.)"""

from __future__ import annotations

import io

import segno
from markupsafe import Markup

ERROR_LEVEL = "m"  # 15 % of the code may be soiled or torn and it still reads
QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_code(data: str) -> segno.QRCode:
    """The QR code of ``data`` (never a Micro QR: phone cameras do not all read them)."""
    return segno.make(data, error=ERROR_LEVEL, micro=False)


def qr_svg(data: str, label: str = "") -> Markup:
    """``<svg class="qr" viewBox=…>`` of ``data``; the size is left to the stylesheet."""
    buf = io.BytesIO()
    qr_code(data).save(
        buf,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        border=QUIET_ZONE,
        omitsize=True,
        svgclass="qr",
        lineclass="qr-modules",
        title=label or None,
        dark="#000",
        light="#fff",
    )
    svg = buf.getvalue().decode("utf-8")
    if label:
        svg = svg.replace("<svg ", '<svg role="img" ', 1)
    return Markup(svg)  # noqa: S704 - segno's own SVG; the data is inside attributes it escapes
