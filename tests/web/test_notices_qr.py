"""The QR code on the printed notice decodes to the notice's URL.

No QR decoding library is installed, so this module carries a small decoder of its own for the
clean, server-drawn codes the portal prints: it reads the module matrix from the inline SVG
(segno's path of horizontal runs), finds the mask and error-correction level by trying each and
keeping the one whose every Reed-Solomon block checks out, and parses the numeric,
alphanumeric and byte segments. It shares no code with the encoder (segno), so a wrong URL,
a damaged SVG or a drawing mistake in the template would all fail the test.
"""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models_base import utcnow
from portal.notices import service as notices
from portal.notices.qr import qr_svg

# ---- a minimal QR decoder (versions 1-10, clean images) -----------------------------------------

ALIGNMENT = {
    1: [],
    2: [6, 18],
    3: [6, 22],
    4: [6, 26],
    5: [6, 30],
    6: [6, 34],
    7: [6, 22, 38],
    8: [6, 24, 42],
    9: [6, 26, 46],
    10: [6, 28, 50],
}
# version -> level -> (EC codewords per block, [(number of blocks, data codewords per block)])
BLOCKS = {
    1: {"L": (7, [(1, 19)]), "M": (10, [(1, 16)]), "Q": (13, [(1, 13)]), "H": (17, [(1, 9)])},
    2: {"L": (10, [(1, 34)]), "M": (16, [(1, 28)]), "Q": (22, [(1, 22)]), "H": (28, [(1, 16)])},
    3: {"L": (15, [(1, 55)]), "M": (26, [(1, 44)]), "Q": (18, [(2, 17)]), "H": (22, [(2, 13)])},
    4: {"L": (20, [(1, 80)]), "M": (18, [(2, 32)]), "Q": (26, [(2, 24)]), "H": (16, [(4, 9)])},
    5: {
        "L": (26, [(1, 108)]),
        "M": (24, [(2, 43)]),
        "Q": (18, [(2, 15), (2, 16)]),
        "H": (22, [(2, 11), (2, 12)]),
    },
    6: {"L": (18, [(2, 68)]), "M": (16, [(4, 27)]), "Q": (24, [(4, 19)]), "H": (28, [(4, 15)])},
    7: {
        "L": (20, [(2, 78)]),
        "M": (18, [(4, 31)]),
        "Q": (18, [(2, 14), (4, 15)]),
        "H": (26, [(4, 13), (1, 14)]),
    },
    8: {
        "L": (24, [(2, 97)]),
        "M": (22, [(2, 38), (2, 39)]),
        "Q": (22, [(4, 18), (2, 19)]),
        "H": (26, [(4, 14), (2, 15)]),
    },
    9: {
        "L": (30, [(2, 116)]),
        "M": (22, [(3, 36), (2, 37)]),
        "Q": (20, [(4, 16), (4, 17)]),
        "H": (24, [(4, 12), (4, 13)]),
    },
    10: {
        "L": (18, [(2, 68), (2, 69)]),
        "M": (26, [(4, 43), (1, 44)]),
        "Q": (24, [(6, 19), (2, 20)]),
        "H": (28, [(6, 15), (2, 16)]),
    },
}
MASKS = [
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
]
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

# GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1
EXP = [0] * 512
LOG = [0] * 256
_x = 1
for _i in range(255):
    EXP[_i] = _x
    LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    EXP[_i] = EXP[_i - 255]


def _gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else EXP[LOG[a] + LOG[b]]


def _syndromes_zero(block: list[int], n_ec: int) -> bool:
    """The codeword polynomial vanishes at alpha^0 .. alpha^(n_ec-1)."""
    for i in range(n_ec):
        value = 0
        for c in block:
            value = _gf_mul(value, EXP[i]) ^ c
        if value:
            return False
    return True


def matrix_from_svg(svg: str) -> list[list[bool]]:
    """The dark modules drawn by segno's path: ``M x y`` then ``h n`` (dark run) and
    ``m dx dy`` (relative move); y is a row's centre (row + 0.5)."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    d = re.search(r'<path[^>]*class="qr-modules"[^>]*d="([^"]+)"', svg)
    d = d or re.search(r'<path[^>]*stroke="#000"[^>]*d="([^"]+)"', svg)
    assert d, "no module path in the SVG"
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for cmd, args in re.findall(r"([MmHhVv])([^MmHhVv]*)", d.group(1)):
        nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if cmd == "M":
            x, y = nums
        elif cmd == "m":
            x, y = x + nums[0], y + nums[1]
        elif cmd == "h":
            row = int(y)
            for col in range(int(x), int(x + nums[0])):
                grid[row][col] = True
            x += nums[0]
        else:
            raise AssertionError(f"unexpected path command {cmd}")
    # drop the quiet zone: the first and last rows/columns holding a dark module
    rows = [r for r in range(size) if any(grid[r])]
    cols = [c for c in range(size) if any(grid[r][c] for r in range(size))]
    top, left = rows[0], cols[0]
    n = rows[-1] - top + 1
    return [[grid[top + r][left + c] for c in range(n)] for r in range(n)]


def _function_modules(version: int) -> list[list[bool]]:
    n = 17 + 4 * version
    f = [[False] * n for _ in range(n)]

    def box(r0, c0, h, w):
        for r in range(max(r0, 0), min(r0 + h, n)):
            for c in range(max(c0, 0), min(c0 + w, n)):
                f[r][c] = True

    box(0, 0, 9, 9)  # finder, separator, format information
    box(0, n - 8, 9, 8)
    box(n - 8, 0, 8, 9)  # … and the dark module
    box(6, 0, 1, n)  # timing patterns
    box(0, 6, n, 1)
    centres = ALIGNMENT[version]
    for r in centres:
        for c in centres:
            if (
                (r == 6 and c == 6)
                or (r == 6 and c == centres[-1])
                or (r == centres[-1] and c == 6)
            ):
                continue
            box(r - 2, c - 2, 5, 5)
    if version >= 7:
        box(0, n - 11, 6, 3)
        box(n - 11, 0, 3, 6)
    return f


def _read_codewords(m: list[list[bool]], version: int, mask) -> list[int]:
    n = len(m)
    func = _function_modules(version)
    bits = []
    col, upward = n - 1, True
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(n - 1, -1, -1) if upward else range(n)
        for r in rows:
            for c in (col, col - 1):
                if not func[r][c]:
                    bits.append(m[r][c] ^ mask(r, c))
        col -= 2
        upward = not upward
    return [
        int("".join("1" if b else "0" for b in bits[i : i + 8]), 2)
        for i in range(0, len(bits) - 7, 8)
    ]


def _deinterleave(codewords: list[int], version: int, level: str):
    n_ec, groups = BLOCKS[version][level]
    sizes = [k for count, k in groups for _ in range(count)]
    blocks = [[] for _ in sizes]
    pos = 0
    for i in range(max(sizes)):
        for b, k in enumerate(sizes):
            if i < k:
                blocks[b].append(codewords[pos])
                pos += 1
    for _i in range(n_ec):
        for b in range(len(sizes)):
            blocks[b].append(codewords[pos])
            pos += 1
    return blocks, sizes, n_ec


def _parse(data: list[int], version: int) -> str:
    bits = "".join(f"{b:08b}" for b in data)
    pos, out = 0, bytearray()

    def take(k):
        nonlocal pos
        value = int(bits[pos : pos + k], 2)
        pos += k
        return value

    small = version <= 9
    while pos + 4 <= len(bits):
        mode = take(4)
        if mode == 0:
            break
        if mode == 0b0100:  # byte
            for _ in range(take(8 if small else 16)):
                out.append(take(8))
        elif mode == 0b0010:  # alphanumeric
            count = take(9 if small else 11)
            for _ in range(count // 2):
                v = take(11)
                out += (ALNUM[v // 45] + ALNUM[v % 45]).encode()
            if count % 2:
                out += ALNUM[take(6)].encode()
        elif mode == 0b0001:  # numeric
            count = take(10 if small else 12)
            while count >= 3:
                out += f"{take(10):03d}".encode()
                count -= 3
            if count == 2:
                out += f"{take(7):02d}".encode()
            elif count == 1:
                out += f"{take(4):01d}".encode()
        elif mode == 0b0111:  # ECI designator: skip
            take(8)
        else:
            raise AssertionError(f"unsupported mode {mode:04b}")
    return out.decode("utf-8")


def decode_matrix(m: list[list[bool]]) -> str:
    n = len(m)
    version = (n - 17) // 4
    assert 17 + 4 * version == n and version in BLOCKS, f"unexpected size {n}"
    found = []
    for mask in MASKS:
        codewords = _read_codewords(m, version, mask)
        for level in "LMQH":
            blocks, sizes, n_ec = _deinterleave(codewords, version, level)
            if all(_syndromes_zero(b, n_ec) for b in blocks):
                data = [c for b, k in zip(blocks, sizes, strict=True) for c in b[:k]]
                found.append(_parse(data, version))
    assert len(found) >= 1, "no mask and level gave a valid code"
    assert len(set(found)) == 1, found
    return found[0]


def decode_svg(svg: str) -> str:
    return decode_matrix(matrix_from_svg(svg))


# ---- the decoder works --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "http://localhost/notices/1",
        "https://portal.example.cn/notices/123456",
        "HELLO WORLD 123",
        "01234567890123",
        "https://红色物业.example/公告/7",
        "x" * 200,
    ],
)
def test_the_decoder_reads_codes_of_every_shape(data):
    assert decode_svg(str(qr_svg(data))) == data


def test_the_decoder_notices_a_damaged_code():
    svg = str(qr_svg("http://localhost/notices/1"))
    m = matrix_from_svg(svg)
    m[12][12] = not m[12][12]  # one module flipped in the data area
    m[13][14] = not m[13][14]
    with pytest.raises(AssertionError):
        assert decode_matrix(m) == "http://localhost/notices/1"


# ---- the printed notice -------------------------------------------------------------------------


def _svg_of(html: str) -> str:
    m = re.search(r'<svg[^>]*class="qr"[^>]*>.*?</svg>', html, re.S)
    assert m, "no QR code on the page"
    return m.group(0)


def test_the_qr_code_on_the_printed_notice_decodes_to_the_notices_url(
    client, login_as, make_compound
):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    notice = notices.create_notice(
        secretary,
        "compound",
        compound,
        category="outage",
        title="停水通知",
        body="明天停水。",
        now=utcnow(),
    )
    db.session.commit()
    client.post_form("/logout")
    html = client.get(f"/notices/{notice.id}/print").get_data(as_text=True)
    url = decode_svg(_svg_of(html))
    assert url == f"http://localhost/notices/{notice.id}"
    # … and that address is the notice, for anyone.
    assert "停水通知" in client.get(url).get_data(as_text=True)
    # The page prints the same address in words, and the notice's check code.
    assert url in html and notice.fingerprint_grouped in html


def test_the_qr_code_follows_the_configured_host_and_scheme(app, client, login_as, make_compound):
    compound = make_compound()
    secretary = login_as("secretary", compound.community)
    notice = notices.create_notice(
        secretary, "compound", compound, category="other", title="通知", body="", now=utcnow()
    )
    db.session.commit()
    html = client.get(f"/notices/{notice.id}/print", base_url="https://portal.example.cn").get_data(
        as_text=True
    )
    assert decode_svg(_svg_of(html)) == f"https://portal.example.cn/notices/{notice.id}"
