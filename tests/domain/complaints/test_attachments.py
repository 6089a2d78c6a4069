"""A citizen's files: the type from the content (never the name), photos without GPS, PDFs whole."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from domain.complaints.attachments import FileRefused, Refusal, checked, display_name
from tests.support.files import GPS_IFD, exe, jpeg_with_gps, pdf, png

MB = 1024 * 1024


def test_a_photo_loses_its_gps_position_and_camera_but_keeps_its_picture():
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(GPS_IFD)  # the test photo really has a position
    attachment = checked("IMG_0001.jpg", original, 5 * MB)
    assert attachment.content_type == "image/jpeg"
    with Image.open(io.BytesIO(attachment.data)) as after:
        assert after.format == "JPEG" and after.size == (64, 48)
        exif = after.getexif()
        assert not exif.get_ifd(GPS_IFD) and 0x010F not in exif and "exif" not in after.info
        red, green, blue = after.getpixel((10, 10))
        assert red > 150 and green < 80 and blue < 80
    assert b"PhoneMaker" not in attachment.data
    assert attachment.sha256 == hashlib.sha256(attachment.data).hexdigest()


def test_a_png_is_re_encoded_and_a_pdf_kept_as_sent():
    image = checked("scan.png", png(), 5 * MB)
    assert image.content_type == "image/png" and image.data.startswith(b"\x89PNG")
    document = checked("letter.pdf", pdf(), 5 * MB)
    assert document.content_type == "application/pdf" and document.data == pdf()


@pytest.mark.parametrize(
    "name, data",
    [
        ("photo.jpg", exe()),  # a program named as a photo
        ("report.pdf", b"%PDF-1.4\nno trailer here"),  # a PDF header without its end
        ("a.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 20),  # a PNG header on nothing
        ("a.jpg", b"\xff\xd8\xff" + b"\x00" * 50),
        ("page.html", b"<html><script>alert(1)</script></html>"),
    ],
)
def test_the_type_is_found_from_the_content_never_the_name(name, data):
    with pytest.raises(FileRefused) as refused:
        checked(name, data, 5 * MB)
    assert refused.value.reason is Refusal.type


def test_a_png_named_pdf_is_taken_as_the_png_it_is():
    attachment = checked("not-really.pdf", png(), 5 * MB)
    assert attachment.content_type == "image/png"


def test_too_big_and_empty_files_are_refused_with_their_reason():
    with pytest.raises(FileRefused) as big:
        checked("big.pdf", pdf() + b"x" * 2000, 1000)
    assert big.value.reason is Refusal.size
    with pytest.raises(FileRefused) as empty:
        checked("empty.pdf", b"", 1000)
    assert empty.value.reason is Refusal.empty


def test_a_name_is_for_display_only():
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("C:\\Users\\me\\photo.jpg") == "photo.jpg"
    assert display_name("evil\u202egpj.exe") == "evilgpj.exe"  # no bidi override reaches a page
    assert display_name("", "application/pdf") == "file.pdf"
    long = display_name("x" * 300 + ".jpeg")
    assert len(long) <= 120 and long.endswith(".jpeg")
