"""The vendored htmx is the file recorded beside it, and the base layout loads exactly it."""

import hashlib
import re
from pathlib import Path

from portal import HTMX_VERSION

ROOT = Path(__file__).resolve().parents[2]


def test_htmx_file_matches_recorded_sha256():
    path = ROOT / "static" / "vendor" / f"htmx-{HTMX_VERSION}.min.js"
    readme = (ROOT / "static" / "vendor" / "README.md").read_text()
    row = next(line for line in readme.splitlines() if f"`htmx-{HTMX_VERSION}.min.js`" in line)
    recorded = re.search(r"`([0-9a-f]{64})`", row).group(1)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded


def test_no_cdn_references():
    for path in list((ROOT / "templates").rglob("*.html")) + [ROOT / "static/css/portal.css"]:
        text = path.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path
        assert "@import url(http" not in text, path
