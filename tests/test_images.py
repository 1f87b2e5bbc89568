"""Image dimensions from the first bytes of a file, and the resized-copy naming rule."""
from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import images


def png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def jpeg(width: int, height: int, exif_bytes: int = 0, progressive: bool = False) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", exif_bytes + 2) + b"\x00" * exif_bytes if exif_bytes else b""
    sof = b"\xff" + (b"\xc2" if progressive else b"\xc0") + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + app1 + sof + b"\xff\xda" + b"\x00" * 20


def webp(kind: str, width: int, height: int) -> bytes:
    if kind == "VP8 ":
        payload = b"\x00" * 3 + b"\x9d\x01\x2a" + struct.pack("<HH", width, height)
    elif kind == "VP8L":
        bits = (width - 1) | ((height - 1) << 14)
        payload = b"\x2f" + bits.to_bytes(4, "little")
    else:
        payload = b"\x00" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    chunk = kind.encode() + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


@pytest.mark.parametrize("data, size", [
    (png(640, 480), (640, 480)),
    (b"GIF89a" + struct.pack("<HH", 16, 9) + b"\x00" * 10, (16, 9)),
    (b"GIF87a" + struct.pack("<HH", 1, 2), (1, 2)),
    (jpeg(1920, 1080), (1920, 1080)),
    (jpeg(800, 600, exif_bytes=60_000, progressive=True), (800, 600)),
    (webp("VP8 ", 300, 200), (300, 200)),
    (webp("VP8L", 1024, 768), (1024, 768)),
    (webp("VP8X", 4000, 3000), (4000, 3000)),
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80px">', (120, 80)),
    (b'<svg viewBox="0 0 300 150" xmlns="http://www.w3.org/2000/svg"><rect/></svg>', (300, 150)),
    (b'<svg width="600" viewBox="0,0,300,150"></svg>', (600, 300)),
    (b'<svg width="100%" height="100%"></svg>', None),
    (png(0, 10), None),
    (png(10**6, 10), None),
    (b"\xff\xd8\xff\xe0\x00", None),  # truncated JPEG
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", None),  # truncated WebP
    (b"", None),
    (b"plain text, not an image", None),
])
def test_dimensions_of_each_format(data, size):
    assert images.dimensions(data) == size


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8", b"GIF89a", b"RIFF",
                                                 b"<svg ", b"\xff\xd8\xff\xc0"]))
def test_garbage_never_raises(data, prefix):
    found = images.dimensions(prefix + data)
    assert found is None or (0 < found[0] <= images.MAX_DIMENSION and 0 < found[1] <= images.MAX_DIMENSION)


def test_a_jpeg_whose_size_is_past_the_header_limit_is_unknown():
    assert images.dimensions(jpeg(10, 10, exif_bytes=60_000) * 1) == (10, 10)
    far = b"\xff\xd8" + (b"\xff\xe1" + struct.pack(">H", 65_000) + b"\x00" * 64_998) * 5 + jpeg(10, 10)[2:]
    assert images.dimensions(far) is None


def test_resized_copies_are_named_by_width():
    assert images.variant_of("figures/cat-480w.jpg") == ("figures/cat.jpg", 480)
    assert images.variant_of("cat-1200w.webp") == ("cat.webp", 1200)
    assert images.variant_of("cat.jpg") is None
    assert images.variant_of("cat-0w.jpg") is None
    assert images.variant_of("how-to-draw.png") is None
