"""Small evidence files for the demo: a one-page PDF (hand-built) and a JPEG photo with EXIF.

The PDF uses the standard CJK font ``STSong-Light`` with the ``UniGB-UCS2-H`` encoding, which
every PDF viewer provides without an embedded font, so the file stays ~1.5 KB and needs no PDF
library (weasyprint takes ~0.4 s a page; the demo writes a thousand of them). The photo is drawn
with Pillow (shapes only, no font) and carries EXIF ``DateTimeOriginal`` and a GPS position, as a
phone's photo does, so the evidence pages can show when and where it was taken.
"""

from __future__ import annotations

import io
import random
from datetime import datetime
from decimal import Decimal

from PIL import Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational

THUMBNAIL_SIZE = (240, 240)
PHOTO_SIZE = (480, 360)
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME = 0x0132
_DATETIME_ORIGINAL = 0x9003
_MAKE, _MODEL = 0x010F, 0x0110


def _utf16_hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def pdf_bytes(title: str, lines: list[str]) -> bytes:
    """Return a valid one-page A4 PDF showing ``title`` and ``lines`` (Chinese allowed)."""
    ops = ["BT", "/F1 16 Tf", "56 780 Td", f"<{_utf16_hex(title)}> Tj", "/F1 11 Tf"]
    for line in lines:
        ops += ["0 -22 Td", f"<{_utf16_hex(line)}> Tj"]
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        b"/FontDescriptor 7 0 R >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _dms(value: Decimal) -> tuple[IFDRational, IFDRational, IFDRational]:
    degrees = int(abs(value))
    minutes_full = (abs(value) - degrees) * 60
    minutes = int(minutes_full)
    seconds = (minutes_full - minutes) * 60
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(int(seconds * 100), 100)


def photo_bytes(rng: random.Random, *, taken_at: datetime, latitude: Decimal, longitude: Decimal) -> bytes:
    """Return a JPEG "site photo" (sky, hills, a building) with EXIF time and GPS position."""
    width, height = PHOTO_SIZE
    sky = (rng.randint(120, 170), rng.randint(170, 210), rng.randint(215, 245))
    image = Image.new("RGB", PHOTO_SIZE, sky)
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(height // 2, height * 2 // 3)
    for _ in range(3):  # hills
        x = rng.randint(-100, width)
        draw.ellipse(
            (x, horizon - rng.randint(40, 120), x + rng.randint(200, 380), horizon + 160),
            fill=(rng.randint(40, 90), rng.randint(110, 160), rng.randint(50, 90)),
        )
    draw.rectangle((0, horizon, width, height), fill=(rng.randint(90, 130), rng.randint(90, 120), 80))
    left = rng.randint(40, width - 200)
    top = horizon - rng.randint(60, 140)
    draw.rectangle((left, top, left + rng.randint(100, 180), horizon + 20), fill=(225, 220, 205))
    for row in range(top + 12, horizon, 24):  # windows
        for col in range(left + 10, left + 90, 22):
            draw.rectangle((col, row, col + 10, row + 12), fill=(70, 90, 120))
    draw.rectangle((left - 6, top - 8, left + 190, top), fill=(160, 40, 40))  # a red banner
    exif = Image.Exif()
    stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    exif[_MAKE], exif[_MODEL], exif[_DATETIME] = "Jixiao Demo", "Site Camera", stamp
    exif.get_ifd(_EXIF_IFD)[_DATETIME_ORIGINAL] = stamp
    gps = exif.get_ifd(_GPS_IFD)
    gps[1] = "N" if latitude >= 0 else "S"
    gps[2] = _dms(latitude)
    gps[3] = "E" if longitude >= 0 else "W"
    gps[4] = _dms(longitude)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70, exif=exif.tobytes())
    return out.getvalue()


def thumbnail_bytes(jpeg: bytes) -> bytes:
    """Return a JPEG thumbnail (at most 240 × 240) of ``jpeg``."""
    with Image.open(io.BytesIO(jpeg)) as image:
        image.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=70)
    return out.getvalue()
