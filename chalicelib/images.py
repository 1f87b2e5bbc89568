"""Image dimensions from a file's first bytes, and the naming rule for resized copies. Pure: no I/O.

No imaging library (the Lambda zip stays small): PNG, GIF, WebP and JPEG say their
size in their headers, SVG in its root element. The caller reads at most HEADER_BYTES
from the start of the file; `dimensions` never raises, whatever the bytes.

Resized copies (for `srcset`) are named `<stem>-<width>w.<ext>` beside the original:
`figures/cat.jpg` has `figures/cat-480w.jpg` and `figures/cat-1200w.jpg`. The renderer
offers every copy it is told about, with the original, as candidates of one `srcset`.
"""
from __future__ import annotations

import re
import struct

ASSETS_PREFIX = "assets/"  # a post's files: assets/<slug>/<name>, where <name> may hold subfolders
MAX_ASSET_NAME_CHARS = 300
HEADER_BYTES = 256 * 1024  # JPEG puts EXIF, ICC and XMP segments before its size: allow for big ones
MAX_DIMENSION = 100_000  # anything larger is garbage, not an image a page can show
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif"})

_VARIANT_RE = re.compile(r"^(?P<stem>.+)-(?P<width>[1-9]\d{0,4})w(?P<ext>\.[A-Za-z0-9]+)$")
_SVG_TAG_RE = re.compile(rb"<svg\b[^>]*>", re.I)
_SVG_ATTR_RE = re.compile(rb"""\s(width|height|viewBox)\s*=\s*["']([^"']*)["']""", re.I)
_SVG_LENGTH_RE = re.compile(rb"^\s*(\d+(?:\.\d+)?)\s*(px)?\s*$")
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels from the first bytes of an image; None if unknown or garbage."""
    head = bytes(data[:HEADER_BYTES])
    try:
        found = _png(head) or _gif(head) or _webp(head) or _jpeg(head) or _svg(head)
    except (struct.error, ValueError, IndexError):  # truncated or lying headers
        return None
    if found and 0 < found[0] <= MAX_DIMENSION and 0 < found[1] <= MAX_DIMENSION:
        return found
    return None


def asset_of(key: str) -> tuple[str, str] | None:
    """The post and the name of an asset key: 'assets/trip/figures/a.png' -> ('trip', 'figures/a.png')."""
    if not key.startswith(ASSETS_PREFIX):
        return None
    slug, _, name = key[len(ASSETS_PREFIX):].partition("/")
    if not slug or not name or name.endswith("/") or len(name) > MAX_ASSET_NAME_CHARS:
        return None
    return slug, name


def is_image(name: str) -> bool:
    """Does the name say it is an image whose size a page can use?"""
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in IMAGE_SUFFIXES


def variant_of(name: str) -> tuple[str, int] | None:
    """A resized copy's original name and width: 'a/cat-480w.jpg' -> ('a/cat.jpg', 480)."""
    found = _VARIANT_RE.match(name)
    if not found:
        return None
    return found.group("stem") + found.group("ext"), int(found.group("width"))


def _png(head: bytes) -> tuple[int, int] | None:
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _gif(head: bytes) -> tuple[int, int] | None:
    if head[:6] not in (b"GIF87a", b"GIF89a"):
        return None
    width, height = struct.unpack("<HH", head[6:10])
    return width, height


def _webp(head: bytes) -> tuple[int, int] | None:
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8 ":  # lossy: a 14-bit size after the frame tag and start code
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":  # lossless: 14-bit width-1 and height-1, packed
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: 24-bit canvas width-1 and height-1
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    return None


def _jpeg(head: bytes) -> tuple[int, int] | None:
    if head[:2] != b"\xff\xd8":
        return None
    position = 2
    # Each step jumps over one whole segment: at most len(head) / 4 steps.
    while position + 4 <= len(head):
        if head[position] != 0xFF:
            return None
        marker = head[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            position += 2
            continue
        (length,) = struct.unpack(">H", head[position + 2:position + 4])
        if length < 2:
            return None
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", head[position + 5:position + 9])
            return width, height
        if marker == 0xDA:  # the image data starts: no size was declared
            return None
        position += 2 + length
    return None


def _svg(head: bytes) -> tuple[int, int] | None:
    if b"<svg" not in head[:4096] and b"<SVG" not in head[:4096]:
        return None
    tag = _SVG_TAG_RE.search(head, 0, 16384)
    if not tag:
        return None
    attrs = {name.lower(): value for name, value in _SVG_ATTR_RE.findall(tag.group(0))}
    width, height = _svg_length(attrs.get(b"width")), _svg_length(attrs.get(b"height"))
    box = (attrs.get(b"viewbox") or b"").replace(b",", b" ").split()
    if width and height:
        return width, height
    if len(box) == 4:
        box_width, box_height = float(box[2]), float(box[3])
        if box_width > 0 and box_height > 0:
            if width:  # one given side and the box's shape give the other
                return width, round(width * box_height / box_width)
            if height:
                return round(height * box_width / box_height), height
            return round(box_width), round(box_height)
    return None


def _svg_length(value: bytes | None) -> int | None:
    """A length in pixels (unitless or px); None for %, em and other relative units."""
    found = _SVG_LENGTH_RE.match(value) if value is not None else None
    return round(float(found.group(1))) if found else None
