"""A citizen's file, checked before it is kept: PDF, JPEG or PNG, by its content, never its name.

Images are opened and verified by Pillow, then re-encoded from their pixels, so nothing
but the picture is kept (no EXIF: no GPS position, no camera, no hidden payload). The
orientation the camera recorded is applied to the pixels first, so the picture still
stands the right way up. A PDF must start with its header and end with its trailer;
it is kept as sent (a PDF is not re-written here). The name is cleaned for display only.
"""

from __future__ import annotations

import enum
import hashlib
import io
import unicodedata
import warnings

from PIL import Image, ImageOps

from domain.complaints.filing import Attachment

FILENAME_MAX = 120
JPEG = b"\xff\xd8\xff"
PNG = b"\x89PNG\r\n\x1a\n"
PDF = b"%PDF-"
PDF_TRAILER_WINDOW = 1024  # %%EOF must be in the last KB (some writers add a newline or two)
MAX_PIXELS = 40_000_000  # a larger image is refused, not decoded (a decompression bomb)


class Refusal(str, enum.Enum):
    type = "type"  # not a PDF, JPEG or PNG (whatever its name says), or damaged
    size = "size"  # over COMPLAINT_ATTACHMENT_MAX_BYTES
    too_many = "count"  # over COMPLAINT_ATTACHMENTS_MAX
    empty = "empty"


class FileRefused(Exception):
    def __init__(self, reason: Refusal, filename: str = ""):
        super().__init__(reason.value)
        self.reason = reason
        self.filename = filename


def display_name(name: str | None, content_type: str = "") -> str:
    """The name's last part, without controls or bidi overrides, at most FILENAME_MAX long."""
    text = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "CZ" or ch == " ").strip(" .")
    if not text:
        text = "file." + {"application/pdf": "pdf", "image/png": "png"}.get(content_type, "jpg")
    if len(text) > FILENAME_MAX:
        stem, dot, suffix = text.rpartition(".")
        keep = suffix[:10] if dot else ""
        text = (stem if dot else text)[: FILENAME_MAX - len(keep) - 1] + ("." + keep if keep else "")
    return text


def sniffed(data: bytes) -> str | None:
    if data.startswith(PDF):
        return "application/pdf" if b"%%EOF" in data[-PDF_TRAILER_WINDOW:] else None
    if data.startswith(JPEG):
        return "image/jpeg"
    if data.startswith(PNG):
        return "image/png"
    return None


def _reencoded(data: bytes, content_type: str) -> bytes:
    fmt = "JPEG" if content_type == "image/jpeg" else "PNG"
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != fmt or probe.width * probe.height > MAX_PIXELS:
                raise ValueError("not the image its header says")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            if fmt == "JPEG" and upright.mode not in {"RGB", "L"}:
                upright = upright.convert("RGB")
            if fmt == "PNG" and upright.mode not in {"RGB", "RGBA", "L", "LA", "P", "1"}:
                upright = upright.convert("RGBA")
            # A fresh image from the pixels alone: no EXIF, ICC, XMP or text chunks carried over.
            clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
            if upright.mode == "P":
                palette = upright.getpalette()
                if palette:
                    clean.putpalette(palette)
                if "transparency" in upright.info and isinstance(upright.info["transparency"], int | bytes):
                    clean.info["transparency"] = upright.info["transparency"]
            out = io.BytesIO()
            if fmt == "JPEG":
                clean.save(out, "JPEG", quality=88, optimize=True)
            else:
                clean.save(out, "PNG", optimize=True)
            return out.getvalue()


def checked(filename: str | None, data: bytes, max_bytes: int) -> Attachment:
    """An Attachment ready to file, or FileRefused with the reason the citizen is told."""
    name = display_name(filename)
    if not data:
        raise FileRefused(Refusal.empty, name)
    if len(data) > max_bytes:
        raise FileRefused(Refusal.size, name)
    content_type = sniffed(data)
    if content_type is None:
        raise FileRefused(Refusal.type, name)
    if content_type != "application/pdf":
        try:
            data = _reencoded(data, content_type)
        except Exception:  # noqa: BLE001  Pillow raises many kinds for a damaged or hostile file
            raise FileRefused(Refusal.type, name) from None
        if len(data) > max_bytes:
            raise FileRefused(Refusal.size, name)
    return Attachment(
        filename=display_name(filename, content_type),
        content_type=content_type,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )
