"""Small real files for upload tests: a photo with GPS EXIF, a PNG, a PDF, and impostors."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def jpeg_with_gps(size=(64, 48), colour=(200, 30, 30)) -> bytes:
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[0x0112] = 1  # Orientation: upright
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (36.0, 11.0, 24.0)  # Erbil
    gps[3] = "E"
    gps[4] = (44.0, 0.0, 36.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(size=(32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 120, 80, 255)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def exe() -> bytes:
    return b"MZ\x90\x00" + b"\x00" * 200
